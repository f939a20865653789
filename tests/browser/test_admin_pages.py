"""The administrator's pages as an administrator reads them, in Chinese and English, on a
1366 px desktop and a 390 px phone: the index with its named sections, a parameter list with
its months and count, and 现行参数 (the values in effect in a chosen month, and a bad month
refused). Each page fits like the employer's pages (no page wider than the viewport, no button
or badge wrapped or cut). Screenshots go to test-artifacts/browser/<test>/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_layout import CHECK
from tests.browser.test_robustness_pages import page_in, sign_in
from tests.factories import AdminFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = {
    "zh-hans": {
        "section": "参数管理",
        "in_effect": "现行参数",
        "list": "缴费基数上下限",
        "count": "共",
        "show": "查看",
        "pension": "养老",
        "bad": "请填写年月，如 2026-07。",
        "heading": "2026-07 生效的参数",
    },
    "en": {
        "section": "Parameters",
        "in_effect": "Parameters in effect",
        "list": "Contribution base limits",
        "count": "in total",
        "show": "View",
        "pension": "Pension",
        "bad": "Enter a month, e.g. 2026-07.",
        "heading": "Parameters in effect in 2026-07",
    },
}


def fits(page) -> list[str]:
    """What does not fit on the page ([] when everything does)."""
    return page.evaluate(CHECK)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_admin_index_parameter_list_and_values_in_effect(
    live_server, transactional_db, params, browser, browser_context_args, shot, language, viewport
):
    text = TEXT[language]
    AdminFactory(username="sysadmin")
    context, page = page_in(browser, browser_context_args, live_server, language, viewport)
    try:
        sign_in(page, live_server.url, "sysadmin")
        expect(page).to_have_url(f"{live_server.url}/admin/")
        expect(page.locator("#content-main caption a.section", has_text=text["section"])).to_be_visible()
        expect(
            page.locator("#content-main").get_by_role("link", name=text["in_effect"], exact=False).first
        ).to_be_visible()
        assert page.locator("#content-main caption", has_text="Params").count() == 0
        shot(page, f"{language}-{viewport}-admin-index")
        assert fits(page) == []

        page.goto(f"{live_server.url}/admin/params/baselimit/")
        expect(page.locator("#content h1, #content-main h1").first).to_contain_text(text["list"])
        expect(page.locator("p.paginator")).to_contain_text(text["count"])
        expect(page.locator("#result_list tbody tr").first).to_contain_text("-01")
        shot(page, f"{language}-{viewport}-params-list")
        assert fits(page) == []

        page.locator("#user-tools").get_by_role("link", name=text["in_effect"]).click()
        page.wait_for_load_state("load")
        page.locator("input[name=month]").fill("2026-07")
        page.get_by_role("button", name=text["show"]).click()
        page.wait_for_load_state("load")
        expect(page.locator("#content-main")).to_contain_text(text["heading"])
        expect(page.locator("[data-testid=rates] tbody tr").first).to_contain_text(text["pension"])
        expect(page.locator("[data-testid=injury] tbody tr")).to_have_count(8)
        shot(page, f"{language}-{viewport}-in-effect")
        assert fits(page) == []

        page.locator("input[name=month]").fill("2026-13")
        page.get_by_role("button", name=text["show"]).click()
        page.wait_for_load_state("load")
        expect(page.get_by_role("alert")).to_have_text(text["bad"])
        shot(page, f"{language}-{viewport}-in-effect-bad-month")
        assert fits(page) == []
    finally:
        context.close()


ADMIN_PAGES = (
    ("params-add", "/admin/params/baselimit/add/"),
    ("rates", "/admin/params/rate/"),
    ("injury-rates", "/admin/params/injuryrate/"),
    ("retirement-rules", "/admin/params/retirementrule/"),
    ("settings", "/admin/params/setting/"),
    ("minimum-wages", "/admin/params/minimumwage/"),
    ("declaration-windows", "/admin/params/declarationwindow/"),
    ("declaration-window-add", "/admin/params/declarationwindow/add/"),
    ("transactions", "/admin/workflow/transaction/"),
    ("event-log", "/admin/workflow/event/"),
    ("employers", "/admin/employers/employer/"),
    ("employer-changes", "/admin/employers/employerchange/"),
    ("users", "/admin/accounts/user/"),
    ("persons", "/admin/register/person/"),
    ("monthly-assessment", "/admin/register/assessmentrun/"),
    ("rebases", "/admin/register/rebase/"),
)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_admin_pages_fit(
    live_server, transactional_db, params, browser, browser_context_args, shot, language, viewport
):
    """Every list and form the administrator opens from the index: lists scroll inside their
    box on a phone, nothing wraps inside a button, in both languages."""
    from tests.factories import TransactionFactory, make_resident_id
    from tests.workflow.helpers import enrol_raw

    AdminFactory(username="sysadmin")
    TransactionFactory(
        business_type="enrol", rows=[{**enrol_raw(make_resident_id(serial=n)), "name": "欧阳万佳"} for n in (1, 2)]
    )
    context, page = page_in(browser, browser_context_args, live_server, language, viewport)
    try:
        sign_in(page, live_server.url, "sysadmin")
        for name, path in ADMIN_PAGES:
            response = page.goto(f"{live_server.url}{path}")
            assert response is not None and response.status == 200, path
            page.wait_for_load_state("load")
            shot(page, f"{language}-{viewport}-{name}")
            assert fits(page) == [], (name, path)
    finally:
        context.close()
