"""A NUL character in a request is refused with a clear message (PostgreSQL cannot store or compare it)."""

from __future__ import annotations

import pytest

from shebao.workflow.models import Transaction
from tests.security.conftest import logged_in
from tests.workflow.helpers import enrol_raw

pytestmark = pytest.mark.django_db

MESSAGE = "请求中含有不允许的控制字符（NUL），请删除后重试。"


@pytest.mark.parametrize("url", ["/home/?serial=%00", "/home/?type=a%00b", "/persons/?q=%00", "/home/?%00=1"])
def test_nul_in_a_query_is_refused(world, url):
    response = logged_in(world.operator, world.employer).get(url)
    assert response.status_code == 400
    assert MESSAGE in response.content.decode()


def test_nul_in_a_form_field_is_refused_and_nothing_is_saved(world):
    before = Transaction.objects.count()
    data = enrol_raw("420102199202021238", address="武汉市\x00江岸区")
    data["insurance_types"] = []
    response = logged_in(world.operator, world.employer).post("/business/enrol/single/", data)
    assert response.status_code == 400
    assert MESSAGE in response.content.decode()
    assert Transaction.objects.count() == before


def test_nul_in_the_clerk_queue_search_is_refused(world):
    response = logged_in(world.clerk).get("/backoffice/?serial=%00")
    assert response.status_code == 400


def test_login_with_nul_is_refused_not_a_server_error(db):
    from django.test import Client

    response = Client().post("/accounts/login/", {"username": "a\x00", "password": "b"})
    assert response.status_code == 400


def test_ordinary_requests_pass(world):
    assert logged_in(world.operator, world.employer).get("/home/?serial=2026").status_code == 200
