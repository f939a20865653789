"""Files refused as a whole: a clear Chinese message, no 500, no transaction, no lock."""

from __future__ import annotations

import io
import zipfile

import pytest

from shebao.batch.models import Upload
from shebao.workflow.models import Item, PersonLock, State, Transaction
from tests.batch.conftest import BIRTH, ENROL_HEADERS, csv_bytes, enrol_row, upload, upload_and_import, xlsx_bytes
from tests.factories import make_resident_id


def _refused(client, data: bytes, expected: str, filename: str = "增员.xlsx", code: str = "enrol") -> str:
    before = (Transaction.objects.count(), PersonLock.objects.count(), Upload.objects.count(), Item.objects.count())
    response = upload(client, data, filename=filename, code=code)
    html = response.content.decode()
    assert response.status_code == 400, html[:500]
    assert expected in html, html[html.find("upload-error") - 20 : html.find("upload-error") + 400]
    after = (Transaction.objects.count(), PersonLock.objects.count(), Upload.objects.count(), Item.objects.count())
    assert after == before
    return html


def test_empty_file(vip_client):
    _refused(vip_client, b"", "空的")


def test_not_a_spreadsheet(vip_client):
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
    _refused(vip_client, png, "不是表格文件", filename="photo.xlsx")
    _refused(vip_client, b"%PDF-1.7\n1 0 obj<<>>endobj\n", "不是表格文件", filename="a.csv")
    _refused(vip_client, bytes(range(256)) * 10, "不是表格文件", filename="a.xls")
    # A zip that is not a workbook (e.g. a Word document renamed).
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    _refused(vip_client, out.getvalue(), "不是表格文件")


def test_password_protected_workbook(vip_client):
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = io.BytesIO(xlsx_bytes([enrol_row(make_resident_id(BIRTH))]))
    encrypted = io.BytesIO()
    office = OOXMLFile(plain)
    office.encrypt("secret", encrypted)
    _refused(vip_client, encrypted.getvalue(), "密码")


def test_zip_bomb_disguised_as_xlsx(vip_client):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\x00" * (60 * 1024 * 1024))
    assert len(out.getvalue()) < 1024 * 1024
    _refused(vip_client, out.getvalue(), "解压后异常巨大")


def test_zip_bomb_lying_about_its_size(vip_client):
    """A directory declaring small sizes is caught when the streams are checked."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\x00" * (30 * 1024 * 1024))
    data = bytearray(out.getvalue())
    # Patch the declared uncompressed size (local header and central directory) to 1000.
    big = (30 * 1024 * 1024).to_bytes(4, "little")
    data = bytes(data).replace(big, (1000).to_bytes(4, "little"))
    html = _refused(vip_client, data, "")
    assert "解压后异常巨大" in html or "无法读取" in html


def test_file_over_20_mb(vip_client):
    data = b"PK\x03\x04" + b"\x00" * (20 * 1024 * 1024 + 10)
    _refused(vip_client, data, "超过上限 20 MB")


def test_more_than_100000_rows(vip_client):
    row = ",".join(enrol_row("110105197501102614").get(h, "") for h in ENROL_HEADERS) + "\r\n"
    data = ("\ufeff" + ",".join(ENROL_HEADERS) + "\r\n" + row * 100_001).encode("utf-8")
    assert len(data) < 20 * 1024 * 1024
    _refused(vip_client, data, "100001 行数据", filename="big.csv")


def test_wrong_business_type_names_the_template_and_columns(vip_client):
    suspend_headers = ["证件类型", "证件号码", "姓名", "停保年月", "减员原因", "停保险种"]
    data = xlsx_bytes(
        [{"证件号码": make_resident_id(BIRTH), "姓名": "张三", "停保年月": "2026-01", "减员原因": "02"}],
        suspend_headers,
    )
    html = _refused(vip_client, data, "不是「增员(续保)」的导入模板")
    assert "减员(暂停缴费)" in html and "申报月工资" in html


def test_missing_required_columns_are_named(vip_client):
    headers = [h for h in ENROL_HEADERS if h not in ("申报月工资", "联系电话")]
    html = _refused(vip_client, xlsx_bytes([enrol_row(make_resident_id(BIRTH))], headers), "缺少必填列")
    assert "申报月工资、联系电话" in html


def test_duplicated_header_is_named(vip_client):
    headers = [*ENROL_HEADERS, "姓名"]
    _refused(vip_client, xlsx_bytes([enrol_row(make_resident_id(BIRTH))], headers), "列名「姓名」重复")


def test_header_only_no_rows(vip_client):
    _refused(vip_client, xlsx_bytes([{}, {}]), "没有数据行")


def test_csv_in_an_unexpected_encoding(vip_client):
    rows = [enrol_row(make_resident_id(BIRTH))]
    _refused(vip_client, csv_bytes(rows, encoding="utf-16"), "编码", filename="a.csv")
    big5 = "證件類型,證件號碼,姓名,戶口性質\r\n居民身份證,420102199003070117,張三,城鎮\r\n".encode("big5")
    _refused(vip_client, big5, "编码", filename="a.csv")


def test_refusal_keeps_what_was_saved(vip_client):
    """A refused second file changes nothing of the batch already saved."""
    tx = upload_and_import(vip_client, xlsx_bytes([enrol_row(make_resident_id(BIRTH))]))
    version = tx.version
    _refused(vip_client, b"", "空的")
    tx.refresh_from_db()
    assert tx.state == State.SAVED and tx.version == version and tx.total_count == 1


@pytest.mark.parametrize("code", ["nope", "employer_info"])
def test_unknown_or_non_batch_business_is_404(vip_client, code):
    from django.urls import reverse

    assert vip_client.get(reverse("batch:upload", kwargs={"code": code})).status_code == 404
