"""Migrating to one contribution base per insurance type carries the existing bases over
(register 0007/0008): each type the person has at the employer gets the declared wage clamped
to that type's limits of the year, as its contribution lines already were."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

# Employers 0004 (wage_tier) is no dependency of register 0006: it is migrated back too.
BEFORE = [("register", "0006_verbose_names"), ("employers", "0003_verbose_names")]
AFTER = [("register", "0008_base_per_insurance_type_unique")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_old_bases_become_one_per_insurance_type_with_that_types_limits():
    apps = _migrate(BEFORE)
    try:
        Office = apps.get_model("employers", "Office")
        Employer = apps.get_model("employers", "Employer")
        Person = apps.get_model("register", "Person")
        Relation = apps.get_model("register", "Relation")
        Base = apps.get_model("register", "ContributionBase")
        BaseLimit = apps.get_model("params", "BaseLimit")
        limits = {}
        for itype, floor in (("pension", "4498"), ("medical", "5000"), ("unemployment", "4498")):
            limits[itype] = BaseLimit.objects.create(
                year=2035,
                insurance_type=itype,
                effective_from=dt.date(2035, 1, 1),
                average_wage=Decimal("7496"),
                floor=Decimal(floor),
                ceiling=Decimal("22488"),
            )
        office = Office.objects.create(code="T01", name="测试经办机构", address="测试地址", hours="工作日")
        employer = Employer.objects.create(
            number="20009999", name="迁移测试单位", credit_code="91420102MA4KXXXX0A", office=office
        )
        known = Person.objects.create(
            id_key="01:420102199003070011",
            id_type="01",
            id_number="420102199003070011",
            name="张三",
            sex="1",
            birth_date=dt.date(1990, 3, 7),
        )
        lonely = Person.objects.create(
            id_key="01:420102199003070038",
            id_type="01",
            id_number="420102199003070038",
            name="李四",
            sex="1",
            birth_date=dt.date(1990, 3, 7),
        )
        for itype in ("pension", "medical", "unemployment"):
            Relation.objects.create(
                person=known,
                employer=employer,
                insurance_type=itype,
                status="contributing",
                start_month=dt.date(2035, 1, 1),
            )
        # 2036 has no limits of its own: the 2035 rows apply, provisionally.
        for person, year in ((known, 2035), (known, 2036), (lonely, 2035)):
            Base.objects.create(
                person=person,
                employer=employer,
                year=year,
                declared_wage=Decimal("4700"),
                base=Decimal("4700"),
                limits=limits["pension"],
            )

        apps = _migrate(AFTER)
        Base = apps.get_model("register", "ContributionBase")
        rows = {
            (b.person_id, b.year, b.insurance_type): (b.declared_wage, b.base, b.limits_id, b.provisional)
            for b in Base.objects.all()
        }
        assert rows == {
            (known.pk, 2035, "pension"): (Decimal("4700.00"), Decimal("4700.00"), limits["pension"].pk, False),
            (known.pk, 2035, "medical"): (Decimal("4700.00"), Decimal("5000.00"), limits["medical"].pk, False),
            (known.pk, 2035, "unemployment"): (
                Decimal("4700.00"),
                Decimal("4700.00"),
                limits["unemployment"].pk,
                False,
            ),
            (known.pk, 2036, "pension"): (Decimal("4700.00"), Decimal("4700.00"), limits["pension"].pk, True),
            (known.pk, 2036, "medical"): (Decimal("4700.00"), Decimal("5000.00"), limits["medical"].pk, True),
            (known.pk, 2036, "unemployment"): (Decimal("4700.00"), Decimal("4700.00"), limits["unemployment"].pk, True),
            # No relation there: one row, of the type of the limits it used.
            (lonely.pk, 2035, "pension"): (Decimal("4700.00"), Decimal("4700.00"), limits["pension"].pk, False),
        }

        # Back again: one row per person, employer and year.
        apps = _migrate(BEFORE)
        Base = apps.get_model("register", "ContributionBase")
        assert sorted(Base.objects.values_list("person_id", "year")) == sorted(
            [(known.pk, 2035), (known.pk, 2036), (lonely.pk, 2035)]
        )
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
