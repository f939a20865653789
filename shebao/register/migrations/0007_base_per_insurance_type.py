"""One contribution base per insurance type (DOMAIN §3), existing data carried over.

A base row held one base per person, employer and year, clamped with the limits of the
person's first insurance type. It becomes one row per insurance type the person has (or had)
at that employer: the stored declared wage clamped to that year's limits of that type, as the
contribution lines already were (they clamp per type), with the limits row it used and whether
it was another year's (provisional). A person without a relation there keeps one row, of the
type of the limits it used (养老 if none is recorded).
"""

from decimal import ROUND_HALF_UP, Decimal

from django.db import migrations, models

ORDER = ("pension", "medical", "unemployment", "injury", "maternity")
CHUNK = 2000


def _limits(rows_of, year, itype):
    """The limits a year takes for a type, as ParamSnapshot.base_limits does: the year's own
    newest row, else the latest published year before it (provisional), else the earliest after."""
    years = sorted({y for (y, t) in rows_of if t == itype}, key=lambda y: (y > year, abs(y - year)))
    for candidate in years:
        row = max(rows_of[(candidate, itype)], key=lambda r: r.effective_from)
        return row, candidate != year
    return None, False


def _clamp(wage, row):
    if row is None:
        return wage
    return min(max(wage, row.floor), row.ceiling).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def split(apps, schema_editor):
    Base = apps.get_model("register", "ContributionBase")
    Relation = apps.get_model("register", "Relation")
    BaseLimit = apps.get_model("params", "BaseLimit")
    rows_of = {}
    for row in BaseLimit.objects.all():
        rows_of.setdefault((row.year, row.insurance_type), []).append(row)
    limit_type = dict(BaseLimit.objects.values_list("pk", "insurance_type"))
    last = 0
    while True:
        chunk = list(Base.objects.filter(pk__gt=last, insurance_type="").order_by("pk")[:CHUNK])
        if not chunk:
            break
        last = chunk[-1].pk
        types_of = {}
        for person_id, employer_id, itype in Relation.objects.filter(
            person_id__in={b.person_id for b in chunk}
        ).values_list("person_id", "employer_id", "insurance_type"):
            types_of.setdefault((person_id, employer_id), set()).add(itype)
        changed, added = [], []
        for base in chunk:
            types = sorted(types_of.get((base.person_id, base.employer_id), ()), key=ORDER.index)
            if not types:
                types = [limit_type.get(base.limits_id, "pension")]
            for n, itype in enumerate(types):
                row, provisional = _limits(rows_of, base.year, itype)
                fields = {
                    "insurance_type": itype,
                    "base": _clamp(base.declared_wage, row) if row is not None else base.base,
                    "limits_id": row.pk if row is not None else base.limits_id,
                    "provisional": provisional if row is not None else base.provisional,
                }
                if n == 0:
                    for key, value in fields.items():
                        setattr(base, key, value)
                    changed.append(base)
                else:
                    added.append(
                        Base(
                            person_id=base.person_id,
                            employer_id=base.employer_id,
                            year=base.year,
                            declared_wage=base.declared_wage,
                            transaction_id=base.transaction_id,
                            created_at=base.created_at,
                            updated_at=base.updated_at,
                            **fields,
                        )
                    )
        Base.objects.bulk_update(changed, ["insurance_type", "base", "limits_id", "provisional"])
        Base.objects.bulk_create(added, batch_size=CHUNK)


def join(apps, schema_editor):
    """Back to one row per person, employer and year: the first type's row is kept."""
    Base = apps.get_model("register", "ContributionBase")
    seen, doomed = set(), []
    rows = Base.objects.values_list("pk", "person_id", "employer_id", "year", "insurance_type")
    for pk, person_id, employer_id, year, _itype in sorted(rows, key=lambda r: (r[1], r[2], r[3], ORDER.index(r[4]))):
        if (person_id, employer_id, year) in seen:
            doomed.append(pk)
        seen.add((person_id, employer_id, year))
    for start in range(0, len(doomed), CHUNK):
        Base.objects.filter(pk__in=doomed[start : start + CHUNK]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("params", "0004_verbose_names"),
        ("register", "0006_verbose_names"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="contributionbase", name="base_person_employer_year_uniq"),
        migrations.AddField(
            model_name="contributionbase",
            name="insurance_type",
            field=models.CharField(
                choices=[
                    ("pension", "养老"),
                    ("medical", "医疗"),
                    ("unemployment", "失业"),
                    ("injury", "工伤"),
                    ("maternity", "生育"),
                ],
                default="",
                max_length=20,
                verbose_name="险种",
            ),
            preserve_default=False,
        ),
        # The rows it adds are committed (with their deferred foreign-key checks) before the
        # next migration adds the new unique constraint: PostgreSQL refuses to alter a table
        # with pending trigger events in the same transaction.
        migrations.RunPython(split, join),
    ]
