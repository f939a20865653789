"""The scheduled 沿用 of 个人工资年度申报: daily on the long cluster, for every year whose
declaration window has closed (a year already carried over finds nobody left)."""

from django.db import migrations

NAME = "annual-wage-carry-over"


def create(apps, schema_editor) -> None:
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=NAME,
        defaults={
            "func": "shebao.business.annual_wage.carry_over_job",
            "schedule_type": "D",  # Schedule.DAILY
            "repeats": -1,
            "cluster": "long",
        },
    )


def delete(apps, schema_editor) -> None:
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more")]

    operations = [migrations.RunPython(create, delete)]
