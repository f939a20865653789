"""减员(暂停缴费) through the real services: save, submit, the automatic audit, clerk review.

Register data is made by running 增员 through the same services, so the tests exercise the
hand-over between the two business types (续保, transfers, terminated persons).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import pytest

from shebao.core.choices import ALL_INSURANCE
from shebao.core.identity import id_key
from shebao.core.months import add_months, current_month, format_month
from shebao.params.services import ParamSnapshot
from shebao.register.models import ContributionLine, Relation, RelationStatus
from shebao.workflow import registry, services
from shebao.workflow.models import AuditStatus, Mode, PersonLock, State, Transaction
from shebao.workflow.rules import messages
from tests.factories import (
    ClerkFactory,
    EmployerFactory,
    ItemFactory,
    OfficeFactory,
    OperatorFactory,
    TransactionFactory,
    make_resident_id,
    seed_params,
)

pytestmark = pytest.mark.django_db

BIRTH = dt.date(1988, 4, 12)  # of every person these tests enrol


def now():
    """The current month at the test's pinned clock (read when the test runs, never at import)."""
    return current_month()


def month(n: int) -> str:
    """The current month shifted by n months, as the form takes it."""
    return format_month(add_months(now(), n))


# --- set-up ----------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def params(db):
    """Published parameters for every year the tests touch (missing rows only)."""
    seed_params(sorted({now().year - 1, now().year, add_months(now(), 1).year}))


@pytest.fixture
def office(db):
    return OfficeFactory(code="S01", name="江岸区社保处", address="解放大道1号", hours="周一至周五 9:00-17:00")


def save(employer, user, business_type, raw):
    result = services.transaction_save_single(employer=employer, actor=user, business_type=business_type, raw=raw)
    assert result.ok, [i.message() for i in result.issues]
    return result.transaction


def submit_and_audit(tx, user) -> tuple[str, Transaction]:
    tx = services.transaction_submit(tx=tx, actor=user, version=tx.version)
    outcome = services.run_audit(tx.pk)
    tx.refresh_from_db()
    return outcome, tx


def enrol(employer, user, id_number, *, start: str, name: str = "李四", types: str = "") -> Transaction:
    raw = {
        "id_type": "01",
        "id_number": id_number,
        "name": name,
        "hukou": "城镇",
        "identity": "工人",
        "employment_form": "劳动合同",
        "first_work_date": "2010-07-01",
        "start_month": start,
        "wage": "6500",
        "insurance_types": types,
        "phone": "13800000000",
    }
    tx = save(employer, user, "enrol", raw)
    outcome, tx = submit_and_audit(tx, user)
    return tx


def suspend_raw(id_number, *, stop: str, reason: str = "01", name: str = "李四", types: str = "") -> dict:
    return {
        "id_type": "居民身份证",
        "id_number": id_number,
        "name": name,
        "stop_month": stop,
        "reason": reason,
        "stop_types": types,
    }


def suspend(employer, user, id_number, **kwargs) -> tuple[str, Transaction]:
    tx = save(employer, user, "suspend", suspend_raw(id_number, **kwargs))
    return submit_and_audit(tx, user)


def codes(issues) -> set[str]:
    return {i["code"] for i in issues}


def line_months(person_key: str, employer=None) -> Counter:
    """How often each (insurance type, month) is due, across employers unless one is named."""
    lines = ContributionLine.objects.filter(person__id_key=person_key, voided_by__isnull=True)
    if employer is not None:
        lines = lines.filter(employer=employer)
    return Counter(lines.values_list("insurance_type", "month"))


@pytest.fixture
def vip(office):
    employer = EmployerFactory(office=office, is_vip=True)
    return employer, OperatorFactory(employer=employer)


@pytest.fixture
def enrolled(vip):
    """A person contributing to all five types at a VIP employer since two months ago."""
    employer, user = vip
    pid = make_resident_id(BIRTH)
    tx = enrol(employer, user, pid, start=month(-2))
    assert tx.state == State.FINISHED
    return employer, user, pid


# --- registration and row rules ---------------------------------------------------------------


def test_registered_with_the_template_columns_of_domain_6():
    business = registry.get("suspend")
    assert (
        business.names.title,
        business.batch,
        business.review_for_ordinary,
        business.locking,
        business.windowed,
    ) == ("减员(暂停缴费)", True, True, "person", True)
    assert [f.msgid for f in business.fields] == ["证件类型", "证件号码", "姓名", "停保年月", "减员原因", "停保险种"]
    assert [f.name for f in business.fields if f.required] == ["id_type", "id_number", "name", "stop_month", "reason"]


@pytest.mark.parametrize("reason", ["01", "1", "01 解除/终止劳动合同", "解除/终止劳动合同", " 01 "])
def test_reason_accepts_code_number_and_label(reason):
    business = registry.get("suspend")
    result = business.check_row(
        suspend_raw(make_resident_id(BIRTH), stop=month(0), reason=reason), ParamSnapshot.load()
    )
    assert not result.issues
    assert result.data["reason"] == "01"
    assert result.data["stop_types"] == ",".join(ALL_INSURANCE)
    # The stored data passes the same rules again at the audit.
    assert not business.check_row(result.data, ParamSnapshot.load()).issues


def test_row_rules_name_the_field():
    business = registry.get("suspend")
    params = ParamSnapshot.load()
    result = business.check_row(
        {"id_number": "", "name": "", "stop_month": "2025-13", "reason": "33", "stop_types": "养老、住房"}, params
    )
    assert codes([i.as_dict() for i in result.issues]) == {"REQUIRED", "MONTH_FORMAT", "CHOICE", "INSURANCE_TYPES"}
    death = business.check_row(suspend_raw(make_resident_id(BIRTH), stop=month(0), reason="04", types="养老"), params)
    assert [i.code for i in death.issues] == ["DEATH_ALL_TYPES"]
    assert "停保险种" in death.issues[0].message("zh-hans")


def test_stop_month_after_next_month_is_refused_at_save(enrolled):
    employer, user, pid = enrolled
    result = services.transaction_save_single(
        employer=employer, actor=user, business_type="suspend", raw=suspend_raw(pid, stop=month(2))
    )
    assert not result.ok
    assert [i.code for i in result.issues] == ["STOP_TOO_LATE"]
    assert month(1) in result.issues[0].message("zh-hans")
    assert not PersonLock.objects.exists()
    # Next month is the latest allowed.
    assert services.transaction_save_single(
        employer=employer, actor=user, business_type="suspend", raw=suspend_raw(pid, stop=month(1))
    ).ok


# --- VIP, automatic ---------------------------------------------------------------------------


def test_vip_suspension_finishes_and_suspends_every_relation(enrolled):
    employer, user, pid = enrolled
    outcome, tx = suspend(employer, user, pid, stop=month(0), reason="1")
    assert outcome == "finished" and tx.state == State.FINISHED and tx.applied_count == 1
    rels = Relation.objects.filter(person__id_key=id_key("01", pid), employer=employer)
    assert rels.count() == 5
    for rel in rels:
        assert (rel.status, rel.end_month, rel.end_reason, rel.ended_by_id) == (
            RelationStatus.SUSPENDED,
            now(),
            "01",
            tx.pk,
        )
    # The last contributing month is the one before the stop month.
    assert {m for _t, m in line_months(id_key("01", pid))} == {add_months(now(), -2), add_months(now(), -1)}
    assert not PersonLock.objects.exists()


def test_next_month_stop_keeps_this_months_lines(enrolled):
    employer, user, pid = enrolled
    outcome, tx = suspend(employer, user, pid, stop=month(1), types="养老、医疗")
    assert outcome == "finished"
    rels = {r.insurance_type: r for r in Relation.objects.filter(employer=employer)}
    assert rels["pension"].status == rels["medical"].status == RelationStatus.SUSPENDED
    assert rels["pension"].end_month == add_months(now(), 1)
    assert rels["injury"].status == RelationStatus.CONTRIBUTING and rels["injury"].end_month is None
    assert len(line_months(id_key("01", pid))) == 3 * 5


def test_blank_types_stop_what_the_person_has_here(vip):
    employer, user = vip
    pid = make_resident_id(BIRTH)
    enrol(employer, user, pid, start=month(-1), types="养老、医疗")
    outcome, tx = suspend(employer, user, pid, stop=month(0))
    assert outcome == "finished"
    assert set(Relation.objects.values_list("status", flat=True)) == {RelationStatus.SUSPENDED}


# --- the audit refuses ------------------------------------------------------------------------


def test_unknown_person_is_returned_not_contributing_here(vip):
    employer, user = vip
    outcome, tx = suspend(employer, user, make_resident_id(BIRTH), stop=month(0))
    assert outcome == "returned" and tx.state == State.RETURNED and tx.returned
    assert codes(tx.return_reasons) == {"NOT_CONTRIBUTING_HERE"}
    assert "养老" in messages(tx.return_reasons, "zh-hans")[0]


def test_type_not_contributing_here_is_named(vip):
    employer, user = vip
    pid = make_resident_id(BIRTH)
    enrol(employer, user, pid, start=month(-1), types="养老、医疗")
    outcome, tx = suspend(employer, user, pid, stop=month(0), types="养老、失业")
    assert outcome == "returned"
    assert codes(tx.return_reasons) == {"NOT_CONTRIBUTING_HERE"}
    text = messages(tx.return_reasons, "zh-hans")[0]
    assert "失业" in text and "养老" not in text
    assert Relation.objects.filter(status=RelationStatus.CONTRIBUTING).count() == 2


def test_person_at_another_employer_is_not_contributing_here(enrolled, office):
    employer, user, pid = enrolled
    other = EmployerFactory(office=office, is_vip=True)
    outcome, tx = suspend(other, OperatorFactory(employer=other), pid, stop=month(0))
    assert codes(tx.return_reasons) == {"NOT_CONTRIBUTING_HERE"}
    assert Relation.objects.filter(status=RelationStatus.CONTRIBUTING).count() == 5


def test_name_must_match_the_register_and_says_so_at_once(enrolled, client):
    employer, user, pid = enrolled
    raw = suspend_raw(pid, stop=month(0), name="王五")
    # At 保存: refused before any audit, naming the name typed, never the registered one.
    result = services.transaction_save_single(employer=employer, actor=user, business_type="suspend", raw=raw)
    assert not result.ok and [i.code for i in result.issues] == ["PERSON_MISMATCH"]
    assert "王五" in result.issues[0].message() and "李四" not in result.issues[0].message()
    # While typing: the live check of the single form says the same under 姓名.
    from tests.workflow.helpers import login

    client = login(client, user, employer)
    form = {"id_type": "01", "id_number": pid, "name": "王五", "_touched": ["id_number", "name"]}
    answer = client.post("/business/suspend/check/", form).json()
    assert [i["code"] for i in answer["fields"]["name"]] == ["PERSON_MISMATCH"]
    assert "李四" not in json.dumps(answer, ensure_ascii=False)


def test_another_employers_person_is_not_checked_before_the_audit(enrolled, office, client):
    employer, user, pid = enrolled
    other = EmployerFactory(office=office, is_vip=True)
    other_user = OperatorFactory(employer=other)
    # No relation here: the form says nothing about the number (it is not this employer's to know).
    result = services.transaction_save_single(
        employer=other, actor=other_user, business_type="suspend", raw=suspend_raw(pid, stop=month(0), name="王五")
    )
    assert result.ok
    outcome, tx = submit_and_audit(result.transaction, other_user)
    assert outcome == "returned" and "李四" not in json.dumps(messages(tx.return_reasons), ensure_ascii=False)


def test_a_batch_row_with_the_wrong_name_fails_at_import(enrolled):
    from shebao.workflow.models import Item, ItemStatus
    from tests.batch.conftest import create_batch, xlsx_bytes

    employer, user, pid = enrolled
    headers = ["证件类型", "证件号码", "姓名", "停保年月", "减员原因"]
    rows = [{"证件类型": "居民身份证", "证件号码": pid, "姓名": "王五", "停保年月": month(0), "减员原因": "01"}]
    tx = create_batch(employer, user, xlsx_bytes(rows, headers), code="suspend")
    item = Item.objects.get(transaction=tx)
    assert item.status == ItemStatus.IMPORT_FAILED
    assert [i["code"] for i in item.import_issues] == ["PERSON_MISMATCH"]


def test_stop_month_must_lie_after_the_start_month(enrolled):
    employer, user, pid = enrolled
    outcome, tx = suspend(employer, user, pid, stop=month(-3))
    assert outcome == "returned" and codes(tx.return_reasons) == {"STOP_BEFORE_START"}
    assert len(tx.return_reasons) == 1  # one message, not one per insurance type
    services.transaction_cancel(tx=tx, actor=user, version=tx.version)
    outcome, tx = suspend(employer, user, pid, stop=month(-2))
    assert outcome == "returned" and codes(tx.return_reasons) == {"STOP_AT_START"}


# --- clerk review -----------------------------------------------------------------------------


def test_retirement_goes_to_a_clerk_even_for_vip_and_terminates(enrolled, office):
    employer, user, pid = enrolled
    outcome, tx = suspend(employer, user, pid, stop=month(0), reason="退休")
    assert outcome == "review" and tx.state == State.REVIEW
    assert Relation.objects.filter(status=RelationStatus.CONTRIBUTING).count() == 5  # nothing applied yet
    services.clerk_approve(tx=tx, clerk=ClerkFactory(office=office), version=tx.version)
    tx.refresh_from_db()
    assert tx.state == State.FINISHED
    rels = Relation.objects.filter(employer=employer)
    assert {(r.status, r.end_reason, r.end_month) for r in rels} == {(RelationStatus.TERMINATED, "03", now())}


def test_death_goes_to_a_clerk(enrolled):
    employer, user, pid = enrolled
    outcome, tx = suspend(employer, user, pid, stop=month(1), reason="04")
    assert outcome == "review"


def test_backdated_stop_goes_to_a_clerk_and_removes_the_lines_after_it(enrolled, office):
    employer, user, pid = enrolled
    outcome, tx = suspend(employer, user, pid, stop=month(-1))
    assert outcome == "review"
    assert "停保年月早于当前月份" in tx.events.get(action="to_review").reason
    services.clerk_approve(tx=tx, clerk=ClerkFactory(office=office), version=tx.version)
    assert {m for _t, m in line_months(id_key("01", pid))} == {add_months(now(), -2)}
    assert set(Relation.objects.values_list("status", "end_month")) == {
        (RelationStatus.SUSPENDED, add_months(now(), -1))
    }


def test_ordinary_employer_goes_to_a_clerk(office):
    employer = EmployerFactory(office=office, is_vip=False)
    user = OperatorFactory(employer=employer)
    pid = make_resident_id(BIRTH)
    enrol_tx = enrol(employer, user, pid, start=month(-1))
    services.clerk_approve(tx=enrol_tx, clerk=ClerkFactory(office=office), version=enrol_tx.version)
    outcome, tx = suspend(employer, user, pid, stop=month(0))
    assert outcome == "review"
    services.clerk_approve(tx=tx, clerk=ClerkFactory(office=office), version=tx.version)
    assert set(Relation.objects.values_list("status", flat=True)) == {RelationStatus.SUSPENDED}


# --- hand-over to 增员(续保) ----------------------------------------------------------------------


def test_transfer_has_no_month_twice_and_none_missing(enrolled, office):
    employer_a, user_a, pid = enrolled
    key = id_key("01", pid)
    before = line_months(key)
    outcome, tx = suspend(employer_a, user_a, pid, stop=month(0), reason="02")
    assert outcome == "finished"
    employer_b = EmployerFactory(office=office, is_vip=True)
    user_b = OperatorFactory(employer=employer_b)
    # B may not start before A's stop month: that month is still A's.
    early = enrol(employer_b, user_b, pid, start=month(-1))
    assert early.state == State.RETURNED and codes(early.return_reasons) == {"START_OVERLAP"}
    services.transaction_cancel(tx=early, actor=user_b, version=early.version)
    tx_b = enrol(employer_b, user_b, pid, start=month(0))
    assert tx_b.state == State.FINISHED, tx_b.return_reasons
    after = line_months(key)
    expected = {(t, add_months(now(), n)) for t in ALL_INSURANCE for n in (-2, -1, 0)}
    assert set(after) == expected == set(before)
    assert max(after.values()) == 1  # no month paid twice
    assert {m for _t, m in line_months(key, employer_a)} == {add_months(now(), -2), add_months(now(), -1)}
    assert {m for _t, m in line_months(key, employer_b)} == {now()}
    assert Relation.objects.get(employer=employer_b, insurance_type="pension").status == RelationStatus.CONTRIBUTING


def test_transfer_with_a_start_before_the_old_period_is_refused(enrolled, office):
    employer_a, user_a, pid = enrolled
    suspend(employer_a, user_a, pid, stop=month(0))
    employer_b = EmployerFactory(office=office, is_vip=True)
    tx = enrol(employer_b, OperatorFactory(employer=employer_b), pid, start=month(-3))
    assert tx.state == State.RETURNED and codes(tx.return_reasons) == {"START_OVERLAP"}
    assert max(line_months(id_key("01", pid)).values()) == 1


def test_suspended_person_resumes_at_the_same_employer(enrolled):
    employer, user, pid = enrolled
    suspend(employer, user, pid, stop=month(0))
    tx = enrol(employer, user, pid, start=month(0))
    assert tx.state == State.FINISHED, tx.return_reasons
    rels = Relation.objects.filter(employer=employer, insurance_type="pension").order_by("id")
    assert [(r.status, r.start_month) for r in rels] == [
        (RelationStatus.SUSPENDED, add_months(now(), -2)),
        (RelationStatus.CONTRIBUTING, now()),
    ]
    assert max(line_months(id_key("01", pid)).values()) == 1
    # And can be suspended again.
    outcome, again = suspend(employer, user, pid, stop=month(1))
    assert outcome == "finished"
    assert not Relation.objects.filter(status=RelationStatus.CONTRIBUTING).exists()


def test_terminated_person_cannot_be_enrolled(enrolled, office):
    employer, user, pid = enrolled
    outcome, tx = suspend(employer, user, pid, stop=month(0), reason="04")
    services.clerk_approve(tx=tx, clerk=ClerkFactory(office=office), version=tx.version)
    other = EmployerFactory(office=office, is_vip=True)
    again = enrol(other, OperatorFactory(employer=other), pid, start=month(0))
    assert again.state == State.RETURNED and codes(again.return_reasons) == {"TERMINATED"}
    assert "死亡" in messages(again.return_reasons, "zh-hans")[0]


def test_open_suspension_locks_the_person(enrolled):
    employer, user, pid = enrolled
    tx = save(employer, user, "suspend", suspend_raw(pid, stop=month(0)))
    result = services.transaction_save_single(
        employer=employer, actor=user, business_type="suspend", raw=suspend_raw(pid, stop=month(1))
    )
    assert not result.ok
    assert [i.code for i in result.issues] == ["LOCKED_HERE"] and tx.serial in result.issues[0].message("zh-hans")
    assert PersonLock.objects.get().transaction_id == tx.pk


# --- several rows at once ---------------------------------------------------------------------


def test_batch_audits_each_row_and_applies_the_passing_ones(vip):
    employer, user = vip
    ids = [make_resident_id(BIRTH) for _ in range(3)]
    for pid in ids[:2]:
        enrol(employer, user, pid, start=month(-1))
    tx = TransactionFactory(
        employer=employer, business_type="suspend", mode=Mode.BATCH, operator=user, state=State.SAVED, total_count=3
    )
    business = registry.get("suspend")
    for row, pid in enumerate(ids, start=1):
        data = business.check_row(suspend_raw(pid, stop=month(0)), ParamSnapshot.load()).data
        ItemFactory(transaction=tx, row_no=row, id_key=id_key("01", pid), id_number=pid, name="李四", data=data)
    outcome, tx = submit_and_audit(tx, user)
    assert outcome == "finished"
    assert (tx.audit_passed_count, tx.audit_failed_count, tx.applied_count) == (2, 1, 2)
    failed = tx.items.get(audit_status=AuditStatus.FAILED)
    assert failed.id_number == ids[2] and codes(failed.audit_issues) == {"NOT_CONTRIBUTING_HERE"}
    assert Relation.objects.filter(status=RelationStatus.SUSPENDED, ended_by=tx).count() == 10
    assert not ContributionLine.objects.filter(voided_by__isnull=True, month__gte=now()).exists()
