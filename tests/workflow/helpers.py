"""Helpers shared by the workflow and web tests: the single-enrolment form's row and a
logged-in client. Test data (rows, ID numbers, parameters) comes from tests/factories.py."""

from __future__ import annotations

from shebao.accounts.models import User
from shebao.core.months import current_month
from shebao.employers.models import Employer


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
