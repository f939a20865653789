"""Photos of a batch: a .zip of 证件号码.jpg beside the file, read by the import job, each
photo checked and re-encoded like an uploaded one; 直接上传 on a row; PHOTO_REQUIRED."""

from __future__ import annotations

import io
import os
import zipfile

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from PIL import Image

from shebao.batch import reader
from shebao.batch.models import Upload
from shebao.batch.services import photo_results
from shebao.register.models import Person
from shebao.workflow import services as engine
from shebao.workflow.models import AuditStatus, Item, State, Transaction
from tests.batch.conftest import BIRTH, enrol_row, run_import, xlsx_bytes
from tests.factories import make_resident_id


def jpeg(size=(600, 800), colour=(200, 180, 160), kind="JPEG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, kind)
    return out.getvalue()


def zip_of(entries: dict[str, bytes], *, compression=zipfile.ZIP_STORED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in entries.items():
            if name.endswith("/"):
                archive.writestr(zipfile.ZipInfo(name), b"")
            else:
                archive.writestr(name, data)
    return out.getvalue()


def post_upload(client, sheet: bytes, photos: bytes | None, *, name="照片.zip"):
    payload = {"file": SimpleUploadedFile("增员.xlsx", sheet)}
    if photos is not None:
        payload["photos"] = SimpleUploadedFile(name, photos)
    return client.post(reverse("batch:upload", kwargs={"code": "enrol"}), payload)


def imported(client, sheet: bytes, photos: bytes | None) -> Transaction:
    response = post_upload(client, sheet, photos)
    assert response.status_code == 302, response.content.decode()[:2000]
    return run_import(Transaction.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1])))


def photo_of(tx: Transaction, row_no: int) -> bytes | None:
    item = Item.objects.get(transaction=tx, row_no=row_no)
    return bytes(item.photo) if item.photo else None


def test_photos_named_by_number_are_attached_re_encoded_and_each_gets_a_result_line(vip_client):
    a, b, c = (make_resident_id(BIRTH) for _ in range(3))
    sheet = xlsx_bytes([enrol_row(a, 是否制卡="是"), enrol_row(b, 是否制卡="是", 姓名="李四"), enrol_row(c)])
    unknown = make_resident_id(BIRTH)
    photos = zip_of(
        {
            f"照片/{a}.jpg": jpeg(),
            f"{b}.PNG": jpeg(kind="PNG"),
            f"{unknown}.jpg": jpeg(),
            f"{c}.jpg": b"\xff\xd8\xff\xe0" + b"garbage" * 50,
            "tiny/420102199001011234.jpg": jpeg((50, 60)),
            "说明.txt": b"hello",
            "__MACOSX/._x.jpg": b"fork",
            ".DS_Store": b"x",
            "照片/": b"",
        }
    )
    tx = imported(vip_client, sheet, photos)
    assert tx.state == State.SAVED
    for row in (2, 3):
        with Image.open(io.BytesIO(photo_of(tx, row))) as image:
            assert (image.format, image.size) == ("JPEG", (358, 441))
    assert photo_of(tx, 4) is None
    upload = Upload.objects.get(transaction=tx)
    lines = {line["file"]: line for line in photo_results(upload)}
    assert set(lines) == {f"{a}.jpg", f"{b}.PNG", f"{unknown}.jpg", f"{c}.jpg", "420102199001011234.jpg", "说明.txt"}
    assert lines[f"{a}.jpg"]["ok"] and "已添加到第 2 行" in lines[f"{a}.jpg"]["text"]
    assert "已添加到第 3 行（李四）" in lines[f"{b}.PNG"]["text"]
    assert "没有证件号码为" in lines[f"{unknown}.jpg"]["text"]
    assert "无法读取该照片文件" in lines[f"{c}.jpg"]["text"]
    assert not lines["说明.txt"]["ok"] and "文件名须为证件号码" in lines["说明.txt"]["text"]
    with translation.override("en"):  # stored as msgids: the English UI reads English
        english = {line["file"]: line["text"] for line in photo_results(upload)}
    assert english[f"{b}.PNG"].startswith("Added to row 3 (李四)")
    assert "read" in english[f"{c}.jpg"].lower()
    page = vip_client.get(reverse("batch:detail", kwargs={"pk": tx.pk})).content.decode()
    assert "照片文件" in page and "结果" in page and "无法读取该照片文件" in page
    assert (
        reverse("batch:row_photo", kwargs={"pk": tx.pk, "item": Item.objects.get(transaction=tx, row_no=2).pk}) in page
    )


def test_a_photo_too_small_is_a_result_line_not_a_failed_job(vip_client):
    a = make_resident_id(BIRTH)
    tx = imported(vip_client, xlsx_bytes([enrol_row(a, 是否制卡="是")]), zip_of({f"{a}.jpg": jpeg((50, 60))}))
    assert tx.state == State.SAVED and photo_of(tx, 2) is None
    (line,) = photo_results(Upload.objects.get(transaction=tx))
    assert not line["ok"] and "照片太小" in line["text"]


def _refusal(client, photos: bytes, name="照片.zip") -> str:
    before = Transaction.objects.count()
    response = post_upload(client, xlsx_bytes([enrol_row(make_resident_id(BIRTH))]), photos, name=name)
    assert response.status_code == 400
    assert Transaction.objects.count() == before  # nothing created
    return response.content.decode()


def test_a_bad_zip_refuses_the_upload_with_a_reason(vip_client, settings, monkeypatch):
    assert "须打包为 .zip" in _refusal(vip_client, jpeg(), name="a.jpg")
    assert "须打包为 .zip" in _refusal(vip_client, b"Rar!\x1a\x07\x00junk", name="a.rar")
    bomb = zip_of({"420102199001011234.jpg": b"\0" * (4 * 1024 * 1024)}, compression=zipfile.ZIP_DEFLATED)
    assert "解压后异常巨大" in _refusal(vip_client, bomb)
    monkeypatch.setattr(reader, "PHOTOS_MAX_ENTRIES", 3)
    many = zip_of({f"{make_resident_id(BIRTH)}.jpg": jpeg((120, 150)) for _ in range(4)})
    assert "超过每次最多 3 个" in _refusal(vip_client, many)
    a = make_resident_id(BIRTH)
    twice = zip_of({f"x/{a}.jpg": jpeg(), f"y/{a}.png": jpeg(kind="PNG")})
    assert f"同一证件号码 {a}" in _refusal(vip_client, twice)
    settings.SHEBAO_PHOTO_MAX_BYTES = 1024 * 1024
    big = zip_of({f"{a}.jpg": b"\xff\xd8\xff" + os.urandom(1_200_000)})
    assert f"“{a}.jpg”超过 1 MB" in _refusal(vip_client, big)


def test_the_refusal_is_english_in_the_english_ui(vip_client):
    vip_client.cookies["django_language"] = "en"
    html = _refusal(vip_client, jpeg(), name="a.jpg")
    assert ".zip" in html and "须打包" not in html


def _submit_and_audit(client, tx: Transaction) -> Transaction:
    response = client.post(reverse("batch:action", kwargs={"pk": tx.pk}), {"action": "submit", "version": tx.version})
    assert response.status_code == 302
    engine.run_audit(tx.pk)
    tx.refresh_from_db()
    return tx


def test_a_row_that_wants_a_card_without_a_photo_fails_the_audit_with_photo_required(vip_client):
    with_photo, without, no_card = (make_resident_id(BIRTH) for _ in range(3))
    sheet = xlsx_bytes([enrol_row(with_photo, 是否制卡="是"), enrol_row(without, 是否制卡="是"), enrol_row(no_card)])
    tx = _submit_and_audit(vip_client, imported(vip_client, sheet, zip_of({f"{with_photo}.jpg": jpeg()})))
    status = dict(Item.objects.filter(transaction=tx).values_list("row_no", "audit_status"))
    assert status == {2: AuditStatus.PASSED, 3: AuditStatus.FAILED, 4: AuditStatus.PASSED}
    failed = Item.objects.get(transaction=tx, row_no=3)
    assert [i["code"] for i in failed.audit_issues] == ["PHOTO_REQUIRED"]
    assert not failed.applied and Item.objects.get(transaction=tx, row_no=2).applied
    assert Person.objects.get(id_number=with_photo).photo  # the photo goes to the register with the row


def test_direct_upload_on_a_row_adds_then_replaces_its_photo_and_the_row_passes(vip_client):
    a = make_resident_id(BIRTH)
    tx = imported(vip_client, xlsx_bytes([enrol_row(a, 是否制卡="是")]), None)
    item = Item.objects.get(transaction=tx, row_no=2)
    url = reverse("batch:row_photo", kwargs={"pk": tx.pk, "item": item.pk})
    page = vip_client.get(reverse("batch:detail", kwargs={"pk": tx.pk})).content.decode()
    assert "直接上传" in page and "无照片" in page
    # The same checks as an uploaded photo: too small is refused, nothing stored.
    small = vip_client.post(url, {"photo": SimpleUploadedFile("a.jpg", jpeg((50, 60))), "version": tx.version})
    assert small.status_code == 400 and "照片太小" in small.content.decode()
    assert photo_of(tx, 2) is None
    response = vip_client.post(url, {"photo": SimpleUploadedFile("a.png", jpeg(kind="PNG")), "version": tx.version})
    assert response.status_code == 302 and response["Location"].endswith("#row-2")
    first = photo_of(tx, 2)
    with Image.open(io.BytesIO(first)) as image:
        assert (image.format, image.size) == ("JPEG", (358, 441))
    tx.refresh_from_db()
    page = vip_client.get(reverse("batch:detail", kwargs={"pk": tx.pk})).content.decode()
    assert "更换照片" in page
    again = vip_client.post(
        url, {"photo": SimpleUploadedFile("b.jpg", jpeg(colour=(20, 40, 90))), "version": tx.version}
    )
    assert again.status_code == 302 and photo_of(tx, 2) != first
    assert vip_client.get(url)["Content-Type"] == "image/jpeg"
    # A stale page is refused, the photo kept.
    stale = vip_client.post(url, {"photo": SimpleUploadedFile("c.jpg", jpeg()), "version": tx.version})
    assert stale.status_code == 409
    tx.refresh_from_db()
    tx = _submit_and_audit(vip_client, tx)
    assert Item.objects.get(transaction=tx, row_no=2).audit_status == AuditStatus.PASSED


def test_another_employers_row_photo_is_404(vip_client, other_employer, operator_client):
    a = make_resident_id(BIRTH)
    tx = imported(vip_client, xlsx_bytes([enrol_row(a, 是否制卡="是")]), zip_of({f"{a}.jpg": jpeg()}))
    item = Item.objects.get(transaction=tx, row_no=2)
    url = reverse("batch:row_photo", kwargs={"pk": tx.pk, "item": item.pk})
    other = operator_client(other_employer)
    assert other.get(url).status_code == 404
    assert other.post(url, {"photo": SimpleUploadedFile("a.jpg", jpeg()), "version": tx.version}).status_code == 404


def test_a_type_without_photo_shows_no_zip_field(vip_client):
    assert 'name="photos"' in vip_client.get(reverse("batch:upload", kwargs={"code": "enrol"})).content.decode()
    assert 'name="photos"' not in vip_client.get(reverse("batch:upload", kwargs={"code": "suspend"})).content.decode()
