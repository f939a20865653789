"""增员(续保) 批量办理 end to end in chromium, with the real long-queue worker: 模板下载, fill the
template, 浏览/上传, the import screen, tick a row and 删除, 提交审批, 结束, both failure lists."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from playwright.sync_api import expect

from shebao.core.months import current_month
from shebao.workflow.models import State, Transaction
from tests.browser.conftest import AUDIT_TIMEOUT_MS
from tests.browser.pages import accept_next_dialog, bad_check_char, go_home, login, wait_approval
from tests.factories import PersonFactory, make_resident_id

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _cells(path) -> list[str]:
    book = openpyxl.load_workbook(path, read_only=True)
    sheet = book.worksheets[0]
    return [str(v) for row in sheet.iter_rows(values_only=True) for v in row if v not in (None, "")]


def _row(id_number: str, name: str) -> dict[str, str]:
    return {
        "证件类型": "居民身份证",
        "证件号码": id_number,
        "姓名": name,
        "户口性质": "城镇",
        "个人身份": "工人",
        "用工形式": "劳动合同",
        "参加工作日期": "2012-07-01",
        "参保起始年月": current_month().strftime("%Y-%m"),
        "申报月工资": "6,500.00",
        "联系电话": "13800000000",
        "是否制卡": "否",
    }


@pytest.fixture
def batch_site(site, long_worker):
    return site


def upload_rows(page, tmp_path, rows: list[dict[str, str]]) -> str:
    """From 增员(续保): 模板下载, fill `rows` in, 批量办理 → 浏览/上传; returns the 流水号 once the
    import screen shows."""
    go_home(page)
    page.locator("section.card").first.get_by_role("link", name="增员(续保)").click()
    with page.expect_download() as info:
        page.get_by_role("link", name="模板下载").click()
    path = tmp_path / "template.xlsx"
    info.value.save_as(path)
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    headers = [c.value for c in sheet[1]]
    for r, values in enumerate(rows, start=2):
        for c, header in enumerate(headers, start=1):
            if header in values:
                sheet.cell(row=r, column=c, value=values[header]).number_format = "@"
    book.save(path)
    page.get_by_role("link", name="批量办理").click()
    page.get_by_label("选择文件（浏览）").set_input_files(path)
    page.get_by_role("button", name="上传").click()
    expect(page.get_by_test_id("counts")).to_be_visible(timeout=AUDIT_TIMEOUT_MS)
    return page.get_by_test_id("serial").inner_text().strip()


def test_batch_template_upload_delete_submit_and_failure_lists(batch_site, new_page, shot, tmp_path):
    site = batch_site
    good1, good2, mismatch, bad, dropped = (
        make_resident_id(dt.date(1990, 5, 17), serial=n) for n in (41, 42, 43, 44, 45)
    )
    # The register already knows `mismatch` under another name: that row imports, then fails the audit.
    PersonFactory(id_number=mismatch, name="钱多多", sex="1", birth_date=dt.date(1990, 5, 17))

    page = new_page()
    login(page, site.url, site.vip_user.username, site.vip.number)
    go_home(page)
    page.locator("section.card").first.get_by_role("link", name="增员(续保)").click()

    # 模板下载
    with page.expect_download() as info:
        page.get_by_role("link", name="模板下载").click()
    template = tmp_path / info.value.suggested_filename
    info.value.save_as(template)
    assert template.suffix == ".xlsx"
    book = openpyxl.load_workbook(template)
    assert "填写说明" in book.sheetnames
    sheet = book.worksheets[0]
    headers = [c.value for c in sheet[1]]
    assert {"证件号码", "姓名", "参保起始年月", "申报月工资"} <= set(headers)
    assert sheet.max_row == 1, "the data sheet has no example row"
    rows = [
        _row(good1, "周一"),
        _row(mismatch, "钱多"),
        _row(bad_check_char(bad), "孙三"),
        _row(dropped, "李四"),
        _row(good2, "吴五"),
    ]
    for r, values in enumerate(rows, start=2):
        for c, header in enumerate(headers, start=1):
            if header in values:
                sheet.cell(row=r, column=c, value=values[header]).number_format = "@"
    filled = tmp_path / "增员名单.xlsx"
    book.save(filled)

    # 浏览 / 上传
    page.get_by_role("link", name="批量办理").click()
    page.get_by_label("选择文件（浏览）").set_input_files(filled)
    shot(page, "upload form")
    page.get_by_role("button", name="上传").click()
    counts = page.get_by_test_id("counts")
    expect(counts).to_be_visible(timeout=AUDIT_TIMEOUT_MS)  # the import screen, after the background read
    expect(counts.locator('[data-count="total"]')).to_have_text("5")
    expect(counts.locator('[data-count="import_failed"]')).to_have_text("1")
    serial = page.get_by_test_id("serial").inner_text().strip()
    table = page.get_by_test_id("rows")
    # 行号 is the spreadsheet's row: the header is row 1, `bad` is on row 4.
    expect(table.locator('tr[data-row="5"]')).to_contain_text("导入成功")
    expect(table.locator('tr[data-row="4"]')).to_contain_text("导入失败")
    expect(table.locator('tr[data-row="4"]')).to_contain_text("ID_CHECKSUM")
    shot(page, "import screen")

    # 删除 with nothing ticked says so, and asks no confirmation first.
    said: list[str] = []
    accept_next_dialog(page, said)
    page.get_by_role("button", name="删除", exact=True).click()
    for _ in range(50):
        if said:
            break
        page.wait_for_timeout(100)
    assert said == ["请先勾选要删除的人员。"]
    # 全选 ticks every row; unticked again, then one row ticked and 删除 (after a confirmation).
    page.get_by_label("全选").check()
    assert all(box.is_checked() for box in table.locator("input[name=items]").all())
    page.get_by_label("全选").uncheck()
    page.get_by_label("选择第5行").check()
    accept_next_dialog(page)
    page.get_by_role("button", name="删除", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("已删除 1 人")
    expect(table.locator('tr[data-row="5"]')).to_have_count(0)
    shot(page, "row deleted")

    page.get_by_role("button", name="提交审批").click()
    wait_approval(page, "结束", timeout=AUDIT_TIMEOUT_MS)
    result = page.get_by_test_id("result-counts")
    expect(result).to_have_text("成功 2 · 审核失败 1 · 导入失败 1")
    # The failures are red, the successes never.
    expect(result.locator(".count-failed")).to_have_text(["审核失败 1", "导入失败 1"])
    expect(result.locator(".count-ok")).to_have_text("成功 2")
    expect(table.locator('tr[data-row="3"]')).to_contain_text("PERSON_MISMATCH")
    expect(page.get_by_test_id("outcome")).to_have_text("办结，2 人未生效")
    shot(page, "finished with counts")

    with page.expect_download() as info:
        page.get_by_role("link", name="下载导入失败列表").click()
    import_list = tmp_path / "import.xlsx"
    info.value.save_as(import_list)
    cells = _cells(import_list)
    assert bad_check_char(bad) in cells and "孙三" in cells and any("ID_CHECKSUM" in c for c in cells)
    assert good1 not in cells and mismatch not in cells

    with page.expect_download() as info:
        page.get_by_role("link", name="下载审核失败列表").click()
    audit_list = tmp_path / "audit.xlsx"
    info.value.save_as(audit_list)
    cells = _cells(audit_list)
    assert mismatch in cells and any("PERSON_MISMATCH" in c for c in cells)
    assert good1 not in cells and bad_check_char(bad) not in cells

    # 批量增员导出 of a finished batch lists the persons who took effect, and says so.
    with page.expect_download() as info:
        page.get_by_role("link", name="批量增员导出 (Excel)").click()
    printed = tmp_path / "form.xlsx"
    info.value.save_as(printed)
    cells = _cells(printed)
    assert "办结名单（已生效的人员）" in cells and "生效人数：2" in cells
    assert good1 in cells and good2 in cells and mismatch not in cells and dropped not in cells

    tx = Transaction.objects.get(serial=serial)
    assert tx.state == State.FINISHED and tx.applied_count == 2
    page.locator("nav.mainnav").get_by_role("link", name="参保人员").click()
    persons = page.get_by_test_id("persons")
    expect(persons).to_contain_text(good1)
    expect(persons).to_contain_text(good2)
    expect(persons).not_to_contain_text(dropped)


def test_ordinary_batch_reviewed_by_clerk_row_marked_failed(batch_site, new_page, shot, tmp_path):
    site = batch_site
    kept, refused = (make_resident_id(dt.date(1990, 5, 17), serial=n) for n in (51, 52))
    page = new_page()
    login(page, site.url, site.ordinary_user.username, site.ordinary.number)
    serial = upload_rows(page, tmp_path, [_row(kept, "郑一"), _row(refused, "王二")])
    page.get_by_role("button", name="提交审批").click()
    expect(page.get_by_test_id("review-note")).to_be_visible(timeout=AUDIT_TIMEOUT_MS)
    wait_approval(page, "进行中")
    shot(page, "batch awaiting review")

    clerk = new_page()
    login(clerk, site.url, site.clerk.username)
    clerk.get_by_label("流水号").fill(serial)
    clerk.get_by_role("button", name="查询").click()
    expect(clerk.get_by_test_id("serial")).to_have_text(serial)
    row = clerk.get_by_test_id("rows").locator("tr", has_text=refused)
    row.get_by_label("失败原因").fill("劳动合同未附")
    row.get_by_role("button", name="标记失败").click()
    expect(clerk.locator(".messages")).to_contain_text("已将该人员标记为审核失败")
    expect(clerk.get_by_test_id("rows").locator("tr", has_text=refused)).to_contain_text("劳动合同未附")
    accept_next_dialog(clerk)
    clerk.get_by_role("button", name="通过", exact=True).click()
    expect(clerk.locator(".messages")).to_contain_text(f"{serial} 已审核通过")
    shot(clerk, "batch approved")

    page.reload()
    wait_approval(page, "结束")
    expect(page.get_by_test_id("result-counts")).to_have_text("成功 1 · 审核失败 1 · 导入失败 0")
    shot(page, "batch finished")
    page.locator("nav.mainnav").get_by_role("link", name="参保人员").click()
    expect(page.get_by_test_id("persons")).to_contain_text(kept)
    expect(page.get_by_test_id("persons")).not_to_contain_text(refused)


def _refill(path, rows: list[dict[str, str]]):
    """The downloaded template (kept by upload_rows) filled with other rows: the corrected file."""
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    headers = [c.value for c in sheet[1]]
    sheet.delete_rows(2, sheet.max_row)
    for r, values in enumerate(rows, start=2):
        for c, header in enumerate(headers, start=1):
            if header in values:
                sheet.cell(row=r, column=c, value=values[header]).number_format = "@"
    out = path.with_name("改正后.xlsx")
    book.save(out)
    return out


def test_corrected_file_replaces_the_unsubmitted_batch(batch_site, new_page, shot, tmp_path):
    """Issue 10 point 11: the corrected file uploaded beside the open batch fails LOCKED_HERE and
    offers 用新文件替换未提交的批次; the replacement cancels the open batch and the persons pass."""
    from shebao.workflow.models import PersonLock

    site = batch_site
    a, b, c = (make_resident_id(dt.date(1990, 5, 17), serial=n) for n in (61, 62, 63))
    page = new_page()
    login(page, site.url, site.vip_user.username, site.vip.number)
    first = upload_rows(page, tmp_path, [_row(a, "陈一"), _row(bad_check_char(b), "陈二")])
    # The corrected file, uploaded as a new batch: 陈一 is held by the first batch.
    second = upload_rows(page, tmp_path, [_row(a, "陈一"), _row(b, "陈二")])
    rows = page.get_by_test_id("rows")
    expect(rows.locator('tr[data-row="2"]')).to_contain_text(first)
    expect(rows.locator('tr[data-row="2"]')).to_contain_text("导入失败")
    offer = page.get_by_role("button", name=f"用新文件替换未提交的批次 流水号 {first}")
    expect(offer).to_be_visible()
    shot(page, "refusal offers the replacement")
    said: list[str] = []
    accept_next_dialog(page, said)
    offer.click()
    expect(page.get_by_test_id("counts")).to_be_visible(timeout=AUDIT_TIMEOUT_MS)
    third = page.get_by_test_id("serial").inner_text().strip()
    assert third not in (first, second) and first in said[0]
    expect(page.get_by_test_id("replaces-note")).to_contain_text(f"本批次替换了未提交的批次 流水号 {first}")
    counts = page.get_by_test_id("counts")
    expect(counts.locator('[data-count="total"]')).to_have_text("2")
    expect(counts.locator('[data-count="import_failed"]')).to_have_text("0")
    shot(page, "replacing batch imported")

    # The first batch is cancelled, and its history says by which.
    page.get_by_test_id("replaces-note").get_by_role("link", name="查看").click()
    expect(page.get_by_test_id("outcome")).to_have_text("已退单")
    history = page.locator("section.card", has_text="办理记录")
    expect(history).to_contain_text(f"已由流水号 {third} 的新文件替换（退单）")

    # From the upload page: 用新文件替换 on the batch preselects it; a third person is added.
    page.goto(f"{site.url}/batch/{Transaction.objects.get(serial=third).pk}/")
    page.get_by_role("link", name="用新文件替换").click()
    expect(page.get_by_test_id(f"replace-{third}")).to_be_checked()
    shot(page, "upload form replacing")
    page.get_by_label("选择文件（浏览）").set_input_files(
        _refill(tmp_path / "template.xlsx", [_row(a, "陈一"), _row(b, "陈二"), _row(c, "陈三")])
    )
    page.get_by_role("button", name="上传").click()
    expect(page.get_by_test_id("counts")).to_be_visible(timeout=AUDIT_TIMEOUT_MS)
    fourth = page.get_by_test_id("serial").inner_text().strip()
    expect(page.get_by_test_id("counts").locator('[data-count="imported"]')).to_have_text("3")
    expect(page.get_by_test_id("replaces-note")).to_contain_text(third)
    assert Transaction.objects.get(serial=third).state == State.CANCELLED
    held = set(PersonLock.objects.filter(transaction__serial=fourth).values_list("id_key", flat=True))
    assert held == {f"01:{n}" for n in (a, b, c)}
    # The new batch goes on: 提交审批 to 结束.
    page.get_by_role("button", name="提交审批").click()
    wait_approval(page, "结束")
    shot(page, "replacing batch finished")
