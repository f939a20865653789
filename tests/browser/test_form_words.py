"""What the forms and pages say (issue 10 points 6, 7, 8, 13 and 14), read in chromium:
help written for a form, values the ID number implies filled at once, the 追溯补缴 preview
in the reader's language, one message per rule, the 减员 name checked while typing, one name
per export, and the back office without the employer site's 单位篇. Screenshots go to
test-artifacts/browser/<test>/."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation
from playwright.sync_api import expect

from shebao.core.months import add_months, current_month
from shebao.register.models import Relation, RelationStatus
from shebao.workflow import registry
from tests.browser.conftest import AUDIT_TIMEOUT_MS
from tests.browser.pages import field, fill_enrol, save_new, wait_approval
from tests.browser.test_robustness_pages import page_in, sign_in
from tests.factories import PersonFactory, make_resident_id

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ALL_TYPES = ("pension", "medical", "unemployment", "injury", "maternity")


def _contributing_here(employer, name: str):
    person = PersonFactory(name=name)
    for itype in ALL_TYPES:
        Relation.objects.create(
            person=person,
            employer=employer,
            insurance_type=itype,
            status=RelationStatus.CONTRIBUTING,
            start_month=dt.date(2025, 1, 1),
        )
    return person


def _spreadsheet_only_help(code: str, language: str) -> list[str]:
    """The template's help of each field where it differs from the form's, in `language`."""
    with translation.override(language):
        return [
            translation.gettext(spec.template_help)
            for spec in registry.get(code).fields
            if spec.template_help and spec.template_help != spec.help
        ]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_forms_help_for_a_form_fill_what_the_id_implies_and_preview_in_the_readers_language(
    site, browser, browser_context_args, live_server, shot, language
):
    context, page = page_in(browser, browser_context_args, live_server, language, "desktop")
    try:
        sign_in(page, site.url, site.vip_user.username, site.vip.number)
        # Point 7: no spreadsheet advice on a form (text format, 顿号, "code or name").
        for code in ("enrol", "suspend"):
            page.goto(f"{site.url}/business/{code}/single/")
            text = page.locator("form.data-form").inner_text()
            advice = _spreadsheet_only_help(code, language)
            assert advice and not [a for a in advice if a in text], (code, advice)
        page.goto(f"{site.url}/business/enrol/single/")
        # Point 8: 性别 and 出生日期 fill in as soon as the ID number is left.
        page.locator("[name=id_number]").fill(make_resident_id(dt.date(1988, 2, 29), serial=7))
        page.keyboard.press("Tab")
        expect(page.locator("[name=birth_date]")).to_have_value("1988-02-29")
        expect(page.locator("[name=sex]")).not_to_have_value("")
        # The live 追溯补缴 preview names the insurance types in the UI language.
        start = current_month()
        page.locator("[name=start_month]").fill(start.strftime("%Y-%m"))
        page.locator("[name=backpay_from]").fill(add_months(start, -2).strftime("%Y-%m"))
        page.locator("[name=backpay_base]").fill("6000")
        page.keyboard.press("Tab")
        preview = page.locator('[data-preview="backpay"]')
        expect(preview).to_be_visible()
        with translation.override(language):
            pension = translation.gettext("养老")
        expect(preview.locator("tbody")).to_contain_text(pension)
        if language == "zh-hans":
            expect(preview.locator("tbody")).not_to_contain_text("pension")
        shot(page, f"{language}-enrol-form-filled-and-preview")
    finally:
        context.close()


def test_one_message_per_rule_and_the_suspension_name_checked_while_typing(site, new_page, shot):
    here = _contributing_here(site.vip, "张三丰")
    elsewhere = _contributing_here(site.ordinary, "李秋水")
    leaving = _contributing_here(site.vip, "王重阳")  # not held by the returned enrolment below
    page = new_page()
    sign_in(page, site.url, site.vip_user.username, site.vip.number)

    # Point 6: enrolling a person who contributes here for all five types: one message.
    page.goto(f"{site.url}/business/enrol/single/")
    fill_enrol(page, id_number=here.id_number, name=here.name)
    save_new(page)
    page.get_by_role("button", name="提交审批").click()
    wait_approval(page, "回退", timeout=AUDIT_TIMEOUT_MS)
    reasons = page.get_by_test_id("reasons")
    expect(reasons).to_contain_text("该人员已在本单位参加养老、医疗、失业、工伤、生育并正常缴费，无需增员。")
    assert reasons.inner_text().count("ALREADY_CONTRIBUTING_HERE") == 1
    shot(page, "one message for five insurance types")

    # Point 13: 减员 says at once that the name differs, never showing the registered one.
    page.goto(f"{site.url}/business/suspend/single/")
    page.get_by_label("证件号码").fill(here.id_number)
    page.get_by_label("姓名", exact=False).fill("张三")
    page.keyboard.press("Tab")
    expect(field(page, "name").locator(".field-error")).to_contain_text("PERSON_MISMATCH")
    assert here.name not in page.locator("main").inner_text()
    shot(page, "suspension name checked while typing")
    # A person of another employer only: nothing learnt about them before the audit.
    page.get_by_label("证件号码").fill(elsewhere.id_number)
    page.get_by_label("姓名", exact=False).fill("李秋")
    page.get_by_label("证件号码").focus()
    page.keyboard.press("Tab")
    page.get_by_label("姓名", exact=False).focus()
    page.keyboard.press("Tab")
    page.wait_for_timeout(500)
    expect(field(page, "name").locator(".field-error")).not_to_contain_text("PERSON_MISMATCH")

    # Point 14: the saved suspension's export is called 单个减员导出, and no two buttons fetch one file.
    page.get_by_label("证件号码").fill(leaving.id_number)
    page.get_by_label("姓名", exact=False).fill(leaving.name)
    page.get_by_label("停保年月").fill(current_month().strftime("%Y-%m"))
    page.get_by_label("减员原因").select_option("02")
    save_new(page)
    buttons = page.locator("a.button")
    expect(page.get_by_role("link", name="单个减员导出 (PDF)")).to_be_visible()
    hrefs = [b.get_attribute("href") for b in buttons.all()]
    assert len(hrefs) == len(set(hrefs)), hrefs
    shot(page, "suspension saved with its export")


def test_the_back_office_does_not_carry_the_employer_sites_name(site, new_page, shot):
    page = new_page()
    sign_in(page, site.url, site.clerk.username)
    page.goto(f"{site.url}/backoffice/")
    expect(page.locator(".brand")).to_contain_text("经办机构")
    assert "单位篇" not in page.content()
    shot(page, "back office brand")
