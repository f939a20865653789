"""The task-list stamp becomes the employer's: the model moves to shebao.employers.

The table is renamed, not recreated, so every employer keeps its version (and the cached
首页 lists keyed by it stay valid). employers 0002 declares the model in its new app.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("workflow", "0005_transaction_job_attempts"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterModelTable(name="TaskListStamp", table="employers_taskliststamp"),
            ],
            state_operations=[
                migrations.DeleteModel(name="TaskListStamp"),
            ],
        ),
    ]
