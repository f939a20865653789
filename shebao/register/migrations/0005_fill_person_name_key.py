"""Fill the pinyin sort key of the persons already on the register."""

from django.db import migrations

from shebao.core.pinyin import name_sort_key


def fill(apps, schema_editor):
    Person = apps.get_model("register", "Person")
    batch = []
    for person in Person.objects.only("id", "name").order_by("id").iterator(chunk_size=2000):
        person.name_key = name_sort_key(person.name)
        batch.append(person)
        if len(batch) >= 2000:
            Person.objects.bulk_update(batch, ["name_key"])
            batch = []
    if batch:
        Person.objects.bulk_update(batch, ["name_key"])


class Migration(migrations.Migration):
    dependencies = [("register", "0004_person_name_key")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop, elidable=True)]
