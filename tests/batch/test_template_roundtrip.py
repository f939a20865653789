"""模板下载 → fill → 浏览/上传 → every row imports; the template's own structure."""

from __future__ import annotations

import io

import openpyxl
from django.urls import reverse

from shebao.workflow.models import Item, ItemStatus, PersonLock, State
from tests.batch.conftest import BIRTH, ENROL_HEADERS, enrol_row, upload_and_import
from tests.factories import make_resident_id


def _template(client, code="enrol"):
    response = client.get(reverse("batch:template", kwargs={"code": code}))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return openpyxl.load_workbook(io.BytesIO(response.content))


def test_template_has_the_exact_headers_text_format_dropdowns_and_instructions(vip_client):
    book = _template(vip_client)
    data = book.worksheets[0]
    headers = [c.value for c in data[1]]
    assert headers == ENROL_HEADERS
    assert data.max_row == 1  # no example row on the data sheet
    # Text format on ID and date columns.
    text_cols = set()
    for dim in data.column_dimensions.values():  # adjacent columns share one <col min max>
        if dim.number_format == "@":
            text_cols.update(range(dim.min, dim.max + 1))
    for label in ("证件号码", "出生日期", "参加工作日期", "参保起始年月", "补缴起始年月", "联系电话"):
        assert headers.index(label) + 1 in text_cols, label
    assert headers.index("申报月工资") + 1 not in text_cols
    # Drop-downs on coded single-value columns, none on 参保险种 (several values).
    lists = {}
    for validation in data.data_validations.dataValidation:
        col = str(validation.sqref).split(":")[0].rstrip("0123456789")
        lists[headers[openpyxl.utils.column_index_from_string(col) - 1]] = validation.formula1
    assert set(lists) == {"证件类型", "性别", "户口性质", "个人身份", "用工形式", "是否制卡", "弹性延迟退休协议"}
    assert "居民身份证" in lists["证件类型"] and "劳务派遣" in lists["用工形式"]
    guide = book["填写说明"]
    text = "\n".join(str(c.value) for row in guide.iter_rows() for c in row if c.value)
    for label in ENROL_HEADERS:
        assert label in text
    assert "城镇、农村" in text and "示例" in text


def test_template_of_suspend_and_unknown_type(vip_client):
    book = _template(vip_client, "suspend")
    headers = [c.value for c in book.worksheets[0][1]]
    assert headers == ["证件类型", "证件号码", "姓名", "停保年月", "减员原因", "停保险种"]
    assert vip_client.get(reverse("batch:template", kwargs={"code": "nope"})).status_code == 404


def test_template_round_trip_every_row_imports(vip_client, vip_employer):
    book = _template(vip_client)
    sheet = book.worksheets[0]
    headers = [c.value for c in sheet[1]]
    rows = [enrol_row(make_resident_id(BIRTH), 姓名=name) for name in ("王伟", "李娜", "欧阳明月")]
    for row in rows:
        sheet.append([row.get(h, "") for h in headers])
    out = io.BytesIO()
    book.save(out)
    tx = upload_and_import(vip_client, out.getvalue())
    assert tx.state == State.SAVED and tx.mode == "batch"
    assert (tx.total_count, tx.import_failed_count) == (3, 0)
    items = list(Item.objects.filter(transaction=tx).order_by("row_no"))
    assert [i.row_no for i in items] == [2, 3, 4]
    assert all(i.status == ItemStatus.IMPORTED for i in items), [i.import_issues for i in items]
    assert [i.name for i in items] == ["王伟", "李娜", "欧阳明月"]
    assert items[0].raw["hukou"] == "城镇"
    assert items[0].data["hukou"] == "urban"
    assert PersonLock.objects.filter(transaction=tx).count() == 3
    page = vip_client.get(reverse("batch:detail", kwargs={"pk": tx.pk}))
    assert page.status_code == 200
    html = page.content.decode()
    assert tx.serial in html and "欧阳明月" in html and "提交审批" in html and "退单" in html
