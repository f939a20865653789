"""提交审批 → audit → 结束/回退; failure lists and their round trip; result queries."""

from __future__ import annotations

import io
import json

import openpyxl
from django.urls import reverse

from shebao.register.models import Relation
from shebao.workflow import services as engine
from shebao.workflow.models import AuditStatus, Item, ItemStatus, PersonLock, State
from tests.batch.conftest import BIRTH, ENROL_HEADERS, enrol_row, upload_and_import, xlsx_bytes
from tests.factories import make_resident_id

# 成功 1 · 审核失败 1 · 导入失败 1: the failures red, the success never.
RED_COUNTS = (
    '<span class="count-ok">成功 1</span> · '
    '<span class="count-failed">审核失败 1</span> · <span class="count-failed">导入失败 1</span>'
)


def _submit(client, tx):
    response = client.post(reverse("batch:action", kwargs={"pk": tx.pk}), {"action": "submit", "version": tx.version})
    assert response.status_code == 302
    tx.refresh_from_db()
    return tx


def _audit(tx):
    engine.run_audit(tx.pk)
    tx.refresh_from_db()
    return tx


def _sheet(response):
    assert response.status_code == 200
    content = b"".join(response.streaming_content) if response.streaming else response.content
    book = openpyxl.load_workbook(io.BytesIO(content))
    return book, book.worksheets[0], content


def test_import_screen_counts_filters_status_and_pages(vip_client):
    rows = [enrol_row(make_resident_id(BIRTH)) for _ in range(130)] + [
        enrol_row("bad"),
        enrol_row(make_resident_id(BIRTH), 姓名="1"),
    ]
    tx = upload_and_import(vip_client, xlsx_bytes(rows))
    assert (tx.total_count, tx.import_failed_count, tx.progress_done, tx.progress_total) == (132, 2, 132, 132)
    url = reverse("batch:detail", kwargs={"pk": tx.pk})
    html = vip_client.get(url).content.decode()
    assert 'data-count="total">132<' in html and 'data-count="import_failed" class="count-failed">2<' in html
    assert "第 1 / 2 页" in html and html.count('name="items"') == 100
    failed = vip_client.get(url + "?result=import_failed").content.decode()
    assert failed.count('name="items"') == 2 and "ID_FORMAT" in failed and "NAME_CHARS" in failed
    last = vip_client.get(url + "?result=imported&page=2").content.decode()
    assert last.count('name="items"') == 30
    status = json.loads(vip_client.get(reverse("batch:status", kwargs={"pk": tx.pk})).content)
    assert status["state"] == "saved" and status["final"] and status["counts"]["import_failed"] == 2
    # 保存 keeps it in the to-do list.
    vip_client.post(reverse("batch:action", kwargs={"pk": tx.pk}), {"action": "save"})
    tx.refresh_from_db()
    assert tx.state == State.SAVED and tx.events.filter(action="save").exists()


def _rows_shown(html: str) -> list[int]:
    import re

    return [int(n) for n in re.findall(r'<tr data-row="(\d+)">', html)]


def test_every_page_shows_its_rows_in_file_order_also_read_from_the_end(vip_client, monkeypatch):
    """Pages in the second half are read backwards; what each page shows is the same."""
    from shebao.batch import views

    monkeypatch.setattr(views, "ROWS_PER_PAGE", 3)
    rows = (
        [enrol_row(make_resident_id(BIRTH)) for _ in range(10)]
        + [enrol_row("bad")]
        + [enrol_row(make_resident_id(BIRTH))]
    )
    tx = upload_and_import(vip_client, xlsx_bytes(rows))
    url = reverse("batch:detail", kwargs={"pk": tx.pk})
    doomed = Item.objects.get(transaction=tx, row_no=4)
    vip_client.post(
        reverse("batch:action", kwargs={"pk": tx.pk}), {"action": "delete", "version": tx.version, "items": [doomed.pk]}
    )
    shown = [_rows_shown(vip_client.get(f"{url}?page={n}").content.decode()) for n in range(1, 5)]
    assert shown == [[2, 3, 5], [6, 7, 8], [9, 10, 11], [12, 13]]
    imported = [_rows_shown(vip_client.get(f"{url}?result=imported&page={n}").content.decode()) for n in (1, 2, 3, 4)]
    assert imported == [[2, 3, 5], [6, 7, 8], [9, 10, 11], [13]]
    assert _rows_shown(vip_client.get(f"{url}?page=99").content.decode()) == [12, 13]  # past the end: the last


def test_importing_page_shows_a_progress_bar_polling_status(vip_client, vip_employer):
    from tests.batch.conftest import upload

    response = upload(vip_client, xlsx_bytes([enrol_row(make_resident_id(BIRTH))]))
    page = vip_client.get(response["Location"]).content.decode()
    assert 'data-batch-poll="1"' in page and "batch/batch.js" in page and "导入中" in page
    status = json.loads(vip_client.get(response["Location"] + "status/").content)
    assert status == {**status, "state": "importing", "final": False, "progress_total": 1}


def test_vip_batch_finishes_with_counts_red_when_a_row_failed(vip_client):
    a, b = make_resident_id(BIRTH), make_resident_id(BIRTH)
    first = upload_and_import(vip_client, xlsx_bytes([enrol_row(a), enrol_row(b)]))
    first = _audit(_submit(vip_client, first))
    assert first.state == State.FINISHED and first.applied_count == 2
    assert Relation.objects.filter(person__id_number=a).count() == 5
    # A second batch: a is already contributing here (audit fails), c is new (passes).
    c = make_resident_id(BIRTH)
    second = upload_and_import(vip_client, xlsx_bytes([enrol_row(a), enrol_row(c), enrol_row("bad")]))
    second = _submit(vip_client, second)
    assert second.state == State.AUDITING
    page = vip_client.get(reverse("batch:detail", kwargs={"pk": second.pk})).content.decode()
    assert 'data-batch-poll="1"' in page
    second = _audit(second)
    assert second.state == State.FINISHED
    assert (second.audit_passed_count, second.audit_failed_count, second.applied_count) == (1, 1, 1)
    html = vip_client.get(reverse("batch:detail", kwargs={"pk": second.pk})).content.decode()
    # The failures are red, the success is not.
    assert "结束" in html and RED_COUNTS in html
    assert "办结，2 人未生效" in html
    assert "下载审核失败列表" in html
    failed = vip_client.get(reverse("batch:detail", kwargs={"pk": second.pk}) + "?result=failed").content.decode()
    assert "ALREADY_CONTRIBUTING_HERE" in failed
    # 《审核失败人员列表》: the row as uploaded plus the codes.
    _book, sheet, _ = _sheet(vip_client.get(reverse("batch:failures", kwargs={"pk": second.pk, "kind": "audit"})))
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == ENROL_HEADERS + ["错误代码", "错误说明"]
    assert len(values) == 2 and values[1][1] == a and values[1][-2] == "ALREADY_CONTRIBUTING_HERE"
    # Result query: both batches with counts; 结束 red beside the failing one.
    results = vip_client.get(reverse("batch:results", kwargs={"code": "enrol"})).content.decode()
    assert "批量增员审核结果查询" in results
    assert results.index(second.serial) < results.index(first.serial)
    assert RED_COUNTS in results
    assert (
        '<span class="count-ok">成功 2</span> · <span class="">审核失败 0</span> · <span class="">导入失败 0</span>'
        in results
    )
    assert reverse("batch:detail", kwargs={"pk": second.pk}) in results and "详情" in results


def test_all_rows_fail_the_audit_returns_the_batch_which_keeps_its_rows(vip_client):
    a = make_resident_id(BIRTH)
    done = _audit(_submit(vip_client, upload_and_import(vip_client, xlsx_bytes([enrol_row(a)]))))
    assert done.state == State.FINISHED
    tx = _audit(_submit(vip_client, upload_and_import(vip_client, xlsx_bytes([enrol_row(a)]))))
    assert tx.state == State.RETURNED and tx.returned
    html = vip_client.get(reverse("batch:detail", kwargs={"pk": tx.pk})).content.decode()
    assert "全部人员审核失败" in html and "回退" in html and "提交审批" in html
    item = Item.objects.get(transaction=tx)
    assert item.audit_status == AuditStatus.FAILED and item.status == ItemStatus.IMPORTED
    assert PersonLock.objects.filter(transaction=tx).exists()  # still open: still locked
    # Resubmitting audits them again (still failing: returned again).
    tx = _audit(_submit(vip_client, tx))
    assert tx.state == State.RETURNED and tx.events.filter(action="submit").count() == 2


def test_ordinary_employer_batch_goes_to_a_clerk_who_approves(ordinary_client, clerk):
    tx = upload_and_import(
        ordinary_client, xlsx_bytes([enrol_row(make_resident_id(BIRTH)), enrol_row(make_resident_id(BIRTH))])
    )
    tx = _audit(_submit(ordinary_client, tx))
    assert tx.state == State.REVIEW
    tx = engine.clerk_approve(tx=tx, clerk=clerk, version=tx.version)
    assert tx.state == State.FINISHED and tx.applied_count == 2


def test_submit_without_importable_rows_says_so(vip_client):
    tx = upload_and_import(vip_client, xlsx_bytes([enrol_row("bad")]))
    response = vip_client.post(
        reverse("batch:action", kwargs={"pk": tx.pk}), {"action": "submit", "version": tx.version}, follow=True
    )
    assert "没有可提交的人员" in response.content.decode()
    tx.refresh_from_db()
    assert tx.state == State.SAVED


def test_import_failure_list_round_trip(vip_client):
    """Download 《导入失败人员列表》, fix the cells, upload the file again as it is."""
    good, bad_wage, bad_name = make_resident_id(BIRTH), make_resident_id(BIRTH), make_resident_id(BIRTH)
    rows = [
        enrol_row(good),
        enrol_row(bad_wage, 申报月工资="八千", 联系地址='=HYPERLINK("http://x","点我")'),
        enrol_row(bad_name, 姓名="@SUM(1+1)", 联系地址="+1-2"),
        enrol_row("4.20102E+17"),
    ]
    tx = upload_and_import(vip_client, xlsx_bytes(rows))
    assert tx.import_failed_count == 3
    response = vip_client.get(reverse("batch:failures", kwargs={"pk": tx.pk, "kind": "import"}))
    book, sheet, content = _sheet(response)
    assert "导入失败人员列表" in response["Content-Disposition"] or "filename*" in response["Content-Disposition"]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == ENROL_HEADERS + ["错误代码", "错误说明"]
    assert [v[1] for v in values[1:]] == [bad_wage, bad_name, "4.20102E+17"]
    assert values[1][-2] == "MONEY_FORMAT" and "申报月工资" in values[1][-1]
    assert values[3][-2] == "ID_NUMERIC_CELL"
    # Nothing is written as a formula: the cells are strings, shown as typed.
    assert b"<f>" not in _sheet_xml(content)
    address = ENROL_HEADERS.index("联系地址")
    assert sheet.cell(row=2, column=address + 1).data_type == "s"
    assert sheet.cell(row=2, column=address + 1).value.startswith("=HYPERLINK")
    # Fix the failing cells in the list itself and upload it again, as it is.
    sheet.cell(row=2, column=ENROL_HEADERS.index("申报月工资") + 1).value = "8000"
    sheet.cell(row=3, column=ENROL_HEADERS.index("姓名") + 1).value = "孙七"
    sheet.cell(row=4, column=ENROL_HEADERS.index("证件号码") + 1).value = make_resident_id(BIRTH)
    out = io.BytesIO()
    book.save(out)
    # The first batch still holds bad_wage and bad_name: delete those rows first (the
    # other choice, 退单, is tested in test_locks).
    failed_ids = list(Item.objects.filter(transaction=tx, status=ItemStatus.IMPORT_FAILED).values_list("pk", flat=True))
    vip_client.post(
        reverse("batch:action", kwargs={"pk": tx.pk}), {"action": "delete", "version": tx.version, "items": failed_ids}
    )
    again = upload_and_import(vip_client, out.getvalue(), filename="导入失败人员列表.xlsx")
    items = list(Item.objects.filter(transaction=again).order_by("row_no"))
    assert [i.status for i in items] == [ItemStatus.IMPORTED] * 3, [i.import_issues for i in items]
    assert items[0].data["address"].startswith("=HYPERLINK") and items[1].name == "孙七"


def _sheet_xml(content: bytes) -> bytes:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return archive.read("xl/worksheets/sheet1.xml")


def test_another_employers_batch_is_404(vip_client, other_employer, operator_client):
    other = upload_and_import(operator_client(other_employer), xlsx_bytes([enrol_row(make_resident_id(BIRTH))]))
    for name, kwargs in [("batch:detail", {}), ("batch:status", {}), ("batch:failures", {"kind": "import"})]:
        assert vip_client.get(reverse(name, kwargs={"pk": other.pk, **kwargs})).status_code == 404
    response = vip_client.post(
        reverse("batch:action", kwargs={"pk": other.pk}), {"action": "cancel", "version": other.version}
    )
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.state == State.SAVED
    results = vip_client.get(reverse("batch:results", kwargs={"code": "enrol"})).content.decode()
    assert other.serial not in results


def test_the_framework_serves_suspend_too(vip_client):
    """减员: another registered business type, with no change in the batch code."""
    a, b = make_resident_id(BIRTH), make_resident_id(BIRTH)
    enrolled = _audit(_submit(vip_client, upload_and_import(vip_client, xlsx_bytes([enrol_row(a), enrol_row(b)]))))
    assert enrolled.state == State.FINISHED
    headers = ["证件类型", "证件号码", "姓名", "停保年月", "减员原因", "停保险种"]
    from shebao.core.months import add_months, current_month, format_month

    stop = format_month(add_months(current_month(), 1))
    rows = [
        {"证件号码": a, "姓名": "张三", "停保年月": stop, "减员原因": "02"},
        {"证件号码": b, "姓名": "张三", "停保年月": stop, "减员原因": "辞职"},
        {"证件号码": make_resident_id(BIRTH), "姓名": "张三", "停保年月": stop, "减员原因": "42"},
    ]
    tx = upload_and_import(vip_client, xlsx_bytes(rows, headers), code="suspend")
    assert (tx.business_type, tx.total_count, tx.import_failed_count) == ("suspend", 3, 1)
    tx = _audit(_submit(vip_client, tx))
    assert tx.state == State.FINISHED and tx.applied_count == 2
    results = vip_client.get(reverse("batch:results", kwargs={"code": "suspend"})).content.decode()
    assert "批量减员审核结果查询" in results and tx.serial in results and enrolled.serial not in results
    html = vip_client.get(reverse("batch:detail", kwargs={"pk": tx.pk})).content.decode()
    assert "批量减员导出 (Excel)" in html and "批量减员导出 (PDF)" in html


def test_upload_page_links_the_template_and_results(vip_client):
    html = vip_client.get(reverse("batch:upload", kwargs={"code": "enrol"})).content.decode()
    assert reverse("batch:template", kwargs={"code": "enrol"}) in html and "批量增员审核结果查询" in html
    assert 'type="file"' in html and "上传" in html
    landing = vip_client.get(reverse("web:business", kwargs={"code": "enrol"})).content.decode()
    assert reverse("batch:upload", kwargs={"code": "enrol"}) in landing
