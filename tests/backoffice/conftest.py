"""Fixtures of the clerk tests: two districts, employers, operators, clerks and parameters.

Transactions are made with the real services (save, submit, run_audit synchronously).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from shebao.core.choices import ALL_INSURANCE
from shebao.params.models import BaseLimit, InjuryRate, Rate, RetirementRule
from shebao.workflow import services
from shebao.workflow.models import State, Transaction
from tests.factories import ClerkFactory, EmployerFactory, OfficeFactory, OperatorFactory, make_resident_id


def current_month() -> str:
    return timezone.localdate().strftime("%Y-%m")


def enrol_raw(n: int, **changes) -> dict:
    raw = {
        "id_type": "01",
        "id_number": make_resident_id(serial=n),
        "name": "张三",
        "hukou": "城镇",
        "identity": "工人",
        "employment_form": "劳动合同",
        "first_work_date": "2012-07-01",
        "start_month": current_month(),
        "wage": "6500",
        "insurance_types": "",
        "phone": "13800000000",
    }
    raw.update(changes)
    return raw


@pytest.fixture
def params(db):
    """Parameters of the current year (only the ones missing are added)."""
    today = timezone.localdate()
    since = dt.date(today.year, 1, 1)
    for itype in ALL_INSURANCE:
        BaseLimit.objects.get_or_create(
            year=today.year,
            insurance_type=itype,
            effective_from=since,
            defaults={"average_wage": Decimal("7496"), "floor": Decimal("4498"), "ceiling": Decimal("22488")},
        )
    rates = {
        "pension": ("0.16", "0.08"),
        "medical": ("0.08", "0.02"),
        "unemployment": ("0.007", "0.003"),
        "maternity": ("0.007", "0"),
    }
    for itype, (er, pr) in rates.items():
        if not Rate.objects.filter(insurance_type=itype, effective_from__lte=since).exists():
            Rate.objects.create(
                insurance_type=itype,
                effective_from=dt.date(2020, 1, 1),
                employer_rate=Decimal(er),
                personal_rate=Decimal(pr),
            )
    for risk in range(1, 9):
        if not InjuryRate.objects.filter(risk_class=risk, effective_from__lte=since).exists():
            InjuryRate.objects.create(risk_class=risk, effective_from=dt.date(2020, 1, 1), rate=Decimal("0.002") * risk)
    for category, age in (("male", 60), ("female_cadre", 55), ("female_worker", 50)):
        if not RetirementRule.objects.filter(category=category).exists():
            RetirementRule.objects.create(category=category, original_age_years=age, effective_from=dt.date(1990, 1, 1))


@pytest.fixture
def office_a(db):
    return OfficeFactory(code="A01", name="东区社保处", address="东区一路1号", hours="周一至周五 9:00-17:00")


@pytest.fixture
def office_b(db):
    return OfficeFactory(code="B01", name="西区社保处", address="西区二路2号", hours="周一至周五 9:00-17:00")


@pytest.fixture
def employer_a(office_a):
    return EmployerFactory(office=office_a, number="100001")


@pytest.fixture
def employer_b(office_b):
    return EmployerFactory(office=office_b, number="200001")


@pytest.fixture
def operator_a(employer_a):
    return OperatorFactory(username="op_a", employer=employer_a)


@pytest.fixture
def operator_b(employer_b):
    return OperatorFactory(username="op_b", employer=employer_b)


@pytest.fixture
def clerk_a(office_a):
    return ClerkFactory(username="clerk_a", office=office_a, first_name="王审核")


@pytest.fixture
def clerk_a2(office_a):
    return ClerkFactory(username="clerk_a2", office=office_a, first_name="李审核")


@pytest.fixture
def clerk_b(office_b):
    return ClerkFactory(username="clerk_b", office=office_b, first_name="赵审核")


def saved_tx(employer, operator, n: int, **raw_changes) -> Transaction:
    result = services.transaction_save_single(
        employer=employer, actor=operator, business_type="enrol", raw=enrol_raw(n, **raw_changes)
    )
    assert result.ok, [i.message() for i in result.issues]
    return result.transaction


def review_tx(employer, operator, n: int, **raw_changes) -> Transaction:
    """An ordinary employer's single enrolment waiting for a clerk (audit run synchronously)."""
    tx = saved_tx(employer, operator, n, **raw_changes)
    tx = services.transaction_submit(tx=tx, actor=operator, version=tx.version)
    assert services.run_audit(tx.pk) == "review"
    tx.refresh_from_db()
    assert tx.state == State.REVIEW
    return tx


@pytest.fixture
def client_for(client):
    """Return a test client logged in as the given user."""
    from django.test import Client

    def make(user):
        c = Client()
        c.force_login(user)
        return c

    return make
