import datetime as dt

import pytest

from shebao.core.choices import ALL_INSURANCE
from shebao.register.models import ContributionBase, ContributionLine, Relation, RelationStatus
from shebao.workflow import services
from shebao.workflow.models import Event, PersonLock, State
from tests.factories import ClerkFactory, EmployerFactory, OperatorFactory, make_resident_id, seed_params
from tests.workflow.helpers import enrol_raw

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _params():
    seed_params()


def _save(employer, user, raw):
    result = services.transaction_save_single(employer=employer, actor=user, business_type="enrol", raw=raw)
    assert result.ok, [i.code for i in result.issues]
    return result.transaction


def test_vip_enrolment_finishes_and_applies_the_register():
    employer = EmployerFactory(is_vip=True)
    user = OperatorFactory(employer=employer)
    tx = _save(employer, user, enrol_raw(make_resident_id(dt.date(1990, 5, 17)), wage="3000"))
    assert tx.state == State.SAVED and tx.serial and PersonLock.objects.filter(transaction=tx).count() == 1
    services.transaction_submit(tx=tx, actor=user, version=tx.version)
    assert services.run_audit(tx.pk) == "finished"
    tx.refresh_from_db()
    assert tx.state == State.FINISHED and tx.applied_count == 1
    assert Relation.objects.filter(employer=employer, status=RelationStatus.CONTRIBUTING).count() == 5
    bases = ContributionBase.objects.filter(employer=employer)
    assert sorted(bases.values_list("insurance_type", flat=True)) == sorted(ALL_INSURANCE)  # one per type
    for base in bases:
        assert base.declared_wage == 3000 and base.base == 4498  # clamped to the floor
    assert not PersonLock.objects.exists()
    item = tx.items.get()
    assert [i["code"] for i in item.import_issues] == ["WAGE_BELOW_FLOOR"]
    assert [i["code"] for i in item.audit_issues] == ["WAGE_BELOW_FLOOR"]


def test_submit_twice_with_same_version_does_nothing_more():
    employer = EmployerFactory(is_vip=True)
    user = OperatorFactory(employer=employer)
    tx = _save(employer, user, enrol_raw(make_resident_id(dt.date(1991, 1, 2))))
    version = tx.version
    services.transaction_submit(tx=tx, actor=user, version=version)
    services.transaction_submit(tx=tx, actor=user, version=version)
    assert Event.objects.filter(transaction=tx, action="submit").count() == 1


def test_ordinary_goes_to_review_and_clerk_approves():
    employer = EmployerFactory(is_vip=False)
    user = OperatorFactory(employer=employer)
    tx = _save(employer, user, enrol_raw(make_resident_id(dt.date(1988, 3, 4))))
    services.transaction_submit(tx=tx, actor=user, version=tx.version)
    assert services.run_audit(tx.pk) == "review"
    tx.refresh_from_db()
    clerk = ClerkFactory(office=employer.office)
    services.clerk_approve(tx=tx, clerk=clerk, version=tx.version)
    tx.refresh_from_db()
    assert tx.state == State.FINISHED
    assert Relation.objects.filter(employer=employer).count() == 5


def test_already_contributing_is_returned_with_reason():
    employer = EmployerFactory(is_vip=True)
    user = OperatorFactory(employer=employer)
    pid = make_resident_id(dt.date(1985, 6, 6))
    tx = _save(employer, user, enrol_raw(pid))
    services.transaction_submit(tx=tx, actor=user, version=tx.version)
    services.run_audit(tx.pk)
    tx2 = _save(employer, user, enrol_raw(pid))
    services.transaction_submit(tx=tx2, actor=user, version=tx2.version)
    assert services.run_audit(tx2.pk) == "returned"
    tx2.refresh_from_db()
    assert tx2.state == State.RETURNED and tx2.returned
    assert {r["code"] for r in tx2.return_reasons} == {"ALREADY_CONTRIBUTING_HERE"}


def test_lock_refuses_second_open_transaction():
    employer = EmployerFactory(is_vip=True)
    other = EmployerFactory(is_vip=True)
    user, other_user = OperatorFactory(employer=employer), OperatorFactory(employer=other)
    pid = make_resident_id(dt.date(1992, 2, 2))
    tx = _save(employer, user, enrol_raw(pid))
    again = services.transaction_save_single(employer=employer, actor=user, business_type="enrol", raw=enrol_raw(pid))
    assert not again.ok and again.lock.serial == tx.serial and again.issues[0].code == "LOCKED_HERE"
    elsewhere = services.transaction_save_single(
        employer=other, actor=other_user, business_type="enrol", raw=enrol_raw(pid)
    )
    assert not elsewhere.ok and elsewhere.issues[0].code == "LOCKED_ELSEWHERE" and elsewhere.lock.serial is None
    services.transaction_cancel(tx=tx, actor=user, version=tx.version)
    assert services.transaction_save_single(
        employer=other, actor=other_user, business_type="enrol", raw=enrol_raw(pid)
    ).ok


def test_backpay_lines_use_each_months_parameters():
    employer = EmployerFactory(is_vip=True)
    user = OperatorFactory(employer=employer)
    from shebao.core.months import add_months, current_month

    start = current_month()
    since = add_months(start, -2)
    tx = _save(
        employer,
        user,
        enrol_raw(make_resident_id(dt.date(1980, 1, 1)), backpay_from=since.strftime("%Y-%m"), backpay_base="5000"),
    )
    services.transaction_submit(tx=tx, actor=user, version=tx.version)
    assert services.run_audit(tx.pk) == "finished"
    back = ContributionLine.objects.filter(kind="backpay", insurance_type="pension").order_by("month")
    assert [line.month for line in back] == [since, add_months(since, 1)]
    assert back[0].employer_amount == 800 and back[0].personal_amount == 400


def test_each_insurance_types_base_is_clamped_to_that_types_limits():
    """Cities publish different floors per insurance type: the enrolment's base of each type is
    the declared wage clamped to that type's limits, as its contribution lines are."""
    from decimal import Decimal

    from shebao.core.months import current_month
    from shebao.params.models import BaseLimit

    year = current_month().year
    # A later notice raises the year's medical floor (a row of its own: notices apply retroactively).
    BaseLimit.objects.create(
        year=year,
        insurance_type="medical",
        effective_from=dt.date(year, 2, 1),
        average_wage=Decimal("7496"),
        floor=Decimal("5000"),
        ceiling=Decimal("22488"),
    )
    employer = EmployerFactory(is_vip=True)
    user = OperatorFactory(employer=employer)
    tx = _save(employer, user, enrol_raw(make_resident_id(dt.date(1990, 5, 17)), wage="4700"))
    services.transaction_submit(tx=tx, actor=user, version=tx.version)
    assert services.run_audit(tx.pk) == "finished"
    bases = {b.insurance_type: b for b in ContributionBase.objects.filter(employer=employer, year=year)}
    assert {t: b.base for t, b in bases.items()} == {
        "pension": Decimal("4700.00"),
        "medical": Decimal("5000.00"),
        "unemployment": Decimal("4700.00"),
        "injury": Decimal("4700.00"),
        "maternity": Decimal("4700.00"),
    }
    assert {b.declared_wage for b in bases.values()} == {Decimal("4700.00")}
    medical = BaseLimit.objects.get(year=year, insurance_type="medical", floor=Decimal("5000"))
    assert bases["medical"].limits_id == medical.pk
    lines = ContributionLine.objects.filter(employer=employer, month=current_month())
    assert {line.insurance_type: line.base for line in lines} == {t: b.base for t, b in bases.items()}
