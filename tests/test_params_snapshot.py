"""A process reuses its parameter snapshot only while no parameter row changed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shebao.core.months import current_month
from shebao.params.models import BaseLimit, Rate
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
