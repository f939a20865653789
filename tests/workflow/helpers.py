"""Builders shared by the workflow and web tests: real rows, real services, no mocks."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from django.utils import timezone

from shebao.accounts.models import Membership, Role, User
from shebao.core.identity import USCC_CHARS, USCC_WEIGHTS, check_uscc, id_check_char
from shebao.core.months import current_month
from shebao.employers.models import Employer, Office
from shebao.params.models import BaseLimit, InjuryRate, Rate, RetirementRule

_seq = itertools.count(1)


def make_id(birth: dt.date, seq: int = 1, region: str = "420102") -> str:
    body = f"{region}{birth:%Y%m%d}{seq % 1000:03d}"
    return body + id_check_char(body)


def make_uscc(n: int) -> str:
    body = f"91420100MA{n:07d}"[:17]
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(body, USCC_WEIGHTS, strict=True))
    code = body + USCC_CHARS[(31 - total % 31) % 31]
    assert check_uscc(code)[1] is None
    return code


def seed_params(years: list[int] | None = None) -> None:
    years = years or sorted({2024, 2025, timezone.localdate().year, timezone.localdate().year - 1})
    types = ["pension", "medical", "unemployment", "injury", "maternity"]
    for year in years:
        for itype in types:
            BaseLimit.objects.get_or_create(
                year=year,
                insurance_type=itype,
                effective_from=dt.date(year, 1, 1),
                defaults={"average_wage": Decimal("7496"), "floor": Decimal("4498"), "ceiling": Decimal("22488")},
            )
    for itype, er, pr in [
        ("pension", "0.16", "0.08"),
        ("medical", "0.08", "0.02"),
        ("unemployment", "0.007", "0.003"),
        ("maternity", "0.007", "0"),
    ]:
        Rate.objects.get_or_create(
            insurance_type=itype,
            effective_from=dt.date(2019, 5, 1),
            defaults={"employer_rate": Decimal(er), "personal_rate": Decimal(pr)},
        )
    for cls, rate in enumerate(["0.002", "0.004", "0.007", "0.009", "0.011", "0.013", "0.016", "0.019"], start=1):
        InjuryRate.objects.get_or_create(
            risk_class=cls, effective_from=dt.date(2015, 10, 1), defaults={"rate": Decimal(rate)}
        )
    for cat, age, step, cap in [("male", 60, 4, 36), ("female_cadre", 55, 4, 36), ("female_worker", 50, 2, 60)]:
        RetirementRule.objects.get_or_create(
            category=cat,
            effective_from=dt.date(1951, 1, 1),
            defaults={
                "original_age_years": age,
                "reform_start": dt.date(2025, 1, 1),
                "step_months": step,
                "cap_months": cap,
            },
        )


def make_office(code: str = "420102") -> Office:
    office, _ = Office.objects.get_or_create(
        code=code,
        defaults={"name": f"区社保处{code}", "address": "武汉市江岸区解放大道1号", "hours": "周一至周五 9:00-17:00"},
    )
    return office


def make_employer(*, vip: bool, office: Office | None = None) -> Employer:
    n = next(_seq)
    return Employer.objects.create(
        number=f"9{n:07d}", name=f"测试单位{n}", credit_code=make_uscc(n), office=office or make_office(), is_vip=vip
    )


def make_operator(employer: Employer, username: str | None = None) -> User:
    user = User.objects.create_user(
        username=username or f"op{next(_seq)}", password="Xx-Pass-2026!", role=Role.OPERATOR, must_change_password=False
    )
    Membership.objects.create(user=user, employer=employer, is_admin=True)
    return user


def make_clerk(office: Office) -> User:
    return User.objects.create_user(
        username=f"clerk{next(_seq)}",
        password="Xx-Pass-2026!",
        role=Role.CLERK,
        office=office,
        must_change_password=False,
    )


def enrol_raw(id_number: str, name: str = "张三", **overrides) -> dict:
    raw = {
        "id_type": "01",
        "id_number": id_number,
        "name": name,
        "hukou": "城镇",
        "identity": "工人",
        "employment_form": "劳动合同",
        "first_work_date": "2012-07-01",
        "start_month": current_month().strftime("%Y-%m"),
        "wage": "6500",
        "insurance_types": "",
        "phone": "13800000000",
    }
    raw.update(overrides)
    return raw


def login(client, user: User, employer: Employer | None = None):
    client.force_login(user)
    if employer is not None:
        session = client.session
        session["employer_id"] = employer.pk
        session.save()
    return client
