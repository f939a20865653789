"""The published parameters seeded by params migration 0002, as ParamSnapshot answers them."""

from __future__ import annotations

import datetime as dt
import importlib
from decimal import Decimal

from django.apps import apps
from django.db.migrations.recorder import MigrationRecorder

from shebao.params.models import BaseLimit, InjuryRate, Rate, RetirementRule
from shebao.params.services import ParamSnapshot

seed = importlib.import_module("shebao.params.migrations.0002_seed_published_parameters")


def test_the_seed_migration_is_applied(db):
    assert MigrationRecorder.Migration.objects.filter(app="params", name="0002_seed_published_parameters").exists()


def test_seeding_twice_creates_no_duplicates(params):
    counts = [
        BaseLimit.objects.filter(year=2025).count(),
        Rate.objects.count(),
        InjuryRate.objects.count(),
        RetirementRule.objects.count(),
    ]
    seed.seed_published(apps)
    assert (
        [
            BaseLimit.objects.filter(year=2025).count(),
            Rate.objects.count(),
            InjuryRate.objects.count(),
            RetirementRule.objects.count(),
        ]
        == counts
        == [5, 4, 8, 3]
    )


def test_2025_base_limits_are_the_published_hubei_tier1_values(params):
    for itype in ("pension", "medical", "unemployment", "injury", "maternity"):
        limits = params.base_limits(2025, itype)
        assert (limits.floor, limits.ceiling, limits.average) == (Decimal("4498"), Decimal("22488"), Decimal("7496"))
    # Stored as published, not computed: 60 % of 7,496 would be 4,497.60.
    assert params.base_limits(2025, "pension").floor != Decimal("7496") * Decimal("0.6")
    row = BaseLimit.objects.get(year=2025, insurance_type="pension", effective_from=dt.date(2025, 1, 1))
    assert "湖北省2025年全口径城镇单位就业人员平均工资" in row.note


def test_current_year_limits_exist_for_enrolment_in_the_demo_and_tests(params):
    year = dt.date.today().year
    assert params.base_limits(year, "pension") is not None


def test_rates(params):
    month = dt.date(2025, 6, 1)
    pension = params.rate("pension", month)
    assert (pension.employer, pension.personal) == (Decimal("0.16"), Decimal("0.08"))
    assert not Rate.objects.get(insurance_type="pension").illustrative
    medical = params.rate("medical", month)
    assert (medical.employer, medical.personal) == (Decimal("0.08"), Decimal("0.02"))
    for itype in ("medical", "unemployment", "maternity"):
        row = Rate.objects.get(insurance_type=itype)
        assert row.illustrative and row.note == "示例数据"
    assert params.rate("pension", dt.date(2019, 4, 1)) is None  # before the 2019-05 rates


def test_injury_rates_by_risk_class_and_float(params):
    month = dt.date(2025, 6, 1)
    expected = ["0.002", "0.004", "0.007", "0.009", "0.011", "0.013", "0.016", "0.019"]
    assert [params.rate("injury", month, risk_class=c).employer for c in range(1, 9)] == [Decimal(e) for e in expected]
    assert params.rate("injury", month, risk_class=1).personal == 0
    assert params.rate("injury", month, risk_class=2, float_percent=150).employer == Decimal("0.006")


def retirement(params, birth, sex="1", identity="worker"):
    return params.retirement_month(sex=sex, identity=identity, birth_date=birth)


def test_men_born_1965_01_retire_at_60_years_1_month(params):
    assert retirement(params, dt.date(1965, 1, 15)) == dt.date(2025, 2, 1)


def test_men_born_before_the_reform_retire_at_60(params):
    assert retirement(params, dt.date(1964, 12, 31)) == dt.date(2024, 12, 1)


def test_men_born_1976_09_or_later_retire_at_63(params):
    assert retirement(params, dt.date(1976, 9, 1)) == dt.date(2039, 9, 1)  # 63 years
    assert retirement(params, dt.date(1980, 3, 1)) == dt.date(2043, 3, 1)
    assert retirement(params, dt.date(1976, 8, 1)) == dt.date(2039, 7, 1)  # 62 years 11 months


def test_woman_worker_born_1975_01(params):
    # Original age 50 -> 2025-01, k = 0 months after the reform start: delay min(60, 0 // 2 + 1) = 1.
    assert retirement(params, dt.date(1975, 1, 10), sex="2", identity="worker") == dt.date(2025, 2, 1)
    # Born 1977-03: original 2027-03, k = 26, delay 26 // 2 + 1 = 14 months.
    assert retirement(params, dt.date(1977, 3, 1), sex="2", identity="worker") == dt.date(2028, 5, 1)
    # Capped at +60 months (55 years) from k = 118 on, e.g. born 1984-11 -> 2034-11 + 60.
    assert retirement(params, dt.date(1990, 1, 1), sex="2", identity="worker") == dt.date(2045, 1, 1)


def test_woman_cadre_born_1970_01(params):
    # Original age 55 -> 2025-01, k = 0: delay 1; cap +36 (58 years).
    assert retirement(params, dt.date(1970, 1, 1), sex="2", identity="cadre") == dt.date(2025, 2, 1)
    assert retirement(params, dt.date(1985, 1, 1), sex="2", identity="cadre") == dt.date(2043, 1, 1)


def test_snapshot_without_rows_answers_none(db):
    assert ParamSnapshot().base_limits(2025, "pension") is None
    assert ParamSnapshot().retirement_month(sex="1", identity="", birth_date=dt.date(1970, 1, 1)) is None
