"""The pages the business-type seam draws from declarations, as a user reads them, in Chinese
and English, on a 1366 px desktop and a 390 px phone: a type of the test suite (its menu entry,
landing page, single form with its header section, saved transaction and batch upload page
with its header field) and the enrolment form's two sections with its preview. Screenshots go
to test-artifacts/browser/<test>/."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from shebao.workflow import registry
from shebao.workflow.models import Transaction
from tests.browser.test_robustness_pages import page_in, sign_in
from tests.factories import PersonFactory
from tests.seam.test_one_module import CODE, ContactCheck

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = {
    "zh-hans": {"single": "单个办理", "save": "保存", "header": "申报信息", "backpay": "追溯补缴"},
    "en": {"single": "Single", "save": "Save", "header": "Declaration", "backpay": "Retroactive back payment"},
}


@pytest.fixture
def contact_check():
    registry.register(ContactCheck)
    yield
    registry.unregister(CODE)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_pages_drawn_from_a_business_types_declarations(
    site, contact_check, browser, browser_context_args, live_server, shot, language, viewport
):
    text = TEXT[language]
    person = PersonFactory()
    context, page = page_in(browser, browser_context_args, live_server, language, viewport)
    try:
        sign_in(page, site.url, site.ordinary_user.username, site.ordinary.number)
        page.goto(f"{site.url}/business/{CODE}/")
        expect(page.locator("h1")).to_have_text("年度联系电话核对")
        expect(page.get_by_role("link", name="年度联系电话核对审核结果查询")).to_be_visible()
        shot(page, f"{language}-{viewport}-landing")

        page.get_by_role("link", name=text["single"], exact=True).click()
        expect(page.locator("fieldset legend").first).to_have_text(text["header"])
        page.locator("input[name=year]").fill("2026")
        page.locator("input[name=id_number]").fill(person.id_number)
        page.locator("input[name=name]").fill(person.name)
        page.locator("input[name=phone]").fill("027-85551234")
        page.locator("input[name=phone]").press("Tab")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        shot(page, f"{language}-{viewport}-single-form")
        page.get_by_role("button", name=text["save"], exact=True).click()
        page.wait_for_load_state("load")
        tx = Transaction.objects.get(business_type=CODE)
        assert tx.header == {"year": "2026"}
        expect(page.locator("input[name=year]")).to_have_value("2026")
        expect(page.get_by_role("link", name="导出核对表 (PDF)")).to_be_visible()
        shot(page, f"{language}-{viewport}-saved")

        page.goto(f"{site.url}/batch/upload/{CODE}/")
        expect(page.locator("input[name=year]")).to_be_visible()
        shot(page, f"{language}-{viewport}-batch-upload")

        page.goto(f"{site.url}/business/enrol/single/")
        # The ID number fills in what it says: sex and birth date.
        page.locator("input[name=id_number]").fill(
            PersonFactory.build(birth_date=dt.date(1991, 8, 9), sex="2").id_number
        )
        page.locator("input[name=id_number]").press("Tab")
        expect(page.locator("input[name=birth_date]")).to_have_value("1991-08-09")
        expect(page.locator("select[name=sex]")).to_have_value("2")
        legends = page.locator("fieldset legend")
        expect(legends).to_have_count(2)
        expect(legends.nth(1)).to_have_text(text["backpay"])
        shot(page, f"{language}-{viewport}-enrol-sections")
    finally:
        context.close()
