"""The employer's task-list version, moved from shebao.workflow (whose 0006 renamed the table).

State only: the table employers_taskliststamp and its rows exist already.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("employers", "0001_initial"),
        ("workflow", "0006_task_list_stamp_moves_to_employers"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="TaskListStamp",
                    fields=[
                        (
                            "employer",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                primary_key=True,
                                related_name="task_list_stamp",
                                serialize=False,
                                to="employers.employer",
                            ),
                        ),
                        ("version", models.BigIntegerField(default=0)),
                    ],
                    options={
                        "verbose_name": "任务列表版本",
                        "verbose_name_plural": "任务列表版本",
                    },
                ),
            ],
        ),
    ]
