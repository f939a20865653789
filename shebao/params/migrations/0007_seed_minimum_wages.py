"""Seed the province's minimum monthly wages (最低工资标准) per area tier (DOMAIN §7).

Hubei's four tiers as of the 2021 adjustment; an administrator checks them against the
provincial notice in force and adds a row from its 生效年月 in 系统管理 when it changes.
``seed_minimum_wages(apps)`` is idempotent, like the 0002 seed, so that tests and
``manage.py seed_demo`` can re-apply it after a flush.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import migrations

MINIMUM_WAGES_FROM = dt.date(2021, 9, 1)
MINIMUM_WAGES = {1: Decimal("2010"), 2: Decimal("1800"), 3: Decimal("1650"), 4: Decimal("1520")}
MINIMUM_WAGE_NOTE = "湖北省最低工资标准（2021年调整，一类为武汉市），待与省人民政府现行通知核对"


def seed_minimum_wages(apps) -> None:
    MinimumWage = apps.get_model("params", "MinimumWage")
    for tier, monthly in MINIMUM_WAGES.items():
        MinimumWage.objects.update_or_create(
            tier=tier, effective_from=MINIMUM_WAGES_FROM, defaults={"monthly": monthly, "note": MINIMUM_WAGE_NOTE}
        )


def forwards(apps, schema_editor) -> None:
    seed_minimum_wages(apps)


class Migration(migrations.Migration):
    dependencies = [("params", "0006_minimum_wage_declaration_window")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
