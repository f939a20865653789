"""The base uniqueness includes the insurance type (after 0007 split the rows)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("register", "0007_base_per_insurance_type")]

    operations = [
        migrations.AddConstraint(
            model_name="contributionbase",
            constraint=models.UniqueConstraint(
                fields=("person", "employer", "year", "insurance_type"), name="base_person_employer_year_type_uniq"
            ),
        ),
    ]
