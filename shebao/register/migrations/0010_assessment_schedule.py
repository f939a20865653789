"""The scheduled 月度缴费核定: daily on the long cluster, catching up every month due through
the current one (a month already finished is skipped at once)."""

from django.db import migrations

NAME = "assess-months"


def create(apps, schema_editor) -> None:
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=NAME,
        defaults={
            "func": "shebao.register.jobs.assess_due_months_job",
            "schedule_type": "D",  # Schedule.DAILY
            "repeats": -1,
            "cluster": "long",
        },
    )


def delete(apps, schema_editor) -> None:
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
        ("register", "0009_assessment_run"),
    ]

    operations = [migrations.RunPython(create, delete)]
