"""The single form (保存), its re-save on the transaction page and its live field check answer
a typo or an absurd amount with the field's own error, never a 500; a rule that raises
is the row's system error with a reference, not a 500."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from shebao.business.enrol import Enrol
from shebao.workflow.models import Transaction
from tests.factories import EmployerFactory, OperatorFactory, make_resident_id, seed_params
from tests.workflow.helpers import enrol_raw, login

pytestmark = pytest.mark.django_db

BAD_CELLS = [
    ("insurance_types", "养老、工商", "INSURANCE_TYPES"),
    ("wage", str(10**26), "MONEY_FORMAT"),
    ("wage", "1e300", "MONEY_FORMAT"),
    ("wage", "9" * 400, "MONEY_FORMAT"),
    ("backpay_base", "9" * 400, "MONEY_FORMAT"),
    ("start_month", "99999-01", "MONTH_FORMAT"),
    ("first_work_date", "0000-01-01", "DATE_FORMAT"),
    ("hukou", "9" * 5000, "CHOICE"),
]


@pytest.fixture(autouse=True)
def _params():
    seed_params()


@pytest.fixture
def vip(client):
    employer = EmployerFactory(is_vip=True)
    user = OperatorFactory(employer=employer)
    login(client, user, employer)
    return employer


def _form(**cells) -> dict:
    data = enrol_raw(make_resident_id(dt.date(1990, 1, 1), serial=3), backpay_from="", backpay_base="")
    data.update(cells)
    if "backpay_base" in cells:
        data["backpay_from"] = "2025-01"
    data["insurance_types"] = [part for part in data["insurance_types"].split(",") if part]
    return data


def _shows_code(body: str, code: str) -> bool:
    """The page shows the rule's message with its code beside it, small (never "[CODE] …")."""
    return f'class="rule-code" title="错误代码（咨询时可提供）">{code}</small>' in body and f"[{code}]" not in body


def _field_shows(body: str, field: str, code: str) -> bool:
    """The error is under its own field."""
    start = body.index(f'data-field="{field}"')
    box = body[start : body.index('<div class="field-warning">', start)]
    return _shows_code(box, code)


@pytest.mark.parametrize(("field", "value", "code"), BAD_CELLS)
def test_save_shows_the_fields_own_error(client, vip, field, value, code):
    response = client.post("/business/enrol/single/", _form(**{field: value}))
    assert response.status_code == 422
    assert _field_shows(response.content.decode(), field, code)
    assert not Transaction.objects.exists()


@pytest.mark.parametrize(("field", "value", "code"), BAD_CELLS)
def test_live_check_names_the_field_and_its_error(client, vip, field, value, code):
    response = client.post("/business/enrol/check/", _form(**{field: value}))
    assert response.status_code == 200
    assert code in [issue["code"] for issue in response.json()["fields"].get(field, [])]


@pytest.mark.parametrize(("field", "value", "code"), BAD_CELLS)
def test_re_saving_a_transaction_shows_the_fields_own_error(client, vip, field, value, code):
    assert client.post("/business/enrol/single/", _form()).status_code == 302
    tx = Transaction.objects.get()
    response = client.post(f"/tx/{tx.pk}/action/", {**_form(**{field: value}), "action": "save", "version": tx.version})
    assert response.status_code == 422
    assert _field_shows(response.content.decode(), field, code)
    assert tx.items.get().data["wage"] == "6500.00"


def test_a_rule_that_raises_is_a_system_error_with_a_reference_not_a_500(client, vip, monkeypatch, caplog):
    def check_row(self, raw, params, employer=None):
        raise ArithmeticError("a rule that is wrong for this row")

    monkeypatch.setattr(Enrol, "check_row", check_row)
    live = client.post("/business/enrol/check/", _form())
    assert live.status_code == 200
    [issue] = live.json()["fields"][""]
    assert issue["code"] == "ROW_INTERNAL_ERROR"
    ref = re.search(r"参考号 ([0-9A-F]{8})", issue["message"]).group(1)
    assert f"[ref {ref}]" in caplog.text and "ArithmeticError" in caplog.text
    saved = client.post("/business/enrol/single/", _form())
    assert saved.status_code == 422 and _shows_code(saved.content.decode(), "ROW_INTERNAL_ERROR")
    assert not Transaction.objects.exists()
