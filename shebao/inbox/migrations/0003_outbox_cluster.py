"""deliver-outbox runs on the outbox cluster, which delivers the outbox (messages, webhooks)
apart from the single audits of the short cluster."""

from django.db import migrations


def to_outbox(apps, schema_editor) -> None:
    apps.get_model("django_q", "Schedule").objects.filter(name="deliver-outbox").update(cluster="outbox")


def to_short(apps, schema_editor) -> None:
    apps.get_model("django_q", "Schedule").objects.filter(name="deliver-outbox").update(cluster="short")


class Migration(migrations.Migration):
    dependencies = [("inbox", "0002_schedules")]

    operations = [migrations.RunPython(to_outbox, to_short)]
