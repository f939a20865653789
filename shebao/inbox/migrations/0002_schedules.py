"""The message centre's schedules, on the short cluster:

- deliver-outbox: every minute, delivers outbox rows whose queued delivery has not run.
- warn-expiring-drafts: daily, writes the outbox row that warns of a draft's automatic 退单
  (once per draft and last change).
"""

from django.db import migrations

SCHEDULES = [
    {"name": "deliver-outbox", "func": "shebao.inbox.jobs.deliver_pending_job", "schedule_type": "I", "minutes": 1},
    {
        "name": "warn-expiring-drafts",
        "func": "shebao.workflow.jobs.warn_expiring_drafts_job",
        "schedule_type": "D",
        "minutes": None,
    },
]


def create(apps, schema_editor) -> None:
    Schedule = apps.get_model("django_q", "Schedule")
    for spec in SCHEDULES:
        defaults = {key: value for key, value in spec.items() if key != "name"}
        Schedule.objects.update_or_create(name=spec["name"], defaults={**defaults, "repeats": -1, "cluster": "short"})


def delete(apps, schema_editor) -> None:
    apps.get_model("django_q", "Schedule").objects.filter(name__in=[s["name"] for s in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
        ("inbox", "0001_initial"),
    ]

    operations = [migrations.RunPython(create, delete)]
