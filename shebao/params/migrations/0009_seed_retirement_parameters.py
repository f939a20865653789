"""Seed the retirement parameters (DOMAIN §7): minimum contribution months by year of
retirement, 计发月数 by age, the personal account's interest rates, and an illustrative 计发基数.

- Minimum contribution months: 180 until 2029, then +6 months a year to 240 in 2039
  (国务院关于渐进式延迟法定退休年龄的办法, 2024).
- 计发月数: the table of 国发〔2005〕38号, ages 40 to 70.
- 记账利率: the rates the Ministry of Human Resources and Social Security and the Ministry of
  Finance announced for 2016–2024 (to be checked against the notices; later years are added
  when announced).
- 计发基数: the province publishes it each year; the row seeded here is 示例数据 (the 2025
  average wage of the base limits), to be replaced by the published figure.

``seed_retirement_parameters(apps)`` is idempotent, so that tests and ``manage.py seed_demo``
can re-apply it after a flush.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import migrations

MINIMUM_NOTE = "国务院关于渐进式延迟法定退休年龄的办法（2024年）：自2030年起最低缴费年限每年提高6个月"
MINIMUM_MONTHS = {2025: 180, **{year: 180 + 6 * (year - 2029) for year in range(2030, 2040)}}

PAYOUT_NOTE = "国发〔2005〕38号 个人账户养老金计发月数表"
PAYOUT_MONTHS = {
    40: 233, 41: 230, 42: 226, 43: 223, 44: 220, 45: 216, 46: 212, 47: 207, 48: 204, 49: 199,
    50: 195, 51: 190, 52: 185, 53: 180, 54: 175, 55: 170, 56: 164, 57: 158, 58: 152, 59: 145,
    60: 139, 61: 132, 62: 125, 63: 117, 64: 109, 65: 101, 66: 93, 67: 84, 68: 75, 69: 65, 70: 56,
}  # fmt: skip

INTEREST_NOTE = "人力资源社会保障部办公厅、财政部办公厅公布的职工基本养老保险个人账户记账利率，待与通知核对"
INTEREST = {
    2016: Decimal("0.0831"),
    2017: Decimal("0.0712"),
    2018: Decimal("0.0829"),
    2019: Decimal("0.0761"),
    2020: Decimal("0.0604"),
    2021: Decimal("0.0669"),
    2022: Decimal("0.0612"),
    2023: Decimal("0.0397"),
    2024: Decimal("0.0262"),
}

PENSION_BASE_NOTE = "示例数据：按 2025 年社会平均工资，待与省人力资源和社会保障厅公布的计发基数核对"
PENSION_BASES = {2025: Decimal("7496.00")}


def seed_retirement_parameters(apps) -> None:
    MinimumContribution = apps.get_model("params", "MinimumContribution")
    PayoutMonths = apps.get_model("params", "PayoutMonths")
    AccountInterest = apps.get_model("params", "AccountInterest")
    PensionBase = apps.get_model("params", "PensionBase")
    for year, months in MINIMUM_MONTHS.items():
        MinimumContribution.objects.get_or_create(year=year, defaults={"months": months, "note": MINIMUM_NOTE})
    for age, months in PAYOUT_MONTHS.items():
        PayoutMonths.objects.get_or_create(age=age, defaults={"months": months, "note": PAYOUT_NOTE})
    for year, rate in INTEREST.items():
        AccountInterest.objects.get_or_create(year=year, defaults={"rate": rate, "note": INTEREST_NOTE})
    for year, amount in PENSION_BASES.items():
        PensionBase.objects.get_or_create(
            year=year, defaults={"amount": amount, "illustrative": True, "note": PENSION_BASE_NOTE}
        )


def forwards(apps, schema_editor) -> None:
    seed_retirement_parameters(apps)


class Migration(migrations.Migration):
    dependencies = [("params", "0008_retirement_parameters")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
