"""个人工资年度申报 in chromium, by the labels users read: 单个办理 (search a person, 选择, the
preview of the old and new base, 保存, 提交审批 with the undeclared persons' warning, 结束) and
批量办理 (the pre-filled 模板下载, 浏览/上传 with 申报年度, the import screen, 提交审批, 结束, the
result query); and the changed pages fit at 1366 px and 390 px in both languages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import openpyxl
import pytest
from playwright.sync_api import expect

from shebao.core import clock
from shebao.params.models import DeclarationWindow
from shebao.register.models import ContributionBase, Relation, RelationStatus
from shebao.workflow import services
from shebao.workflow.models import State, Transaction
from tests.browser.conftest import AUDIT_TIMEOUT_MS
from tests.browser.pages import go_home, login, wait_approval
from tests.browser.test_layout import CHECK
from tests.browser.test_robustness_pages import page_in, sign_in
from tests.factories import PersonFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TYPES = ("pension", "medical")


def _year() -> int:
    return clock.today().year


def contributing(employer, *, name: str, wage: str = "6000"):
    """A person contributing with the employer since January of last year, last year's wage declared."""
    year = _year()
    person = PersonFactory(name=name)
    for itype in TYPES:
        Relation.objects.create(
            person=person,
            employer=employer,
            insurance_type=itype,
            status=RelationStatus.CONTRIBUTING,
            start_month=dt.date(year - 1, 1, 1),
        )
        ContributionBase.objects.create(
            person=person,
            employer=employer,
            year=year - 1,
            insurance_type=itype,
            declared_wage=Decimal(wage),
            base=Decimal(wage),
        )
    return person


@pytest.fixture
def wage_site(site):
    year = _year()
    DeclarationWindow.objects.create(year=year, opens=dt.date(year, 1, 1), closes=dt.date(year, 12, 31))
    return site


def open_business(page, action: str) -> None:
    go_home(page)
    page.locator("section.card").first.get_by_role("link", name="个人工资年度申报").click()
    page.get_by_role("link", name=action).click()


def test_single_declaration_search_preview_save_submit_and_finish(wage_site, new_page, shot):
    site = wage_site
    person = contributing(site.vip, name="欧阳晓明")
    contributing(site.vip, name="李未报")
    page = new_page()
    login(page, site.url, site.vip_user.username, site.vip.number)
    open_business(page, "单个办理")
    expect(page.get_by_role("heading", name="个人工资年度申报 · 单个办理")).to_be_visible()
    expect(page.get_by_label("申报年度")).to_have_value(str(_year()))

    page.get_by_label("查找本单位参保缴费人员（姓名或证件号码）").fill("欧阳")
    page.get_by_role("button", name="查询").click()
    matches = page.get_by_test_id("person-matches")
    expect(matches).to_contain_text(person.id_number)
    shot(page, "search")
    matches.get_by_role("link", name="选择").click()
    expect(page.get_by_role("textbox", name="证件号码")).to_have_value(person.id_number)
    expect(page.get_by_role("textbox", name="姓名")).to_have_value("欧阳晓明")

    page.get_by_label("上年度月平均工资").fill("3000")
    page.keyboard.press("Tab")
    expect(page.locator('.field[data-field="wage"] .field-warning')).to_contain_text("按下限")
    preview = page.locator("#change-preview")
    expect(preview).to_be_visible()
    expect(preview.locator("tbody tr").first).to_contain_text("6000.00")
    shot(page, "preview of a wage below the floor")
    page.get_by_label("上年度月平均工资").fill("8000")
    page.keyboard.press("Tab")
    expect(preview.locator("tbody tr").first).to_contain_text("8000.00")
    expect(preview.locator("tbody tr").first).to_contain_text("+320.00")
    shot(page, "preview of the new base")

    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_test_id("business-status")).to_have_text("未提交")
    serial = page.get_by_test_id("serial").inner_text().strip()
    page.get_by_role("button", name="提交审批").click()
    expect(page.locator(".messages")).to_contain_text("尚有 1 人未申报：李未报")
    wait_approval(page, "结束")
    shot(page, "finished")
    tx = Transaction.objects.get(serial=serial)
    assert tx.state == State.FINISHED
    assert ContributionBase.objects.get(person=person, year=_year(), insurance_type="pension").base == Decimal("8000")


def test_batch_declaration_from_the_pre_filled_template(wage_site, long_worker, new_page, shot, tmp_path):
    site = wage_site
    persons = [contributing(site.vip, name=name) for name in ("周一", "吴二", "郑三")]
    page = new_page()
    login(page, site.url, site.vip_user.username, site.vip.number)
    go_home(page)
    page.locator("section.card").first.get_by_role("link", name="个人工资年度申报").click()
    with page.expect_download() as info:
        page.get_by_role("link", name="模板下载").click()
    path = tmp_path / "template.xlsx"
    info.value.save_as(path)
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    assert [c.value for c in sheet[1]][:5] == ["证件类型", "证件号码", "姓名", "上年度月平均工资", "现缴费基数"]
    assert {sheet.cell(row=r, column=2).value for r in range(2, 5)} == {p.id_number for p in persons}
    for r in range(2, 5):
        sheet.cell(row=r, column=4, value="7500")
    book.save(path)

    page.get_by_role("link", name="批量办理").click()
    expect(page.get_by_label("申报年度")).to_have_value(str(_year()))
    page.get_by_label("选择文件（浏览）").set_input_files(path)
    shot(page, "upload with the declared year")
    page.get_by_role("button", name="上传").click()
    counts = page.get_by_test_id("counts")
    expect(counts).to_be_visible(timeout=AUDIT_TIMEOUT_MS)
    expect(counts.locator('[data-count="total"]')).to_have_text("3")
    expect(counts.locator('[data-count="import_failed"]')).to_have_text("0")
    shot(page, "import screen")
    page.get_by_role("button", name="提交审批").click()
    wait_approval(page, "结束")
    shot(page, "finished")
    assert (
        sorted(ContributionBase.objects.filter(year=_year(), insurance_type="pension").values_list("base", flat=True))
        == [Decimal("7500")] * 3
    )

    go_home(page)
    page.locator("section.card").first.get_by_role("link", name="个人工资年度申报").click()
    page.get_by_role("link", name="个人工资年度申报审核结果查询").click()
    expect(page.get_by_role("heading", name="个人工资年度申报审核结果查询")).to_be_visible()
    expect(page.locator("main")).to_contain_text(Transaction.objects.get(business_type="annual_wage").serial)
    shot(page, "result query")


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_declaration_pages_fit(wage_site, browser, browser_context_args, live_server, shot, language, viewport):
    site = wage_site
    person = contributing(site.vip, name="欧阳万佳")
    tx = services.transaction_save_single(
        employer=site.vip,
        actor=site.vip_user,
        business_type="annual_wage",
        raw={"id_type": "01", "id_number": person.id_number, "name": person.name, "wage": "8000"},
        header={"year": str(_year())},
    ).transaction
    context, page = page_in(browser, browser_context_args, live_server, language, viewport)
    try:
        sign_in(page, site.url, site.vip_user.username, site.vip.number)
        for name, path in (
            ("business", "/business/annual_wage/"),
            ("single-search", "/business/annual_wage/single/?q=%E6%AC%A7%E9%98%B3"),
            ("single-picked", f"/business/annual_wage/single/?person={person.pk}"),
            ("transaction-preview", f"/tx/{tx.pk}/"),
            ("batch-upload", "/batch/upload/annual_wage/"),
            ("batch-results", "/batch/results/annual_wage/"),
        ):
            page.goto(f"{site.url}{path}")
            page.wait_for_load_state("load")
            shot(page, f"{language}-{viewport}-{name}")
            assert page.evaluate(CHECK) == [], (name, path)
    finally:
        context.close()
