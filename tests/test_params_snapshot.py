"""A process reuses its parameter snapshot only while no parameter row changed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection, transaction

from shebao.core.months import current_month
from shebao.params.models import BaseLimit, DeclarationWindow, ParamsVersion, Rate, ReaderSettings, Setting, SettingKey
from shebao.params.services import ParamSnapshot

pytestmark = pytest.mark.django_db


def test_the_snapshot_is_reused_until_a_row_changes(params):
    month = current_month()
    first = ParamSnapshot.load()
    assert ParamSnapshot.load() is first  # nothing changed: no second read of the tables

    rate = Rate.objects.filter(insurance_type="pension").order_by("-effective_from").first()
    rate.employer_rate = Decimal("0.15000")
    rate.save()
    changed = ParamSnapshot.load()
    assert changed is not first
    assert changed.rate("pension", month).employer == Decimal("0.15000")


def test_a_deleted_or_added_row_is_seen(params):
    first = ParamSnapshot.load()
    BaseLimit.objects.filter(pk=BaseLimit.objects.order_by("-id").first().pk).delete()
    after_delete = ParamSnapshot.load()
    assert after_delete is not first
    row = BaseLimit.objects.order_by("-id").first()
    row.pk = None
    row.year = 2099
    row.save()
    assert ParamSnapshot.load() is not after_delete


def _token() -> str | None:
    return ParamsVersion.objects.filter(pk=1).values_list("token", flat=True).first()


def _parameter_models():
    """Every table of the params app the snapshot reads: all but the version row itself and
    the ID card reader's settings (read by params.reader, not by the snapshot)."""
    return [m for m in apps.get_app_config("params").get_models() if m not in (ParamsVersion, ReaderSettings)]


def test_every_parameter_table_changes_the_version_however_it_is_written(params):
    models = _parameter_models()
    assert len(models) == 11
    # The published parameters set no Setting (each has its default) and no window: one each.
    Setting.objects.create(key=SettingKey.DRAFT_EXPIRY_DAYS, value=Decimal("30"), effective_from=dt.date(2024, 1, 1))
    DeclarationWindow.objects.create(year=2099, opens=dt.date(2099, 7, 1), closes=dt.date(2099, 9, 30))
    for model in models:
        row = model.objects.order_by("pk").first()
        assert row is not None, f"the seeded parameters have no {model.__name__}"
        table = connection.ops.quote_name(model._meta.db_table)
        before = _token()
        model.objects.filter(pk=row.pk).update(updated_at=row.updated_at)  # no signal is sent
        after_update = _token()
        assert after_update and after_update != before, f"{model.__name__}: an UPDATE left the version"
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE id = %s", [row.pk])
        after_delete = _token()
        assert after_delete not in (None, after_update), f"{model.__name__}: a DELETE left the version"
        model.objects.bulk_create([row], ignore_conflicts=True)  # INSERT OR IGNORE on SQLite
        assert _token() not in (None, after_delete), f"{model.__name__}: an INSERT left the version"


def test_a_change_rolled_back_leaves_no_stale_snapshot(params):
    first = ParamSnapshot.load()
    month = current_month()
    old_rate = first.rate("pension", month).employer
    try:
        with transaction.atomic():
            Rate.objects.filter(insurance_type="pension").update(employer_rate=Decimal("0.19000"))
            inside = ParamSnapshot.load()  # read and cached inside the transaction
            assert inside.rate("pension", month).employer == Decimal("0.19000")
            raise RuntimeError("rolled back")
    except RuntimeError:
        pass
    after = ParamSnapshot.load()
    assert after.rate("pension", month).employer == old_rate
    Rate.objects.filter(insurance_type="pension").update(employer_rate=Decimal("0.17000"))
    assert ParamSnapshot.load().rate("pension", month).employer == Decimal("0.17000")
