"""回退原因 lists errors; a warning (按下限核定) is shown apart, under 提示; each message is read
first, its rule code small beside it. In Chinese and English, at 1366 px and 390 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from shebao.workflow import services
from tests.browser.test_robustness_pages import page_in, sign_in
from tests.factories import make_resident_id
from tests.workflow.helpers import enrol_raw

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = {
    "zh-hans": {"photo": "照片", "floor": "下限"},
    "en": {"photo": "photo", "floor": "floor"},
}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_warning_is_not_a_return_reason(site, browser, browser_context_args, live_server, shot, language, viewport):
    raw = {**enrol_raw(make_resident_id(serial=61)), "wage": "3000", "make_card": "是"}
    tx = services.transaction_save_single(
        employer=site.vip, actor=site.vip_user, business_type="enrol", raw=raw
    ).transaction
    services.transaction_submit(tx=tx, actor=site.vip_user, version=tx.version)
    assert services.run_audit(tx.pk) == "returned"
    context, page = page_in(browser, browser_context_args, live_server, language, viewport)
    try:
        sign_in(page, site.url, site.vip_user.username, site.vip.number)
        page.goto(f"{site.url}/tx/{tx.pk}/")
        reasons, warnings = page.get_by_test_id("reasons"), page.get_by_test_id("warnings")
        expect(reasons).to_contain_text(TEXT[language]["photo"])
        expect(reasons).not_to_contain_text(TEXT[language]["floor"])
        expect(warnings).to_contain_text(TEXT[language]["floor"])
        # The message comes first; the code is small, after it.
        first = reasons.locator("li").first
        assert not first.inner_text().startswith("[")
        expect(first.locator(".rule-code")).to_have_text("PHOTO_REQUIRED")
        wide = page.evaluate(
            """() => [...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right
                > window.innerWidth + 1 && !e.closest(".scroll-x")).map(e => e.tagName + "." + e.className)"""
        )
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), wide
        shot(page, f"{language}-{viewport}-returned-with-a-warning")
        page.goto(f"{site.url}/home/")
        row = page.locator(f'tr[data-serial="{tx.serial}"]')
        expect(row).to_contain_text(TEXT[language]["photo"])
        expect(row).not_to_contain_text(TEXT[language]["floor"])
        shot(page, f"{language}-{viewport}-task-list")
    finally:
        context.close()
