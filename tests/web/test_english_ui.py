"""The UI is fully usable in English: after the language switch no Chinese is left on the
pages except the data the user entered (names of people and employers)."""

import datetime as dt
import re

import pytest
from django.conf import settings

from shebao.workflow import services
from tests.factories import EmployerFactory, OperatorFactory, make_resident_id, seed_params
from tests.workflow.helpers import enrol_raw, login

pytestmark = pytest.mark.django_db
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def _visible_text(html: str) -> str:
    html = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", html)
    html = re.sub(r"(?s)<option[^>]*>.*?</option>", " ", html)  # the language switch names 中文
    return re.sub(r"<[^>]+>", " ", html)


def test_switching_to_english_leaves_no_chinese_interface_text(client):
    seed_params()
    employer = EmployerFactory(is_vip=True)
    user = OperatorFactory(employer=employer)
    login(client, user, employer)
    result = services.transaction_save_single(
        employer=employer,
        actor=user,
        business_type="enrol",
        raw=enrol_raw(make_resident_id(dt.date(1990, 4, 4)), name="张三"),
    )
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/home/"})
    assert response.status_code == 302 and client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    data = [employer.name, "张三", "中文"]
    for url in (
        "/home/",
        "/business/enrol/",
        "/business/enrol/single/",
        "/business/suspend/single/",
        f"/tx/{result.transaction.pk}/",
        "/persons/",
        "/batch/upload/enrol/",
        "/batch/results/enrol/",
    ):
        page = client.get(url)
        assert page.status_code == 200, url
        text = _visible_text(page.content.decode())
        for value in data:
            text = text.replace(value, "")
        leftovers = sorted(set(CJK.findall(text)))
        assert not leftovers, (
            f"{url}: Chinese left in the English UI: {''.join(leftovers)} in "
            + " | ".join(line.strip() for line in text.splitlines() if CJK.search(line))[:500]
        )


def test_chinese_is_the_default_whatever_the_browser_asks(client):
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert "登录" in page.content.decode() and page["Content-Language"] == "zh-hans"
