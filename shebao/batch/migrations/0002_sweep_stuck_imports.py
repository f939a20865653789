"""The schedule sweep-stuck-imports: every minute on the "short" cluster (the long one may be
busy with a big batch for minutes), re-queues imports silent in "importing" for longer
than SHEBAO_AUDIT_STUCK_SECONDS."""

from django.db import migrations

SCHEDULE = {
    "name": "sweep-stuck-imports",
    "func": "shebao.batch.jobs.sweep_stuck_imports_job",
    "schedule_type": "I",  # Schedule.MINUTES
    "minutes": 1,
    "cluster": "short",
    "repeats": -1,
}


def create_schedule(apps, schema_editor) -> None:
    Schedule = apps.get_model("django_q", "Schedule")
    defaults = {key: value for key, value in SCHEDULE.items() if key != "name"}
    Schedule.objects.update_or_create(name=SCHEDULE["name"], defaults=defaults)


def delete_schedule(apps, schema_editor) -> None:
    apps.get_model("django_q", "Schedule").objects.filter(name=SCHEDULE["name"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("batch", "0001_upload_file"),
        ("core", "0001_background_schedules"),
    ]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
