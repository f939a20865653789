"""The API's schedules, on the outbox cluster:

- deliver-webhooks: every minute, webhook deliveries due (retries with backoff, re-sends) and
  outbox rows of the last day whose queued fan-out was lost.
- prune-api-records: daily, rate and quota counters past their window and idempotency keys
  past their time.
"""

from django.db import migrations

SCHEDULES = [
    {"name": "deliver-webhooks", "func": "shebao.api.jobs.deliver_due_job", "schedule_type": "I", "minutes": 1},
    {"name": "prune-api-records", "func": "shebao.api.jobs.prune_job", "schedule_type": "D", "minutes": None},
]


def create(apps, schema_editor) -> None:
    Schedule = apps.get_model("django_q", "Schedule")
    for spec in SCHEDULES:
        defaults = {key: value for key, value in spec.items() if key != "name"}
        Schedule.objects.update_or_create(name=spec["name"], defaults={**defaults, "repeats": -1, "cluster": "outbox"})


def delete(apps, schema_editor) -> None:
    apps.get_model("django_q", "Schedule").objects.filter(name__in=[s["name"] for s in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
        ("api", "0002_apitoken_webhook_since"),
    ]

    operations = [migrations.RunPython(create, delete)]
