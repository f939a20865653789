"""首页's filters as a user reads them, in Chinese and English, at 1366 px and 390 px: a
reversed date range says so, and a person is found by 姓名 or 证件号码. Screenshots go to
test-artifacts/browser/<test>/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from shebao.workflow import services
from tests.browser.test_robustness_pages import page_in, sign_in
from tests.factories import make_resident_id
from tests.workflow.helpers import enrol_raw

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = {
    "zh-hans": {"person": "姓名或证件号码", "search": "查询", "reversed": "晚于"},
    "en": {"person": "Name or ID number", "search": "Search", "reversed": "is after"},
}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_home_filters(site, browser, browser_context_args, live_server, shot, language, viewport):
    import datetime as dt

    text = TEXT[language]
    found, other = (
        services.transaction_save_single(
            employer=site.vip, actor=site.vip_user, business_type="enrol", raw={**enrol_raw(pid), "name": name}
        ).transaction
        for pid, name in (
            (make_resident_id(dt.date(1991, 2, 5)), "周一"),
            (make_resident_id(dt.date(1992, 3, 6)), "吴二"),
        )
    )
    context, page = page_in(browser, browser_context_args, live_server, language, viewport)
    try:
        sign_in(page, site.url, site.vip_user.username, site.vip.number)
        page.goto(f"{site.url}/home/")
        expect(page.get_by_test_id("password-change")).to_be_visible()  # 修改密码, for every user
        shot(page, f"{language}-{viewport}-top-bar")
        if viewport == "desktop":
            # The top bar keeps one line at 1366 px in Chinese; in English, whose words are
            # longer, the menu may take a second line inside the bar, never a third.
            tops = page.locator(".topbar .mainnav a, .topbar .who a").evaluate_all(
                "links => links.map(a => Math.round(a.getBoundingClientRect().top))"
            )
            one_line, two_lines = 4, 30  # a line of the menu is 23 px high
            assert max(tops) - min(tops) <= (one_line if language == "zh-hans" else two_lines), tops
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.get_by_label(text["person"]).fill("周一")
        page.get_by_role("button", name=text["search"], exact=True).click()
        page.wait_for_load_state("load")
        expect(page.locator(f'tr[data-serial="{found.serial}"]')).to_be_visible()
        expect(page.locator(f'tr[data-serial="{other.serial}"]')).to_have_count(0)
        # The lists scroll inside their cards on a phone instead of widening the page.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        shot(page, f"{language}-{viewport}-found-by-name")
        page.goto(f"{site.url}/home/?from=2026-06-10&to=2026-06-01")
        expect(page.get_by_role("alert")).to_contain_text(text["reversed"])
        shot(page, f"{language}-{viewport}-reversed-dates")
    finally:
        context.close()
