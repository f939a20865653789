"""One bad row never jams a batch: a real spreadsheet with hostile rows imports every row (the
hostile ones as failed, each with its field's error), and a rule that raises on one row
fails that row alone, with a reference to the logged traceback, at import and at audit."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shebao.business.enrol import Enrol
from shebao.core.months import add_months, current_month, format_month
from shebao.register.models import ContributionBase, Relation
from shebao.workflow import services as engine
from shebao.workflow.models import AuditStatus, Item, ItemStatus, State
from tests.batch.conftest import BIRTH, enrol_row, upload_and_import, xlsx_bytes
from tests.factories import make_resident_id

pytestmark = pytest.mark.django_db


def _submit_and_audit(client, tx):
    response = client.post(reverse("batch:action", kwargs={"pk": tx.pk}), {"action": "submit", "version": tx.version})
    assert response.status_code == 302
    assert engine.run_audit_job(tx.pk) in ("finished", "review", "returned")
    tx.refresh_from_db()
    return tx


def _codes(item: Item) -> set[tuple[str, str]]:
    return {(i["code"], i["field"]) for i in item.import_issues + item.audit_issues}


def test_hostile_rows_of_a_real_spreadsheet_fail_alone_and_the_rest_import_and_finish(vip_client):
    """The file as a person or a script might make it: typos, numbers no register holds,
    dates of year 9999, formulas, control and bidi characters, full-width digits."""
    good = [make_resident_id(BIRTH) for _ in range(3)]
    hostile = {
        "insurance typo": (
            enrol_row(make_resident_id(BIRTH), 参保险种="养老、工商"),
            ("INSURANCE_TYPES", "insurance_types"),
        ),
        "10**26 as a number": (enrol_row(make_resident_id(BIRTH), 申报月工资=10**26), ("MONEY_FORMAT", "wage")),
        "1e300 as a number": (enrol_row(make_resident_id(BIRTH), 申报月工资=1e300), ("MONEY_FORMAT", "wage")),
        "400 digits as text": (enrol_row(make_resident_id(BIRTH), 申报月工资="9" * 400), ("MONEY_FORMAT", "wage")),
        "year 9999": (
            enrol_row(make_resident_id(BIRTH), 参保起始年月=dt.datetime(9999, 12, 1)),
            ("MONTH_FORMAT", "start_month"),
        ),
        "work in year 1900 - 1": (
            enrol_row(make_resident_id(BIRTH), 参加工作日期="1899-12-31"),
            ("DATE_FORMAT", "first_work_date"),
        ),
        "formula as a wage": (enrol_row(make_resident_id(BIRTH), 申报月工资="=1+1"), ("MONEY_FORMAT", "wage")),
        "bidi and zero-width characters": (
            enrol_row(make_resident_id(BIRTH), 户口性质="\u200b城镇\u202e"),
            ("CHOICE", "hukou"),
        ),
        "a choice of 5,000 digits": (enrol_row(make_resident_id(BIRTH), 户口性质="9" * 5000), ("CHOICE", "hukou")),
    }
    # Hostile but valid: these rows import, are audited and take effect.
    odd_but_valid = [
        enrol_row(good[0], 申报月工资="８０００．００", 联系地址="=1+1"),
        enrol_row(good[1], 申报月工资="9999999999.99", 联系地址="武汉市\u3000江岸区"),
        enrol_row(
            good[2],
            参保险种="养老、工伤",
            补缴起始年月=format_month(add_months(current_month(), -1)),
            补缴基数="9999999999.99",
        ),
    ]
    rows = odd_but_valid + [row for row, _code in hostile.values()]
    tx = upload_and_import(vip_client, xlsx_bytes(rows))
    assert tx.state == State.SAVED
    assert (tx.total_count, tx.import_failed_count) == (len(rows), len(hostile))
    items = {item.row_no: item for item in Item.objects.filter(transaction=tx)}
    for offset, (label, (_row, code)) in enumerate(hostile.items(), start=2 + len(odd_but_valid)):
        item = items[offset]
        assert item.status == ItemStatus.IMPORT_FAILED, label
        assert code in _codes(item), (label, item.import_issues)
        assert "ROW_INTERNAL_ERROR" not in {c for c, _f in _codes(item)}, label
    html = vip_client.get(reverse("batch:detail", kwargs={"pk": tx.pk}) + "?result=import_failed").content.decode()
    assert "INSURANCE_TYPES" in html and "MONEY_FORMAT" in html

    tx = _submit_and_audit(vip_client, tx)
    assert tx.state == State.FINISHED
    assert (tx.applied_count, tx.audit_failed_count) == (3, 0)
    # One base per person and insurance type taken: as many as the relations started.
    assert ContributionBase.objects.filter(transaction=tx).values("person").distinct().count() == 3
    assert ContributionBase.objects.filter(transaction=tx).count() == 5 + 5 + 2
    assert ContributionBase.objects.filter(transaction=tx, declared_wage="9999999999.99").exists()
    assert Relation.objects.filter(started_by=tx).count() == 5 + 5 + 2


def _raises_on(id_number: str, real):
    def check_row(self, raw, params, employer=None):
        if raw.get("id_number") == id_number:
            raise ZeroDivisionError("a rule that is wrong for this row")
        return real(self, raw, params, employer)

    return check_row


def test_a_row_check_that_raises_fails_that_row_alone_with_a_reference_in_the_log(vip_client, monkeypatch, caplog):
    ids = [make_resident_id(BIRTH) for _ in range(3)]
    monkeypatch.setattr(Enrol, "check_row", _raises_on(ids[1], Enrol.check_row))
    tx = upload_and_import(vip_client, xlsx_bytes([enrol_row(i) for i in ids]))
    assert tx.state == State.SAVED and (tx.total_count, tx.import_failed_count) == (3, 1)
    bad = Item.objects.get(transaction=tx, row_no=3)
    assert bad.status == ItemStatus.IMPORT_FAILED and bad.id_number == ids[1] and bad.id_key == ""
    [issue] = bad.import_issues
    ref = issue["params"]["ref"]
    assert issue["code"] == "ROW_INTERNAL_ERROR" and re.fullmatch(r"[0-9A-F]{8}", ref)
    assert f"[ref {ref}]" in caplog.text and "ZeroDivisionError" in caplog.text
    html = vip_client.get(reverse("batch:detail", kwargs={"pk": tx.pk})).content.decode()
    assert f"参考号 {ref}" in html and "系统错误" in html
    assert set(Item.objects.filter(transaction=tx, status=ItemStatus.IMPORTED).values_list("id_number", flat=True)) == {
        ids[0],
        ids[2],
    }


def test_a_row_check_that_raises_at_the_audit_fails_that_row_alone(vip_client, monkeypatch):
    ids = [make_resident_id(BIRTH) for _ in range(3)]
    tx = upload_and_import(vip_client, xlsx_bytes([enrol_row(i) for i in ids]))
    monkeypatch.setattr(Enrol, "check_row", _raises_on(ids[0], Enrol.check_row))
    tx = _submit_and_audit(vip_client, tx)
    assert tx.state == State.FINISHED and (tx.applied_count, tx.audit_failed_count) == (2, 1)
    bad = Item.objects.get(transaction=tx, id_number=ids[0])
    assert bad.audit_status == AuditStatus.FAILED and [i["code"] for i in bad.audit_issues] == ["ROW_INTERNAL_ERROR"]


def test_register_rules_that_raise_on_one_row_fail_that_row_and_audit_the_rest_of_its_chunk(
    vip_client, monkeypatch, caplog, settings
):
    settings.SHEBAO_AUDIT_CHUNK = 3
    ids = [make_resident_id(BIRTH) for _ in range(5)]
    tx = upload_and_import(vip_client, xlsx_bytes([enrol_row(i) for i in ids]))
    real = Enrol.audit

    def audit(self, tx, items, ctx):
        if any(item.id_number == ids[1] for item in items):
            raise KeyError("a register rule that is wrong for this person")
        return real(self, tx, items, ctx)

    monkeypatch.setattr(Enrol, "audit", audit)
    tx = _submit_and_audit(vip_client, tx)
    assert tx.state == State.FINISHED and (tx.applied_count, tx.audit_failed_count) == (4, 1)
    bad = Item.objects.get(transaction=tx, id_number=ids[1])
    [issue] = bad.audit_issues
    assert issue["code"] == "ROW_INTERNAL_ERROR" and f"[ref {issue['params']['ref']}]" in caplog.text
    assert set(Item.objects.filter(transaction=tx, applied=True).values_list("id_number", flat=True)) == set(ids) - {
        ids[1]
    }


# What a spreadsheet cell can hold (openpyxl refuses the C0 control characters but TAB, LF, CR).
_ILLEGAL = "".join(chr(c) for c in range(32) if chr(c) not in "\t\n\r")
sheet_cells = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1e300, -1e300, 1e-300, 10**26, 1.101051966011026e17]),
    st.dates(min_value=dt.date(1900, 1, 1)),
    st.datetimes(min_value=dt.datetime(1900, 1, 1)),
    st.text(alphabet=st.characters(exclude_categories=("Cs",), exclude_characters=_ILLEGAL), max_size=30),
    st.sampled_from(
        [
            "养老、工商",
            "=1+1",
            "9" * 400,
            "1e300",
            "\u202e城镇",
            "８０００",
            "２０２５年１３月",
            "0000-01",
            "99999-01",
            "NaN",
            "-0",
            " ",
            "'0123",
        ]
    ),
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(data=st.data())
def test_any_cells_in_a_real_spreadsheet_import_every_row_and_the_audit_finishes(vip_client, data):
    """Generated hostile rows beside a valid one, through the file, the import job and the
    audit job: every row is stored, none by a rule raising, and the audit ends."""
    from tests.batch.conftest import ENROL_HEADERS

    rows = [enrol_row(make_resident_id(BIRTH))]
    for _n in range(2):
        row = enrol_row(make_resident_id(BIRTH))
        for header in data.draw(st.lists(st.sampled_from(ENROL_HEADERS), min_size=1, max_size=6, unique=True)):
            row[header] = data.draw(sheet_cells, label=header)
        rows.append(row)
    tx = upload_and_import(vip_client, xlsx_bytes(rows))
    assert tx.state == State.SAVED and tx.total_count == 3
    items = list(Item.objects.filter(transaction=tx))
    assert not [i for i in items if "ROW_INTERNAL_ERROR" in {c for c, _f in _codes(i)}]
    assert Item.objects.get(transaction=tx, row_no=2).status == ItemStatus.IMPORTED
    tx = _submit_and_audit(vip_client, tx)
    assert tx.state in (State.FINISHED, State.REVIEW, State.RETURNED)
    audited = Item.objects.filter(transaction=tx, status=ItemStatus.IMPORTED)
    assert not [i for i in audited if "ROW_INTERNAL_ERROR" in {c for c, _f in _codes(i)}]
    assert all(i.audit_status in (AuditStatus.PASSED, AuditStatus.FAILED) for i in audited)
