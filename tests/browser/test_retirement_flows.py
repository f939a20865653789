"""退休人员待遇申报 in chromium, by the labels users read: 单个办理 (search a person, 选择, the
estimate 养老金测算 before saving, 保存, 提交审批, 结束, the 退休人员 page); a 弹性提前退休 refused
at 提交审批 until its scan is attached (上传材料), then waiting for the clerk; 批量办理 (the
pre-filled 模板下载, 浏览/上传, the import screen, 提交审批, 结束, the result query); and the
pages fit at 1366 px and 390 px in both languages.

Browser tests run on the real clock: the persons are born so that their statutory retirement
month is last month or this month, with 200 months of pension and medical lines."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from PIL import Image
from playwright.sync_api import expect

from shebao.core import clock
from shebao.core.months import add_months
from shebao.params.services import ParamSnapshot
from shebao.register.models import ContributionLine, LineKind, Relation, RelationStatus, Retiree
from shebao.workflow import services
from shebao.workflow.models import State, Transaction
from tests.batch.conftest import create_batch, xlsx_bytes
from tests.browser.conftest import AUDIT_TIMEOUT_MS
from tests.browser.pages import go_home, login, wait_approval
from tests.browser.test_layout import CHECK
from tests.browser.test_robustness_pages import page_in, sign_in
from tests.factories import PersonFactory, make_resident_id

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CODE = "retiree_benefit"
BASE = Decimal("7496.00")


def born_to_retire(month: dt.date) -> tuple[str, str, dt.date] | None:
    """(sex, identity, birth date) of someone whose statutory retirement month is `month`."""
    params = ParamSnapshot.load()
    for sex, identity in (("1", "worker"), ("2", "cadre"), ("2", "worker")):
        for back in range(50 * 12, 66 * 12):
            birth = add_months(month, -back).replace(day=12)
            if params.retirement_month(sex=sex, identity=identity, birth_date=birth) == month:
                return sex, identity, birth
    return None


def retiring(employer, *, name: str, serial: int):
    """A person reaching the statutory month last month (or this month), contributing here
    for 200 months with their lines; returns (person, 退休年月)."""
    now = clock.current_month()
    for month in (add_months(now, -1), now):
        found = born_to_retire(month)
        if found:
            break
    assert found, "no birth date retires last month or this month"
    sex, identity, birth = found
    person = PersonFactory(
        name=name, sex=sex, identity=identity, birth_date=birth, id_number=make_resident_id(birth, sex, serial=serial)
    )
    start = add_months(now, -199)
    for itype in ("pension", "medical"):
        Relation.objects.create(
            person=person,
            employer=employer,
            insurance_type=itype,
            status=RelationStatus.CONTRIBUTING,
            start_month=start,
        )
    lines = []
    for n in range(200):
        for itype, personal in (("pension", Decimal("0.08")), ("medical", Decimal("0.02"))):
            lines.append(
                ContributionLine(
                    person=person,
                    employer=employer,
                    month=add_months(start, n),
                    insurance_type=itype,
                    kind=LineKind.REGULAR,
                    base=BASE,
                    employer_amount=(BASE * Decimal("0.16")).quantize(Decimal("0.01")),
                    personal_amount=(BASE * personal).quantize(Decimal("0.01")),
                )
            )
    ContributionLine.objects.bulk_create(lines)
    return person, month


def png_scan(path) -> None:
    out = io.BytesIO()
    Image.new("RGB", (800, 1100), (245, 245, 240)).save(out, "PNG")
    path.write_bytes(out.getvalue())


def open_business(page, action: str) -> None:
    go_home(page)
    page.locator("section.card").first.get_by_role("link", name="退休人员待遇申报").click()
    page.get_by_role("link", name=action).click()


def test_single_declaration_with_the_estimate_then_the_retirees_page(site, new_page, shot):
    person, month = retiring(site.vip, name="欧阳建国", serial=11)
    page = new_page()
    login(page, site.url, site.vip_user.username, site.vip.number)
    open_business(page, "单个办理")
    expect(page.get_by_role("heading", name="退休人员待遇申报 · 单个办理")).to_be_visible()
    page.get_by_label("查找本单位参保缴费人员（姓名或证件号码）").fill("欧阳")
    page.get_by_role("button", name="查询").click()
    page.get_by_test_id("person-matches").get_by_role("link", name="选择").click()
    expect(page.get_by_role("textbox", name="证件号码")).to_have_value(person.id_number)
    expect(page.get_by_label("退休年月")).to_have_value(f"{month:%Y-%m}")
    page.get_by_label("养老金发放银行").fill("中国工商银行武汉江岸支行")
    page.get_by_label("银行账号").fill("6222 0202 0001 2345 678")
    page.keyboard.press("Tab")
    estimate = page.locator("#estimate-preview")
    expect(estimate).to_be_visible()
    expect(estimate).to_contain_text("基础养老金")
    expect(estimate).to_contain_text("估算")
    expect(estimate).to_contain_text(f"{month:%Y-%m}")  # 法定退休年月
    shot(page, "estimate")

    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_test_id("business-status")).to_have_text("未提交")
    serial = page.get_by_test_id("serial").inner_text().strip()
    page.get_by_role("button", name="提交审批").click()
    wait_approval(page, "结束")
    shot(page, "finished")
    assert Transaction.objects.get(serial=serial).state == State.FINISHED
    retiree = Retiree.objects.get(person=person)
    total = sum(retiree.benefits.values_list("monthly", flat=True))

    page.locator("nav.mainnav").get_by_role("link", name="参保人员", exact=True).click()
    page.get_by_test_id("retirees-link").click()
    table = page.get_by_test_id("retirees")
    expect(table).to_contain_text("欧阳建国")
    expect(table).to_contain_text(f"{total:.2f}")
    expect(table).to_contain_text("6222 **** 5678")
    expect(table).to_contain_text(serial)
    shot(page, "retirees")


def test_flexible_early_retirement_needs_its_scan_before_submitting(site, new_page, shot, tmp_path):
    person, month = retiring(site.vip, name="诸葛明", serial=12)
    page = new_page()
    login(page, site.url, site.vip_user.username, site.vip.number)
    open_business(page, "单个办理")
    page.get_by_role("textbox", name="证件号码").fill(person.id_number)
    page.get_by_role("textbox", name="姓名").fill(person.name)
    page.get_by_label("联系电话").fill("13800001111")
    page.get_by_label("退休类别").select_option(label="弹性提前退休")
    page.get_by_label("退休年月").fill(f"{add_months(month, -2):%Y-%m}")
    page.get_by_label("养老金发放银行").fill("中国银行")
    page.get_by_label("银行账号").fill("6216610200001234567")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_test_id("business-status")).to_have_text("未提交")
    page.get_by_role("button", name="提交审批").click()
    expect(page.locator(".messages")).to_contain_text("职工本人弹性提前退休书面申请")
    shot(page, "materials missing")

    scan = tmp_path / "书面申请.png"
    png_scan(scan)
    section = page.locator("#attachments")
    section.get_by_label("材料名称").select_option(label="职工本人弹性提前退休书面申请")
    section.get_by_label("选择文件").set_input_files(str(scan))
    section.get_by_role("button", name="上传", exact=True).click()
    page.wait_for_load_state("load")
    expect(page.get_by_test_id("attachment-list")).to_contain_text("书面申请.png")
    page.get_by_role("button", name="提交审批").click()
    wait_approval(page, "进行中")
    shot(page, "awaiting the clerk")
    assert Transaction.objects.get(business_type=CODE).state == State.REVIEW


def test_batch_declaration_from_the_pre_filled_template(site, long_worker, new_page, shot, tmp_path):
    persons = [retiring(site.vip, name=name, serial=20 + n)[0] for n, name in enumerate(("周建", "吴国", "郑平"))]
    page = new_page()
    login(page, site.url, site.vip_user.username, site.vip.number)
    go_home(page)
    page.locator("section.card").first.get_by_role("link", name="退休人员待遇申报").click()
    with page.expect_download() as info:
        page.get_by_role("link", name="模板下载").click()
    path = tmp_path / "template.xlsx"
    info.value.save_as(path)
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    headers = [c.value for c in sheet[1]]
    assert headers[:10] == [
        "证件类型",
        "证件号码",
        "姓名",
        "退休类别",
        "退休年月",
        "视同缴费月数",
        "特殊工种年限",
        "养老金发放银行",
        "银行账号",
        "联系电话",
    ]
    assert {sheet.cell(row=r, column=2).value for r in range(2, 5)} == {p.id_number for p in persons}
    for r in range(2, 5):
        sheet.cell(row=r, column=8, value="中国建设银行武汉分行")
        sheet.cell(row=r, column=9, value=f"621700{r:013d}")
    book.save(path)

    page.get_by_role("link", name="批量办理").click()
    page.get_by_label("选择文件（浏览）").set_input_files(path)
    page.get_by_role("button", name="上传").click()
    counts = page.get_by_test_id("counts")
    expect(counts).to_be_visible(timeout=AUDIT_TIMEOUT_MS)
    expect(counts.locator('[data-count="total"]')).to_have_text("3")
    expect(counts.locator('[data-count="import_failed"]')).to_have_text("0")
    shot(page, "import screen")
    page.get_by_role("button", name="提交审批").click()
    wait_approval(page, "结束")
    shot(page, "finished")
    assert Retiree.objects.filter(person__in=persons).count() == 3

    go_home(page)
    page.locator("section.card").first.get_by_role("link", name="退休人员待遇申报").click()
    page.get_by_role("link", name="退休人员待遇申报审核结果查询").click()
    expect(page.get_by_role("heading", name="退休人员待遇申报审核结果查询")).to_be_visible()
    expect(page.locator("main")).to_contain_text(Transaction.objects.get(business_type=CODE).serial)
    shot(page, "result query")


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_retirement_pages_fit(site, browser, browser_context_args, live_server, shot, language, viewport):
    person, month = retiring(site.vip, name="欧阳万佳", serial=31)
    done, _ = retiring(site.vip, name="司马长风", serial=32)
    raw = {
        "id_type": "01",
        "id_number": done.id_number,
        "name": done.name,
        "kind": "01",
        "retire_month": f"{month:%Y-%m}",
        "deemed_months": "0",
        "bank": "中国工商银行武汉江岸支行",
        "account": "6222020200012345678",
        "phone": "13800001111",
    }
    finished = services.transaction_save_single(employer=site.vip, actor=site.vip_user, business_type=CODE, raw=raw)
    tx = finished.transaction
    services.transaction_submit(tx=tx, actor=site.vip_user, version=tx.version)
    services.run_audit(tx.pk)
    saved = services.transaction_save_single(
        employer=site.vip,
        actor=site.vip_user,
        business_type=CODE,
        raw={**raw, "id_number": person.id_number, "name": person.name},
    ).transaction
    early, _ = retiring(site.vip, name="上官婉儿", serial=33)
    headers = [
        "证件类型",
        "证件号码",
        "姓名",
        "退休类别",
        "退休年月",
        "视同缴费月数",
        "养老金发放银行",
        "银行账号",
        "联系电话",
    ]
    cells = ["居民身份证", early.id_number, early.name, "弹性提前退休", f"{add_months(month, -1):%Y-%m}", "0"]
    batch = create_batch(
        site.vip,
        site.vip_user,
        xlsx_bytes(
            [dict(zip(headers, [*cells, "中国银行", "6216610200001234567", "13800001111"], strict=True))], headers
        ),
        code=CODE,
    )
    context, page = page_in(browser, browser_context_args, live_server, language, viewport)
    try:
        sign_in(page, site.url, site.vip_user.username, site.vip.number)
        for name, path in (
            ("batch-import-screen-with-materials", f"/batch/{batch.pk}/#attachments"),
            ("business", f"/business/{CODE}/"),
            ("single-picked", f"/business/{CODE}/single/?person={person.pk}"),
            ("transaction-estimate", f"/tx/{saved.pk}/"),
            ("finished", f"/tx/{tx.pk}/"),
            ("batch-upload", f"/batch/upload/{CODE}/"),
            ("batch-results", f"/batch/results/{CODE}/"),
            ("retirees", "/retirees/"),
        ):
            page.goto(f"{site.url}{path}")
            page.wait_for_load_state("load")
            shot(page, f"{language}-{viewport}-{name}")
            assert page.evaluate(CHECK) == [], (name, path)
    finally:
        context.close()
