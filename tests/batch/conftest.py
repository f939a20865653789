"""Builders for batch tests: real files (openpyxl, xlsxwriter, CSV), real services, no mocks."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from django.urls import reverse

from shebao.batch import services as batch_services
from shebao.core.months import current_month, format_month
from shebao.workflow.models import Transaction
from tests.factories import make_resident_id

ENROL_HEADERS = [
    "证件类型",
    "证件号码",
    "姓名",
    "性别",
    "出生日期",
    "户口性质",
    "个人身份",
    "用工形式",
    "参加工作日期",
    "参保起始年月",
    "申报月工资",
    "参保险种",
    "联系电话",
    "联系地址",
    "是否制卡",
    "补缴起始年月",
    "补缴基数",
    "弹性延迟退休协议",  # optional, the last column (a file without it imports: 否)
]

BIRTH = dt.date(1990, 3, 7)  # of the persons of these tests' rows: make_resident_id(BIRTH)


def enrol_row(id_number: str | None = None, **overrides) -> dict:
    """One valid 增员 row keyed by the template's Chinese headers."""
    row = {
        "证件类型": "居民身份证",
        "证件号码": id_number or make_resident_id(BIRTH),
        "姓名": "张三",
        "性别": "",
        "出生日期": "",
        "户口性质": "城镇",
        "个人身份": "工人",
        "用工形式": "劳动合同",
        "参加工作日期": "2012-07-01",
        "参保起始年月": format_month(current_month()),
        "申报月工资": "8000.00",
        "参保险种": "",
        "联系电话": "13800000000",
        "联系地址": "武汉市江岸区沿江大道1号",
        "是否制卡": "否",
        "补缴起始年月": "",
        "补缴基数": "",
        "弹性延迟退休协议": "",
    }
    row.update(overrides)
    return row


def xlsx_bytes(
    rows: list[dict],
    headers: list[str] | None = None,
    *,
    above: list[list] | None = None,
    text_columns: tuple[str, ...] = (),
) -> bytes:
    """A workbook written with openpyxl: optional rows above the header (a title), then data."""
    headers = headers or ENROL_HEADERS
    book = openpyxl.Workbook()
    sheet = book.active
    for line in above or []:
        sheet.append(line)
    sheet.append(headers)
    for row in rows:
        sheet.append([row.get(h, "") for h in headers])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text typed by a person, not a formula
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows: list[dict], headers: list[str] | None = None, encoding: str = "utf-8-sig") -> bytes:
    import csv

    headers = headers or ENROL_HEADERS
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([row.get(h, "") for h in headers])
    return out.getvalue().encode(encoding)


def upload(client, data: bytes, *, code: str = "enrol", filename: str = "增员.xlsx", **extra):
    from django.core.files.uploadedfile import SimpleUploadedFile

    file = SimpleUploadedFile(filename, data, content_type="application/octet-stream")
    return client.post(reverse("batch:upload", kwargs={"code": code}), {"file": file, **extra})


def run_import(tx: Transaction) -> Transaction:
    """The worker's job, synchronously."""
    from shebao.batch.jobs import import_job

    import_job(tx.pk)
    tx.refresh_from_db()
    return tx


def upload_and_import(client, data: bytes, **kwargs) -> Transaction:
    response = upload(client, data, **kwargs)
    assert response.status_code == 302, response.content.decode()[:2000]
    tx = Transaction.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))
    return run_import(tx)


def create_batch(employer, user, data: bytes, code: str = "enrol") -> Transaction:
    tx = batch_services.batch_upload(employer=employer, actor=user, business_type=code, filename="f.xlsx", data=data)
    return run_import(tx)


@pytest.fixture
def vip_client(params, vip_employer, operator_client):
    return operator_client(vip_employer)


@pytest.fixture
def ordinary_client(params, ordinary_employer, operator_client):
    return operator_client(ordinary_employer)
