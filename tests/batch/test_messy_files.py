"""Messy real files are read the way a person means them (issue 3, point 3)."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
import xlsxwriter
from django.urls import reverse

from shebao.core.identity import id_check_char
from shebao.core.months import current_month, format_month
from shebao.workflow.models import Item, ItemStatus, State
from tests.batch.conftest import BIRTH, ENROL_HEADERS, csv_bytes, enrol_row, upload_and_import, xlsx_bytes
from tests.factories import make_resident_id


def _items(tx) -> list[Item]:
    return list(Item.objects.filter(transaction=tx).order_by("row_no"))


def _id_ending_in_x() -> str:
    numbers = (make_resident_id(dt.date(1985, 6, 12), sex, serial) for serial in range(500) for sex in "12")
    return next(number for number in numbers if number.endswith("X"))


def _codes(item: Item) -> list[str]:
    return [i["code"] for i in item.import_issues]


def test_lower_case_x_full_width_digits_spaces_and_trailing_whitespace(vip_client):
    x_id = _id_ending_in_x()
    fw_id = make_resident_id(BIRTH)
    full_width = fw_id.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
    rows = [
        enrol_row(x_id.lower(), 姓名="李娜 "),
        enrol_row(
            f" {full_width[:6]} {full_width[6:14]}\u3000{full_width[14:]} ",
            姓名="\u3000王伟\u3000",
            申报月工资="８，０００．００",
            联系电话="１３８００００００００",
        ),
        enrol_row(
            make_resident_id(BIRTH), 户口性质=" 农村 ", 个人身份="干部\t", 用工形式="劳务派遣  ", 证件类型="居民身份证 "
        ),
    ]
    tx = upload_and_import(vip_client, xlsx_bytes(rows))
    items = _items(tx)
    assert [i.status for i in items] == [ItemStatus.IMPORTED] * 3, [i.import_issues for i in items]
    assert items[0].id_number == x_id and items[0].name == "李娜"
    assert items[1].id_number == fw_id and items[1].name == "王伟" and items[1].data["wage"] == "8000.00"
    assert items[2].data["hukou"] == "rural" and items[2].data["identity"] == "cadre"


def test_months_and_dates_as_excel_dates_or_text(vip_client):
    month = current_month()
    texts = [f"{month:%Y-%m}", f"{month.year}/{month.month}", f"{month:%Y%m}", f"{month.year}年{month.month}月"]
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet()
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, ENROL_HEADERS)
    col = {h: i for i, h in enumerate(ENROL_HEADERS)}
    for r, text in enumerate(texts + ["excel-date", "number"], start=1):
        row = enrol_row(make_resident_id(BIRTH))
        for h, v in row.items():
            sheet.write_string(r, col[h], v)
        if text == "excel-date":
            sheet.write_datetime(r, col["参保起始年月"], dt.datetime(month.year, month.month, 1), date_format)
            sheet.write_datetime(r, col["参加工作日期"], dt.datetime(2012, 7, 1), date_format)
        elif text == "number":
            sheet.write_number(r, col["参保起始年月"], int(f"{month:%Y%m}"))
            sheet.write_number(r, col["申报月工资"], 8000)
        else:
            sheet.write_string(r, col["参保起始年月"], text)
    book.close()
    tx = upload_and_import(vip_client, out.getvalue())
    items = _items(tx)
    assert [i.status for i in items] == [ItemStatus.IMPORTED] * 6, [i.import_issues for i in items]
    assert {i.data["start_month"] for i in items} == {format_month(month)}
    assert items[4].data["first_work_date"] == "2012-07-01"
    assert items[5].data["wage"] == "8000.00"


def test_wages_with_thousands_separators_and_formulas_use_the_cached_value(vip_client):
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ENROL_HEADERS)
    col = {h: i for i, h in enumerate(ENROL_HEADERS)}
    for r, wage in enumerate(["12,345.60", "formula"], start=1):
        row = enrol_row(make_resident_id(BIRTH))
        for h, v in row.items():
            sheet.write_string(r, col[h], v)
        if wage == "formula":
            sheet.write_formula(r, col["申报月工资"], "=4000*2", None, 8000)
            sheet.write_formula(r, col["姓名"], '="赵"&"六"', None, "赵六")
        else:
            sheet.write_string(r, col["申报月工资"], wage)
    book.close()
    tx = upload_and_import(vip_client, out.getvalue())
    items = _items(tx)
    assert [i.status for i in items] == [ItemStatus.IMPORTED] * 2, [i.import_issues for i in items]
    assert items[0].data["wage"] == "12345.60"
    assert items[1].data["wage"] == "8000.00" and items[1].name == "赵六"


def test_columns_in_another_order_hidden_and_extra_columns_title_and_blank_rows(vip_client):
    headers = ["备注", *reversed(ENROL_HEADERS), "部门"]
    rows = [
        enrol_row(make_resident_id(BIRTH), 备注="新入职", 部门="财务部"),
        {},
        enrol_row(make_resident_id(BIRTH)),
        {},
        {},
    ]
    book = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(rows, headers, above=[["2026年新入职员工增员表"], []])))
    sheet = book.active
    sheet.column_dimensions["A"].hidden = True
    sheet.column_dimensions["C"].hidden = True  # a required column, hidden: still read
    out = io.BytesIO()
    book.save(out)
    tx = upload_and_import(vip_client, out.getvalue())
    items = _items(tx)
    assert [i.row_no for i in items] == [4, 6]  # the user's own row numbers; blank rows skipped
    assert [i.status for i in items] == [ItemStatus.IMPORTED] * 2, [i.import_issues for i in items]
    assert tx.total_count == 2


def test_header_text_with_spaces_full_width_and_required_marker(vip_client):
    headers = [f" {h} " if i % 3 == 0 else (f"*{h}" if i % 3 == 1 else h) for i, h in enumerate(ENROL_HEADERS)]
    headers[1] = "证件\u3000号码"
    rows = [enrol_row(make_resident_id(BIRTH))]
    data = xlsx_bytes([{headers[i]: row[h] for i, h in enumerate(ENROL_HEADERS)} for row in rows], headers)
    tx = upload_and_import(vip_client, data)
    assert _items(tx)[0].status == ItemStatus.IMPORTED


def test_18_digit_id_as_number_fails_row_15_digit_number_is_exact(vip_client):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(ENROL_HEADERS)
    long_id = make_resident_id(BIRTH)
    legacy = "110105" + "750110" + "261"  # 15 digits: born 1975-01-10
    for number in (int(long_id), int(legacy)):
        row = enrol_row("x")
        sheet.append([number if h == "证件号码" else row[h] for h in ENROL_HEADERS])
    out = io.BytesIO()
    book.save(out)
    tx = upload_and_import(vip_client, out.getvalue())
    numeric, fifteen = _items(tx)
    assert numeric.status == ItemStatus.IMPORT_FAILED
    assert _codes(numeric) == ["ID_NUMERIC_CELL"]
    assert numeric.id_key == ""
    assert fifteen.status == ItemStatus.IMPORTED, fifteen.import_issues
    assert fifteen.id_number == "11010519750110261" + id_check_char("11010519750110261")
    html = vip_client.get(reverse("batch:detail", kwargs={"pk": tx.pk}) + "?result=import_failed").content.decode()
    assert "文本" in html and "ID_NUMERIC_CELL" in html


def test_html_in_names_fails_and_is_escaped(vip_client):
    tx = upload_and_import(
        vip_client, xlsx_bytes([enrol_row(make_resident_id(BIRTH), 姓名="<script>alert(1)</script>")])
    )
    item = _items(tx)[0]
    assert item.status == ItemStatus.IMPORT_FAILED and "NAME_CHARS" in _codes(item)
    html = vip_client.get(reverse("batch:detail", kwargs={"pk": tx.pk})).content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
def test_csv_in_utf8_with_and_without_bom_and_gb18030(vip_client, encoding):
    rows = [enrol_row(make_resident_id(BIRTH), 姓名="欧阳娜娜"), enrol_row(make_resident_id(BIRTH), 申报月工资="9,000")]
    tx = upload_and_import(vip_client, csv_bytes(rows, encoding=encoding), filename="增员.csv")
    items = _items(tx)
    assert [i.status for i in items] == [ItemStatus.IMPORTED] * 2, [i.import_issues for i in items]
    assert items[0].name == "欧阳娜娜" and items[1].data["wage"] == "9000.00"


def test_csv_with_id_saved_by_excel_in_scientific_notation(vip_client):
    tx = upload_and_import(vip_client, csv_bytes([enrol_row("4.20102E+17")]), filename="a.csv")
    assert _codes(_items(tx)[0]) == ["ID_NUMERIC_CELL"]


def test_xls_file_and_extension_does_not_matter(vip_client):
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("增员", cell_overwrite_ok=True)
    for c, h in enumerate(ENROL_HEADERS):
        sheet.write(0, c, h)
    for r in range(1, 4):
        for c, h in enumerate(ENROL_HEADERS):
            sheet.write(r, c, enrol_row(make_resident_id(BIRTH))[h] if h == "证件号码" else enrol_row("x")[h])
    sheet.write(3, ENROL_HEADERS.index("申报月工资"), 8500.5)
    out = io.BytesIO()
    book.save(out)
    tx = upload_and_import(vip_client, out.getvalue(), filename="增员.xlsx")  # wrong extension: content decides
    items = _items(tx)
    assert [i.status for i in items] == [ItemStatus.IMPORTED] * 3, [i.import_issues for i in items]
    assert items[2].data["wage"] == "8500.50"
    assert tx.upload.kind == "xls"


def test_same_person_on_several_rows_fails_on_every_row_naming_the_others(vip_client):
    same = make_resident_id(BIRTH)
    wide = same.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    legacy = same[:6] + same[8:17]  # the same person's 15-digit number
    rows = [
        enrol_row(same),
        enrol_row(make_resident_id(BIRTH)),
        enrol_row(same.lower()),
        enrol_row(same),
        enrol_row(f" {wide} ", 证件类型="01"),
        enrol_row(legacy),
    ]
    tx = upload_and_import(vip_client, xlsx_bytes(rows))
    items = _items(tx)
    dup = [i for i in items if "DUPLICATE_IN_FILE" in _codes(i)]
    assert [i.row_no for i in dup] == [2, 4, 5, 6, 7]
    params = {
        i.row_no: next(x["params"]["rows"] for x in i.import_issues if x["code"] == "DUPLICATE_IN_FILE") for i in dup
    }
    assert params == {2: "4、5、6、7", 4: "2、5、6、7", 5: "2、4、6、7", 6: "2、4、5、7", 7: "2、4、5、6"}
    assert all(i.status == ItemStatus.IMPORT_FAILED for i in dup)
    assert items[1].status == ItemStatus.IMPORTED
    assert tx.import_failed_count == 5 and tx.state == State.SAVED
    # The failing rows still hold the person: one lock, on one of them.
    from shebao.workflow.models import PersonLock

    lock = PersonLock.objects.get(id_key=f"01:{same}")
    assert lock.transaction_id == tx.pk and lock.item.row_no in (2, 4, 5)
