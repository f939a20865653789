"""参保人员 as an employer's operator uses it, in Chinese and English, at 1366 px and 390 px:
find the suspended person, 续保 opens the enrolment form filled from the register, the person
page shows the history here, and the list downloads as .xlsx. Screenshots go to
test-artifacts/browser/<test>/."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import openpyxl
import pytest
from playwright.sync_api import expect

from shebao.register.models import ContributionBase, Relation, RelationStatus
from tests.browser.test_robustness_pages import page_in, sign_in
from tests.factories import PersonFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = {
    "zh-hans": {
        "status": "参保状态",
        "suspended": "暂停缴费",
        "search": "查询",
        "resume": "续保",
        "name": "姓名",
        "id_number": "证件号码",
        "reason": "辞职",
        "export": "导出参保人员",
        "header": "姓名",
    },
    "en": {
        "status": "Insurance status",
        "suspended": "Suspended",
        "search": "Search",
        "resume": "Resume",
        "name": "Name",
        "id_number": "ID number",
        "reason": "Resignation",
        "export": "Export persons",
        "header": "Name",
    },
}


def _persons(employer):
    """张三 contributing and 阿依古丽·买买提 suspended (辞职, 停保年月 2026-05) at the employer."""
    zhang = PersonFactory(name="张三")
    suspended = PersonFactory(name="阿依古丽·买买提")
    for person, status in ((zhang, RelationStatus.CONTRIBUTING), (suspended, RelationStatus.SUSPENDED)):
        for itype in ("pension", "medical", "unemployment", "injury", "maternity"):
            Relation.objects.create(
                person=person,
                employer=employer,
                insurance_type=itype,
                status=status,
                start_month=dt.date(2025, 1, 1),
                end_month=dt.date(2026, 5, 1) if status == RelationStatus.SUSPENDED else None,
                end_reason="02" if status == RelationStatus.SUSPENDED else "",
            )
        ContributionBase.objects.create(
            person=person,
            employer=employer,
            insurance_type="pension",
            year=2025,
            declared_wage=Decimal("5300.50"),
            base=Decimal("5300.50"),
        )
    return zhang, suspended


def _no_page_scroll(page) -> None:
    # The tables scroll inside their cards on a phone instead of widening the page.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_persons_page(site, browser, browser_context_args, live_server, shot, language, viewport, tmp_path):
    text = TEXT[language]
    zhang, suspended = _persons(site.vip)
    context, page = page_in(browser, browser_context_args, live_server, language, viewport)
    try:
        sign_in(page, site.url, site.vip_user.username, site.vip.number)
        page.goto(f"{site.url}/persons/")
        table = page.get_by_test_id("persons")
        expect(table.locator("tbody tr")).to_have_count(2)
        shot(page, f"{language}-{viewport}-all")
        _no_page_scroll(page)

        # Find the suspended person.
        page.get_by_label(text["status"]).select_option(label=text["suspended"])
        page.get_by_role("button", name=text["search"], exact=True).click()
        page.wait_for_load_state("load")
        row = table.locator(f'tr[data-person="{suspended.pk}"]')
        expect(row).to_be_visible()
        expect(table.locator("tbody tr")).to_have_count(1)
        expect(row).to_contain_text(text["suspended"])
        # A long name, the badge and the button each keep one line.
        for cell in (
            row.get_by_role("link", name=suspended.name),
            row.get_by_role("link", name=text["resume"], exact=True),
        ):
            box = cell.bounding_box()
            assert box is not None and box["height"] < 40, box
        shot(page, f"{language}-{viewport}-suspended")
        _no_page_scroll(page)

        # 续保: the enrolment form, filled from the register.
        row.get_by_role("link", name=text["resume"], exact=True).click()
        page.wait_for_load_state("load")
        # Required fields are labelled "*姓名".
        required = lambda label: page.get_by_label(re.compile(rf"^\*?{re.escape(label)}$"))  # noqa: E731
        expect(required(text["name"])).to_have_value(suspended.name)
        expect(required(text["id_number"])).to_have_value(suspended.id_number)
        expect(page.locator("input[name=wage]")).to_have_value("5300.50")
        shot(page, f"{language}-{viewport}-resume-form")

        # The person page: the history here.
        page.goto(f"{site.url}/persons/?status=suspended")
        page.get_by_test_id("persons").get_by_role("link", name=suspended.name).click()
        page.wait_for_load_state("load")
        expect(page.get_by_role("heading", level=1)).to_contain_text(suspended.name)
        relations = page.get_by_test_id("relations")
        expect(relations).to_contain_text(text["reason"])
        expect(relations).to_contain_text("2026-05")
        expect(page.get_by_test_id("bases")).to_contain_text("5300.50")
        expect(page.get_by_role("link", name=text["resume"], exact=True)).to_be_visible()
        shot(page, f"{language}-{viewport}-person")
        _no_page_scroll(page)

        # The list (all persons) as .xlsx.
        page.goto(f"{site.url}/persons/")
        with page.expect_download() as info:
            page.get_by_role("link", name=text["export"]).click()
        path = tmp_path / "persons.xlsx"
        info.value.save_as(path)
        sheet = openpyxl.load_workbook(path).active
        values = list(sheet.iter_rows(values_only=True))
        assert values[0][0] == text["header"]
        assert [row[0] for row in values[1:]] == [suspended.name, zhang.name]  # a (阿) before zh (张)
        assert values[1][1] == suspended.id_number
    finally:
        context.close()
