"""The pages the robustness work changed, as a user reads them, in Chinese and English, on a
1366 px desktop and a 390 px phone: the login form, a given-up import, the enrolment form's
retroactive-months preview, a refused 首页 filter and the parameter pages' gap banner.
Screenshots of each go to test-artifacts/browser/<test>/."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from shebao.core import clock
from shebao.core.months import add_months, format_month
from shebao.params.models import BaseLimit
from shebao.workflow import services
from shebao.workflow.models import Mode, State, Transaction
from tests.browser.conftest import PASSWORD
from tests.factories import AdminFactory, TransactionFactory, make_resident_id

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
TEXT = {
    "zh-hans": {
        "login_help": "经办机构人员及系统管理员不填",
        "given_up": "导入失败原因",
        "given_up_reason": "文件导入因系统错误未能完成",
        "cancel": "退单",
        "preview": "追溯月份应缴金额",
        "bad_date": "2200-12-31",
        "provisional": "暂按",
        "pension": "养老",
    },
    "en": {
        "login_help": "Leave empty for agency clerks and administrators",
        "given_up": "Why the import failed",
        "given_up_reason": "A system error stopped the import of the file",
        "cancel": "Cancel transaction",
        "preview": "Amounts due for past months",
        "bad_date": "2200-12-31",
        "provisional": "apply provisionally",
        "pension": "Pension",
    },
}


def page_in(browser, browser_context_args, live_server, language: str, viewport: str):
    context = browser.new_context(**{**browser_context_args, "viewport": VIEWPORTS[viewport]})
    context.set_default_timeout(15_000)
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    return context, context.new_page()


def sign_in(page, url: str, username: str, number: str = "") -> None:
    page.goto(f"{url}/accounts/login/")
    if number:
        page.locator("input[name=employer_number]").fill(number)
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state("load")


def given_up_import(site) -> Transaction:
    """A batch whose import job failed for good (no queue row: nothing imports it)."""
    tx = TransactionFactory(
        employer=site.vip,
        business_type="enrol",
        mode=Mode.BATCH,
        operator=site.vip_user,
        state=State.IMPORTING,
        progress_total=3,
    )
    assert services.job_fail(tx.pk, State.IMPORTING, ref="5CC6E154", error="RuntimeError: test", attempts=3)
    return tx


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_changed_pages_in_both_languages_and_sizes(
    site, browser, browser_context_args, live_server, shot, language, viewport
):
    text = TEXT[language]
    failed = given_up_import(site)
    context, page = page_in(browser, browser_context_args, live_server, language, viewport)
    try:
        page.goto(f"{site.url}/accounts/login/")
        expect(page.locator("body")).to_contain_text(text["login_help"])
        shot(page, f"{language}-{viewport}-login")

        sign_in(page, site.url, site.vip_user.username, site.vip.number)
        page.goto(f"{site.url}/batch/{failed.pk}/")
        expect(page.get_by_role("heading", name=text["given_up"])).to_be_visible()
        expect(page.locator("body")).to_contain_text(text["given_up_reason"])
        expect(page.locator("body")).to_contain_text("5CC6E154")
        expect(page.get_by_role("button", name=text["cancel"], exact=True)).to_be_visible()
        shot(page, f"{language}-{viewport}-import-given-up")

        # A start two months back: the months up to now are shown with their surcharge.
        page.goto(f"{site.url}/business/enrol/single/")
        page.locator("input[name=id_number]").fill(make_resident_id(dt.date(1990, 5, 17), serial=11))
        page.locator("input[name=name]").fill("张三")
        page.locator("input[name=start_month]").fill(format_month(add_months(clock.current_month(), -2)))
        page.locator("input[name=wage]").fill("6500")
        page.locator("input[name=wage]").press("Tab")
        preview = page.locator("#backpay-preview")
        expect(preview).to_be_visible()
        expect(preview).to_contain_text(text["preview"])
        expect(preview.locator("tbody tr")).to_have_count(2 * 5)
        expect(preview.locator("tbody")).to_contain_text(text["pension"])  # labels, not codes
        # The table scrolls inside its card on a phone instead of widening the page.
        assert preview.evaluate("box => box.scrollWidth <= box.clientWidth"), "the preview overflows its card"
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        shot(page, f"{language}-{viewport}-retroactive-preview")

        response = page.goto(f"{site.url}/home/?from=0001-01-01&to=9999-12-31")
        assert response is not None and response.status == 400
        expect(page.locator("body")).to_contain_text(text["bad_date"])
        shot(page, f"{language}-{viewport}-home-bad-date")
    finally:
        context.close()

    # The administrator: the parameter page says which year's limits apply provisionally.
    BaseLimit.objects.filter(year=clock.today().year).delete()
    AdminFactory(username="param-admin")
    context, page = page_in(browser, browser_context_args, live_server, language, viewport)
    try:
        sign_in(page, site.url, "param-admin")
        page.goto(f"{site.url}/admin/params/baselimit/")
        expect(page.locator("ul.messagelist")).to_contain_text(text["provisional"])
        shot(page, f"{language}-{viewport}-parameter-gaps")
    finally:
        context.close()
