"""《企业参保人员增员表》 and 《在职职工减员申报表》 as xlsx and PDF, checked as a user would."""

from __future__ import annotations

import io
import subprocess
from decimal import Decimal
from urllib.parse import quote

import openpyxl
import pytest

from shebao.core.cells import safe_cell, unsafe_cell
from shebao.workflow.models import ItemStatus, State
from tests.exports.conftest import (
    enrol_data,
    pdf_fonts,
    pdf_pages,
    pdf_text,
    require_tools,
    suspend_data,
    wage_sum,
)
from tests.factories import (
    ClerkFactory,
    EmployerFactory,
    ItemFactory,
    OfficeFactory,
    OperatorFactory,
    TransactionFactory,
)
from tests.workflow.helpers import login

pytestmark = pytest.mark.django_db


def _download(client, tx, fmt):
    response = client.get(f"/exports/tx/{tx.pk}/form.{fmt}")
    assert response.status_code == 200, response.content[:500]
    return response, b"".join(response.streaming_content) if response.streaming else response.content


def _sheet(content: bytes):
    wb = openpyxl.load_workbook(io.BytesIO(content))
    ws = wb.worksheets[0]
    return [[c.value for c in row] for row in ws.iter_rows()], ws


def _find(rows, text):
    return [r for r in rows if any(isinstance(v, str) and text in v for v in r)]


def _save_pdf(tmp_path, content: bytes, name="form.pdf"):
    path = tmp_path / name
    path.write_bytes(content)
    return path


def _assert_cjk_embedded(path):
    fonts = pdf_fonts(path)
    cjk = [f for f in fonts if "CJK" in f["name"]]
    assert cjk, fonts
    assert all(f["emb"] == "yes" for f in cjk), fonts


def _assert_renders(path, tmp_path):
    subprocess.run(
        ["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(path), str(tmp_path / "page")], check=True
    )
    pngs = sorted(tmp_path.glob("page*.png"))
    assert pngs and pngs[0].stat().st_size > 1000
    from PIL import Image

    with Image.open(pngs[0]) as img:
        assert img.width > 300 and img.height > 200
        # Not a blank page: some dark pixels (text, table rules, the barcode).
        assert img.convert("L").getextrema()[0] < 100


def test_enrol_single_xlsx(op_client, employer, operator):
    data = enrol_data(1)
    tx = TransactionFactory(employer=employer, operator=operator, rows=[data])
    response, content = _download(op_client, tx, "xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert "filename*=utf-8''" + quote(f"企业参保人员增员表-{tx.serial}.xlsx") in disposition
    rows, ws = _sheet(content)
    assert rows[0][0] == "企业参保人员增员表"
    assert _find(rows, employer.name) and _find(rows, employer.number) and _find(rows, tx.serial)
    assert _find(rows, "打印日期")
    header = next(r for r in rows if r[0] == "序号")
    assert header[:9] == [
        "序号",
        "姓名",
        "证件号码",
        "性别",
        "出生日期",
        "参保起始年月",
        "申报月工资",
        "参保险种",
        "联系电话",
    ]
    assert "追溯补缴起始年月" in header and "追溯补缴基数" in header
    person = next(r for r in rows if r[1] == data["name"])
    assert person[2] == data["id_number"]  # text, every digit kept
    assert person[3] == ("女" if data["sex"] == "2" else "男")
    assert person[5] == "2025-03"
    assert Decimal(str(person[6])) == Decimal(data["wage"])
    assert person[7] == "养老、医疗"
    assert person[9] == "2025-01" and Decimal(str(person[10])) == Decimal("5000")
    total = _find(rows, "合计：1人")[-1]
    assert Decimal(str(total[6])) == Decimal(data["wage"])
    assert _find(rows, "经办人签字") and _find(rows, "单位盖章")
    assert ws._images, "the 流水号 barcode image is in the sheet"


def test_enrol_single_pdf_embeds_cjk_font_and_renders(op_client, employer, operator, tmp_path):
    require_tools()
    data = enrol_data(1)
    tx = TransactionFactory(employer=employer, operator=operator, rows=[data])
    response, content = _download(op_client, tx, "pdf")
    assert response["Content-Type"] == "application/pdf"
    assert quote(f"企业参保人员增员表-{tx.serial}.pdf") in response["Content-Disposition"]
    path = _save_pdf(tmp_path, content)
    _assert_cjk_embedded(path)
    _assert_renders(path, tmp_path)
    text = pdf_text(path)
    for expected in (
        "企业参保人员增员表",
        employer.name,
        employer.number,
        tx.serial,
        data["name"],
        data["id_number"],
        "养老、医疗",
        "经办人签字",
        "单位盖章",
        "打印日期",
        "追溯补缴",
        "合计：1 人",
        "申报工资合计：6,001.50",
    ):
        assert expected in text, expected
    assert pdf_pages(path) == 1


def test_batch_of_60_paginates_with_header_and_page_totals(op_client, employer, operator, tmp_path):
    require_tools()
    rows = [enrol_data(n) for n in range(1, 61)]
    gone = enrol_data(900) | {"name": "已删除人"}
    failed = enrol_data(901) | {"name": "导入失败人"}
    tx = TransactionFactory(employer=employer, operator=operator, rows=rows)
    ItemFactory(transaction=tx, row_no=len(rows) + 1, status=ItemStatus.DELETED, data=gone)
    ItemFactory(transaction=tx, row_no=len(rows) + 2, status=ItemStatus.IMPORT_FAILED, data=failed)
    _, content = _download(op_client, tx, "pdf")
    path = _save_pdf(tmp_path, content)
    _assert_cjk_embedded(path)
    assert pdf_pages(path) == 3  # 25 + 25 + 10
    pages = [p for p in pdf_text(path).split("\f") if p.strip()]
    assert len(pages) == 3
    for page in pages:
        assert "证件号码" in page and "参保起始年月" in page and "本页小计" in page
        assert tx.serial in page
    assert "本页小计：25 人" in pages[0] and "本页小计：10 人" in pages[2]
    page1_wage = wage_sum(rows[:25])
    assert f"{page1_wage:,.2f}" in pages[0]
    assert "合计：60 人" in pages[2] and f"申报工资合计：{wage_sum(rows):,.2f}" in pages[2]
    assert "已删除人" not in "".join(pages) and "导入失败人" not in "".join(pages)

    _, content = _download(op_client, tx, "xlsx")
    sheet, _ws = _sheet(content)
    persons = [r for r in sheet if isinstance(r[0], str) and r[0].isdigit()]
    assert [int(r[0]) for r in persons] == list(range(1, 61))
    subtotals = _find(sheet, "小计")
    assert [s[0] for s in subtotals] == ["第1页小计：25人", "第2页小计：25人", "第3页小计：10人"]
    assert Decimal(str(subtotals[0][6])) == page1_wage
    total = _find(sheet, "合计：60人")[-1]
    assert Decimal(str(total[6])) == wage_sum(rows)
    assert not _find(sheet, "已删除人")


def test_suspend_forms(op_client, employer, operator, tmp_path):
    require_tools()
    rows = [suspend_data(n) for n in range(1, 4)]
    tx = TransactionFactory(employer=employer, operator=operator, business_type="suspend", rows=rows)
    response, content = _download(op_client, tx, "xlsx")
    assert quote(f"在职职工减员申报表-{tx.serial}.xlsx") in response["Content-Disposition"]
    sheet, _ws = _sheet(content)
    assert sheet[0][0] == "在职职工减员申报表"
    header = next(r for r in sheet if r[0] == "序号")
    assert header == ["序号", "姓名", "证件号码", "停保年月", "减员原因", "停保险种"]
    first = next(r for r in sheet if r[1] == rows[0]["name"])
    assert first[2:] == [rows[0]["id_number"], "2025-06", "01 解除/终止劳动合同", "养老、医疗、失业"]
    second = next(r for r in sheet if r[1] == rows[1]["name"])
    assert second[4] == "03 退休"
    assert _find(sheet, "合计：3人")

    _, content = _download(op_client, tx, "pdf")
    path = _save_pdf(tmp_path, content)
    _assert_cjk_embedded(path)
    _assert_renders(path, tmp_path)
    text = pdf_text(path)
    for expected in (
        "在职职工减员申报表",
        employer.name,
        tx.serial,
        "停保年月",
        "减员原因",
        "停保险种",
        "01 解除/终止劳动合同",
        "03 退休",
        "合计：3 人",
        "经办人签字",
        "单位盖章",
    ):
        assert expected in text, expected
    assert "申报工资合计" not in text


def test_formula_like_values_are_written_as_text(op_client, employer, operator):
    assert safe_cell("=1+1") == "'=1+1" and safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell("-2+3") == "'-2+3" and safe_cell("+86 138") == "'+86 138"
    assert safe_cell("张三") == "张三" and safe_cell(12) == 12 and safe_cell(None) is None
    assert safe_cell(Decimal("-5")) == Decimal("-5")
    assert unsafe_cell(safe_cell("=A1")) == "=A1" and unsafe_cell("'abc") == "'abc"
    data = enrol_data(2) | {"name": '=HYPERLINK("http://x","y")', "phone": "+8613800000000"}
    tx = TransactionFactory(employer=employer, operator=operator, rows=[data])
    _, content = _download(op_client, tx, "xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(content))
    cells = [c for row in wb.worksheets[0].iter_rows() for c in row]
    assert not [c for c in cells if c.data_type == "f"]
    name = next(c for c in cells if isinstance(c.value, str) and "HYPERLINK" in c.value)
    assert name.data_type == "s" and name.value.startswith("'=")


def test_isolation_and_clerk_access(client, employer, operator):
    tx = TransactionFactory(employer=employer, operator=operator, rows=[enrol_data(1)])
    urls = [
        f"/exports/tx/{tx.pk}/form.xlsx",
        f"/exports/tx/{tx.pk}/form.pdf",
        f"/exports/tx/{tx.pk}/parts/",
        f"/exports/tx/{tx.pk}/parts/status.json",
        f"/exports/tx/{tx.pk}/parts/1/1.pdf",
    ]
    # Anonymous: to the login page.
    assert client.get(urls[0]).status_code == 302
    # Another employer's operator: 404 everywhere, including POST to start parts.
    other = EmployerFactory(office=employer.office, is_vip=False)
    login(client, OperatorFactory(employer=other), other)
    for url in urls:
        assert client.get(url).status_code == 404, url
    assert client.post(urls[2]).status_code == 404
    # The employer's own operator: the forms download.
    login(client, operator, employer)
    assert client.get(urls[0]).status_code == 200
    assert client.get(f"/exports/tx/{tx.pk}/form.doc").status_code == 404
    assert client.get(f"/exports/tx/{tx.pk + 999}/form.pdf").status_code == 404
    # A clerk of the employer's district may download; a clerk of another district may not.
    client.logout()
    login(client, ClerkFactory(office=employer.office))
    assert client.get(urls[0]).status_code == 200
    client.logout()
    login(client, ClerkFactory(office=OfficeFactory(code="420103")))
    assert client.get(urls[0]).status_code == 404
    assert client.get(urls[1]).status_code == 404


def test_business_type_without_a_form_is_404_and_importing_is_refused(op_client, employer, operator):
    tx = TransactionFactory(
        employer=employer, operator=operator, business_type="wage_declaration", rows=[enrol_data(1)]
    )
    assert op_client.get(f"/exports/tx/{tx.pk}/form.xlsx").status_code == 404
    busy = TransactionFactory(employer=employer, operator=operator, rows=[enrol_data(2)], state=State.IMPORTING)
    response = op_client.get(f"/exports/tx/{busy.pk}/form.pdf")
    assert response.status_code == 409 and "导入中" in response.content.decode()


def test_the_printed_form_follows_the_transaction(op_client, employer, operator):
    """申报 lists every imported row; awaiting a clerk, the rows the audit passed; finished,
    the persons who took effect. The title line and the count say which list it is."""
    from shebao.workflow.models import AuditStatus, Item

    rows = [enrol_data(n) for n in range(1, 5)]
    tx = TransactionFactory(employer=employer, operator=operator, rows=rows)

    def listed():
        _, content = _download(op_client, tx, "xlsx")
        sheet, _ws = _sheet(content)
        names = [r[1] for r in sheet if isinstance(r[0], str) and r[0].isdigit()]
        return sheet, names

    sheet, names = listed()
    assert names == [r["name"] for r in rows]
    assert _find(sheet, "申报名单（全部导入成功的人员）") and _find(sheet, "申报人数：4")

    items = list(Item.objects.filter(transaction=tx).order_by("row_no"))
    for item, status in zip(items, ["passed", "failed", "passed", "failed"], strict=True):
        item.audit_status = AuditStatus.PASSED if status == "passed" else AuditStatus.FAILED
        item.save(update_fields=["audit_status"])
    tx.state = State.REVIEW
    tx.save(update_fields=["state"])
    sheet, names = listed()
    assert names == [rows[0]["name"], rows[2]["name"]]
    assert _find(sheet, "报送名单（自动审核通过的人员）") and _find(sheet, "报送人数：2")

    Item.objects.filter(pk=items[0].pk).update(applied=True)
    tx.state = State.FINISHED
    tx.save(update_fields=["state"])
    sheet, names = listed()
    assert names == [rows[0]["name"]]  # the clerk failed row 3: it never took effect
    assert _find(sheet, "办结名单（已生效的人员）") and _find(sheet, "生效人数：1")
    assert not _find(sheet, rows[1]["name"]) and not _find(sheet, rows[3]["name"])
