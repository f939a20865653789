from django.db import migrations


class Migration(migrations.Migration):
    """audit_started_at becomes heartbeat_at: imports, not only audits, now keep it."""

    dependencies = [("workflow", "0003_task_list_stamp")]

    operations = [
        migrations.RenameField(model_name="transaction", old_name="audit_started_at", new_name="heartbeat_at"),
    ]
