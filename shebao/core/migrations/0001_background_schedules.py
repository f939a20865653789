"""Recurring background jobs (django-q2 schedules), created or updated by name.

- expire-drafts: hourly, cancels drafts untouched for the expiry parameter (DOMAIN §4).
  It runs on the "long" cluster: a housekeeping sweep must never delay a single audit.
- sweep-stuck-audits: every minute on the "short" cluster, re-queues audits stuck in
  "auditing" for longer than SHEBAO_AUDIT_STUCK_SECONDS.
"""

from django.db import migrations

SCHEDULES = [
    {
        "name": "expire-drafts",
        "func": "shebao.workflow.jobs.expire_drafts_job",
        "schedule_type": "H",  # Schedule.HOURLY
        "minutes": None,
        "cluster": "long",
    },
    {
        "name": "sweep-stuck-audits",
        "func": "shebao.workflow.jobs.sweep_stuck_audits_job",
        "schedule_type": "I",  # Schedule.MINUTES
        "minutes": 1,
        "cluster": "short",
    },
]


def create_schedules(apps, schema_editor) -> None:
    Schedule = apps.get_model("django_q", "Schedule")
    for spec in SCHEDULES:
        defaults = {key: value for key, value in spec.items() if key != "name"}
        defaults["repeats"] = -1
        Schedule.objects.update_or_create(name=spec["name"], defaults=defaults)


def delete_schedules(apps, schema_editor) -> None:
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(name__in=[spec["name"] for spec in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more")]

    operations = [migrations.RunPython(create_schedules, delete_schedules)]
