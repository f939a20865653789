"""Seed the published parameter rows (DOMAIN §7).

Real, published values: the Hubei 2025 tier-1 (Wuhan) base limits, the pension rates, the
work-injury base rates per risk class and the retirement-age rules of the 2025 reform.
Medical, unemployment and maternity rates are illustrative (marked ``illustrative=True``):
an administrator replaces them with the city's published values in 系统管理.

``seed_published(apps)`` is idempotent (update_or_create on each row's natural key) so that
tests and ``manage.py seed_demo`` can re-apply it after a database flush.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import migrations

INSURANCE_TYPES = ("pension", "medical", "unemployment", "injury", "maternity")

BASE_LIMIT_NOTE = "湖北省2025年全口径城镇单位就业人员平均工资（武汉市一档），待与省级通知核对"
BASE_LIMITS = {
    # year: (average wage, floor, ceiling), all as published (never computed)
    2025: (Decimal("7496"), Decimal("4498"), Decimal("22488")),
}
BASE_LIMITS_FROM = dt.date(2025, 1, 1)

RATES_FROM = dt.date(2019, 5, 1)
RATES = {
    # insurance type: (employer, personal, illustrative, note)
    "pension": (Decimal("0.16"), Decimal("0.08"), False, "国办发〔2019〕13号：单位16%，个人8%"),
    "medical": (Decimal("0.08"), Decimal("0.02"), True, "示例数据"),
    "unemployment": (Decimal("0.007"), Decimal("0.003"), True, "示例数据"),
    "maternity": (Decimal("0.007"), Decimal("0"), True, "示例数据"),
}

INJURY_FROM = dt.date(2015, 10, 1)
INJURY_RATES = {
    1: Decimal("0.002"),
    2: Decimal("0.004"),
    3: Decimal("0.007"),
    4: Decimal("0.009"),
    5: Decimal("0.011"),
    6: Decimal("0.013"),
    7: Decimal("0.016"),
    8: Decimal("0.019"),
}
INJURY_NOTE = "人社部发〔2015〕71号：一至八类行业基准费率"

RETIREMENT_FROM = dt.date(1951, 1, 1)
RETIREMENT_REFORM = dt.date(2025, 1, 1)
RETIREMENT_RULES = {
    # category: (original age, step months, cap months)
    "male": (60, 4, 36),
    "female_cadre": (55, 4, 36),
    "female_worker": (50, 2, 60),
}
RETIREMENT_NOTE = "原法定退休年龄；2025-01-01起按《关于实施渐进式延迟法定退休年龄的决定》逐步延迟"


def seed_published(apps) -> None:
    BaseLimit = apps.get_model("params", "BaseLimit")
    Rate = apps.get_model("params", "Rate")
    InjuryRate = apps.get_model("params", "InjuryRate")
    RetirementRule = apps.get_model("params", "RetirementRule")

    for year, (average, floor, ceiling) in BASE_LIMITS.items():
        for itype in INSURANCE_TYPES:
            BaseLimit.objects.update_or_create(
                year=year,
                insurance_type=itype,
                effective_from=BASE_LIMITS_FROM,
                defaults={"average_wage": average, "floor": floor, "ceiling": ceiling, "note": BASE_LIMIT_NOTE},
            )
    for itype, (employer, personal, illustrative, note) in RATES.items():
        Rate.objects.update_or_create(
            insurance_type=itype,
            effective_from=RATES_FROM,
            defaults={"employer_rate": employer, "personal_rate": personal, "illustrative": illustrative, "note": note},
        )
    for risk_class, rate in INJURY_RATES.items():
        InjuryRate.objects.update_or_create(
            risk_class=risk_class, effective_from=INJURY_FROM, defaults={"rate": rate, "note": INJURY_NOTE}
        )
    for category, (age, step, cap) in RETIREMENT_RULES.items():
        RetirementRule.objects.update_or_create(
            category=category,
            effective_from=RETIREMENT_FROM,
            defaults={
                "original_age_years": age,
                "reform_start": RETIREMENT_REFORM,
                "step_months": step,
                "cap_months": cap,
                "note": RETIREMENT_NOTE,
            },
        )


def forwards(apps, schema_editor) -> None:
    seed_published(apps)


class Migration(migrations.Migration):
    dependencies = [("params", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
