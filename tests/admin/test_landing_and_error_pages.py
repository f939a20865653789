"""Every role lands on its own start page; a page that is not the user's is the product's own
404 page (never Django's technical one), and the demo runs that way (DEBUG off)."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.test import Client, override_settings

from shebao.demo import data
from shebao.demo.management.commands.rundemo import demo_environment
from tests.factories import AdminFactory, ClerkFactory, EmployerFactory, OperatorFactory

pytestmark = pytest.mark.django_db


def signed_in(user, employer=None) -> Client:
    client = Client()
    client.force_login(user)
    if employer is not None:
        session = client.session
        session["employer_id"] = employer.pk
        session.save()
    return client


def test_every_role_lands_on_its_own_start_page():
    employer = EmployerFactory()
    operator = signed_in(OperatorFactory(employer=employer), employer)
    clerk = signed_in(ClerkFactory(office=employer.office))
    admin = signed_in(AdminFactory())
    assert operator.get("/")["Location"] == "/home/"
    assert clerk.get("/")["Location"] == "/backoffice/"
    assert admin.get("/")["Location"] == "/admin/"
    assert admin.get("/admin/").status_code == 200


def test_the_backoffice_as_sysadmin_is_the_products_not_found_page():
    admin = signed_in(AdminFactory(username="sysadmin"))
    with override_settings(DEBUG=False):
        response = admin.get("/backoffice/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "未找到" in page and 'href="/"' in page and "返回首页" in page
    assert "URLconf" not in page and "Technical" not in page
    # Its start page is the administration, where "/" leads it.
    assert admin.get("/")["Location"] == "/admin/"


def test_the_not_found_page_in_english():
    admin = signed_in(AdminFactory())
    admin.cookies["django_language"] = "en"
    page = admin.get("/backoffice/").content.decode()
    assert "Not found" in page and "Back to the home page" in page


def test_the_error_pages_exist_in_both_languages():
    from django.utils import translation

    for name, zh in (("403.html", "无权访问"), ("403_csrf.html", "页面已过期"), ("500.html", "系统繁忙")):
        with translation.override("zh-hans"):
            assert zh in render_to_string(name)
        with translation.override("en"):
            assert zh not in render_to_string(name)


def test_a_refused_form_token_is_the_expired_page():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403 and "页面已过期" in response.content.decode()


def test_the_demo_runs_with_debug_off_and_its_address_allowed():
    local = demo_environment("127.0.0.1:8000", {})
    assert local["DEBUG"] == "0" and "127.0.0.1" in local["ALLOWED_HOSTS"].split(",")
    assert demo_environment("0.0.0.0:8000", {})["ALLOWED_HOSTS"].endswith(",*")
    assert demo_environment("demo.example:8080", {})["ALLOWED_HOSTS"].endswith(",demo.example")
    # What the environment says stays.
    assert demo_environment("0.0.0.0:8000", {"DEBUG": "1", "ALLOWED_HOSTS": "x"}) == {}


def test_the_demo_logins_say_where_each_role_goes():
    sysadmin = next(spec for spec in data.LOGINS if spec.username == "sysadmin")
    assert "/backoffice/" not in sysadmin.description and "/admin/" in sysadmin.description
