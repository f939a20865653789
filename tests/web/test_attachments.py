"""Scanned materials attached to a transaction (不见面审批): what an employer and a clerk
notice. Hostile files are judged by their content; nobody else's attachment exists for a
user (404); a transaction a clerk will review cannot be submitted without its required
materials; removal hides a file and keeps it in the history."""

from __future__ import annotations

import io
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image
from pypdf import PdfReader

from shebao.core.scans import clean_filename
from shebao.workflow import services
from shebao.workflow.models import Attachment, Event, State
from tests.factories import ClerkFactory, EmployerFactory, OperatorFactory
from tests.security.test_images import bomb_png
from tests.workflow.scan_type import CHECKLIST, REQUIRED, jpeg, pdf, png, saved_tx, scan_type  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("scan_type")]


@pytest.fixture
def world(params, ordinary_employer, operator_client):
    client = operator_client(ordinary_employer)
    tx = saved_tx(ordinary_employer, client.user)
    return client, tx


def upload(client, tx, data: bytes, name: str, *, material: str = REQUIRED, content_type="application/octet-stream"):
    return client.post(
        reverse("web:attachment_upload", kwargs={"pk": tx.pk}),
        {"material": material, "file": SimpleUploadedFile(name, data, content_type=content_type)},
    )


def page(client, tx) -> str:
    response = client.get(reverse("web:tx_detail", kwargs={"pk": tx.pk}))
    assert response.status_code == 200
    return response.content.decode()


def live(tx):
    return list(Attachment.objects.filter(transaction=tx, removed_at__isnull=True))


def download(client, attachment, **query):
    url = reverse("web:attachment_file", kwargs={"pk": attachment.transaction_id, "att": attachment.pk})
    return client.get(url, query)


# --- the page ----------------------------------------------------------------------------------


def test_a_saved_transaction_offers_the_upload_form_with_its_materials(world):
    client, tx = world
    html = page(client, tx)
    for text in ("申报材料（扫描件）", "上传材料", "材料名称", "选择文件", "尚未上传材料。"):
        assert text in html
    # The checklist, the required material, 其他材料; and what 提交审批 still needs.
    assert f'<option value="{CHECKLIST}">' in html and f'<option value="{REQUIRED}" selected>' in html
    assert '<option value="其他材料">' in html
    assert f"提交审批前须上传：「{REQUIRED}」" in html


def test_an_uploaded_png_is_listed_and_served_only_through_the_checked_view(world):
    client, tx = world
    response = upload(client, tx, png(), "营业执照.png", content_type="image/png")
    assert response.status_code == 302 and response["Location"].endswith("#attachments")
    [attachment] = live(tx)
    assert (attachment.material, attachment.name, attachment.content_type) == (REQUIRED, "营业执照.png", "image/png")
    assert attachment.uploaded_by == client.user and attachment.sha256 and attachment.preview
    html = page(client, tx)
    assert "营业执照.png" in html and REQUIRED in html and client.user.username in html
    assert reverse("web:attachment_file", kwargs={"pk": tx.pk, "att": attachment.pk}) in html
    assert "提交审批前须上传" not in html
    shown = download(client, attachment)
    assert shown.status_code == 200 and shown["Content-Type"] == "image/png"
    assert shown["Content-Disposition"] == f"inline; filename*=utf-8''{quote('营业执照.png')}"
    assert shown["X-Content-Type-Options"] == "nosniff"
    assert shown["Cache-Control"] == "private, no-store"
    csp = shown["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "sandbox" in csp and "script-src" not in csp
    saved = download(client, attachment, download="1")
    assert saved["Content-Disposition"].startswith("attachment; ")
    with Image.open(io.BytesIO(shown.content)) as image:
        assert image.format == "PNG" and image.size == (800, 1100)


def test_the_single_form_says_where_materials_are_uploaded(world):
    client, _tx = world
    response = client.get(reverse("web:single_new", kwargs={"code": "scan_check"}))
    assert "保存后进入本业务页面，可在「申报材料」中上传材料扫描件" in response.content.decode()


# --- hostile files ----------------------------------------------------------------------------


def test_a_png_named_pdf_and_a_pdf_named_png_are_judged_by_their_content(world):
    client, tx = world
    upload(client, tx, png(), "scan.pdf", content_type="application/pdf")
    upload(client, tx, pdf(3), "scan.png", content_type="image/png")
    stored = {(a.name, a.content_type, a.pages) for a in live(tx)}
    assert stored == {("scan.png", "image/png", 1), ("scan.pdf", "application/pdf", 3)}


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"<html><script>alert(document.cookie)</script></html>", "photo.jpg", "不是 PDF、JPEG 或 PNG 文件"),
        (b"MZ\x90\x00" + b"\x00" * 200, "scan.pdf", "不是 PDF、JPEG 或 PNG 文件"),
        (jpeg()[:3000], "cut.jpg", "不完整"),
        (bomb_png(), "bomb.png", "像素过多"),
        (pdf(password="secret"), "locked.pdf", "设置了密码或加密"),
        (b"%PDF-1.7\n% not a document at all\n", "broken.pdf", "无法作为 PDF 读取"),
        (pdf(0), "blank.pdf", "没有任何页面"),
        (b"", "empty.png", "是空文件（0 字节）"),
        (png(20, 20), "tiny.png", "太小"),
    ],
    ids=[
        "html-as-jpg",
        "exe-as-pdf",
        "truncated-jpeg",
        "png-bomb",
        "encrypted-pdf",
        "broken-pdf",
        "no-pages",
        "empty",
        "tiny",
    ],
)
def test_a_hostile_or_broken_file_is_refused_with_its_name_and_nothing_is_stored(world, data, name, message):
    client, tx = world
    version = tx.version
    response = upload(client, tx, data, name)
    body = response.content.decode()
    assert response.status_code == 400
    assert f"「{name}」" in body and message in body
    assert not Attachment.objects.filter(transaction=tx).exists()
    tx.refresh_from_db()
    assert tx.version == version and not Event.objects.filter(transaction=tx, action="attach").exists()


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(world, settings):
    settings.SHEBAO_ATTACHMENT_MAX_BYTES = 100 * 1024
    client, tx = world
    response = upload(client, tx, jpeg(1200, 1600) + b"\x00" * 100 * 1024, "big.jpg")
    assert response.status_code == 400 and "「big.jpg」超过 0.1 MB 的上限" in response.content.decode()
    assert not live(tx)


def test_a_pdf_over_the_page_limit_is_refused(world, settings):
    settings.SHEBAO_ATTACHMENT_MAX_PAGES = 3
    client, tx = world
    response = upload(client, tx, pdf(4), "long.pdf")
    assert response.status_code == 400 and "「long.pdf」共 4 页，超过每个文件 3 页的上限" in response.content.decode()


def test_the_count_limit_counts_the_files_not_removed(world, settings):
    settings.SHEBAO_ATTACHMENT_MAX_COUNT = 2
    client, tx = world
    upload(client, tx, png(), "1.png")
    upload(client, tx, png(), "2.png")
    refused = upload(client, tx, png(), "3.png")
    assert refused.status_code == 400
    assert "每笔业务最多上传 2 个材料文件，本业务已有 2 个" in refused.content.decode()
    first = live(tx)[0]
    client.post(reverse("web:attachment_remove", kwargs={"pk": tx.pk, "att": first.pk}))
    assert upload(client, tx, png(), "3.png").status_code == 302
    assert sorted(a.name for a in live(tx)) == ["2.png", "3.png"]


def test_a_file_name_loses_its_folders_and_control_characters(world):
    client, tx = world
    upload(client, tx, png(), "../..\\etc/pass\x1b[31m\u202ewd\x07\t.png")
    [attachment] = live(tx)
    assert attachment.name == "pass[31mwd.png"
    # What no browser sends whole (NUL, a line break) is dropped by the same rule.
    assert clean_filename("a/\x00b\r\nc\u200b.PNG", "image/png") == "bc.PNG"
    assert clean_filename("..", "application/pdf") == "附件.pdf"
    assert clean_filename("报告.2026", "application/pdf") == "报告.2026.pdf"
    long = upload(client, tx, png(), "长" * 300 + ".png")
    assert long.status_code == 302
    assert max(len(a.name) for a in live(tx)) == 120


def test_a_jpeg_with_trailing_html_is_reencoded_so_the_download_holds_no_html(world):
    client, tx = world
    polyglot = jpeg() + b"<html><body><script>alert(document.domain)</script></body></html>"
    assert upload(client, tx, polyglot, "receipt.jpg").status_code == 302
    [attachment] = live(tx)
    body = download(client, attachment, download="1").content
    assert b"<script" not in body and b"<html" not in body
    with Image.open(io.BytesIO(body)) as image:
        assert image.format == "JPEG" and image.size == (800, 1100)


def test_a_pdf_is_written_anew_without_its_scripts(world):
    client, tx = world
    assert upload(client, tx, pdf(2, script=True) + b"<html><script>x</script>", "form.pdf").status_code == 302
    [attachment] = live(tx)
    body = download(client, attachment).content
    assert b"JavaScript" not in body and b"<html" not in body
    assert len(PdfReader(io.BytesIO(body)).pages) == 2
    assert download(client, attachment)["Content-Type"] == "application/pdf"


def test_a_material_that_is_not_offered_is_refused(world):
    client, tx = world
    response = upload(client, tx, png(), "x.png", material="随便写的材料")
    assert response.status_code == 400 and "请选择「材料名称」。" in response.content.decode()
    assert not live(tx)


# --- isolation ---------------------------------------------------------------------------------


def test_another_employer_finds_no_attachment_and_cannot_upload_or_remove(world, operator_client, office):
    client, tx = world
    upload(client, tx, png(), "mine.png")
    [attachment] = live(tx)
    stranger = operator_client(EmployerFactory(office=office))
    assert download(stranger, attachment).status_code == 404
    assert upload(stranger, tx, png(), "theirs.png").status_code == 404
    remove = reverse("web:attachment_remove", kwargs={"pk": tx.pk, "att": attachment.pk})
    assert stranger.post(remove).status_code == 404
    # Their own transaction does not open another's attachment either.
    theirs = saved_tx(stranger.employer, stranger.user)
    crossed = reverse("web:attachment_file", kwargs={"pk": theirs.pk, "att": attachment.pk})
    assert stranger.get(crossed).status_code == 404
    assert (
        stranger.post(reverse("web:attachment_remove", kwargs={"pk": theirs.pk, "att": attachment.pk})).status_code
        == 404
    )
    assert [a.name for a in live(tx)] == ["mine.png"]


def test_a_clerk_sees_the_scans_beside_the_data_and_another_district_finds_none(world, clerk_client, other_office):
    client, tx = world
    upload(client, tx, png(), "申请书.png")
    upload(client, tx, pdf(2), "合同.pdf", material=CHECKLIST)
    image, document = sorted(live(tx), key=lambda a: a.content_type, reverse=True)
    html = clerk_client.get(reverse("backoffice:detail", kwargs={"pk": tx.pk})).content.decode()
    one = reverse("backoffice:attachment", kwargs={"pk": tx.pk, "att": image.pk})
    other = reverse("backoffice:attachment", kwargs={"pk": tx.pk, "att": document.pk})
    assert f'src="{one}?preview=1"' in html and "申请书.png" in html and REQUIRED in html
    assert f'href="{other}" target="_blank"' in html and "（PDF，共 2 页）" in html
    preview = clerk_client.get(one, {"preview": "1"})
    assert preview.status_code == 200 and preview["Content-Type"] == "image/jpeg"
    shown = clerk_client.get(other)
    assert shown.status_code == 200 and shown["Content-Type"] == "application/pdf"
    assert (
        shown["Content-Disposition"].startswith("inline; ") and "default-src 'none'" in shown["Content-Security-Policy"]
    )
    from tests.conftest import make_login_client

    elsewhere = make_login_client(ClerkFactory(office=other_office))
    assert elsewhere.get(one).status_code == 404 and elsewhere.get(other, {"preview": "1"}).status_code == 404
    assert elsewhere.get(reverse("backoffice:detail", kwargs={"pk": tx.pk})).status_code == 404


# --- submit, editability, history ------------------------------------------------------------


def submit(client, tx):
    tx.refresh_from_db()
    return client.post(reverse("web:tx_action", kwargs={"pk": tx.pk}), {"action": "submit", "version": tx.version})


def test_a_transaction_a_clerk_reviews_cannot_be_submitted_without_its_required_material(world):
    client, tx = world
    upload(client, tx, png(), "身份证.png", material=CHECKLIST)  # not the required one
    tx.refresh_from_db()
    version = tx.version
    refused = submit(client, tx)
    body = refused.content.decode()
    assert refused.status_code == 400
    assert f"提交审批前请上传以下材料的扫描件：{REQUIRED}" in body
    tx.refresh_from_db()
    assert (tx.state, tx.version) == (State.SAVED, version)
    assert not Event.objects.filter(transaction=tx, action="submit").exists()
    assert upload(client, tx, pdf(1), "申请书.pdf").status_code == 302
    assert submit(client, tx).status_code == 302
    tx.refresh_from_db()
    assert tx.state == State.AUDITING


def test_a_vip_employer_submits_without_it_unless_the_type_sends_the_row_to_a_clerk(
    params, vip_employer, operator_client
):
    client = operator_client(vip_employer)
    plain = saved_tx(vip_employer, client.user)
    assert submit(client, plain).status_code == 302
    plain.refresh_from_db()
    assert plain.state == State.AUDITING
    special = saved_tx(vip_employer, client.user, special="1")
    refused = submit(client, special)
    assert refused.status_code == 400 and REQUIRED in refused.content.decode()
    special.refresh_from_db()
    assert special.state == State.SAVED


def test_an_upload_or_removal_after_submit_is_refused(world):
    client, tx = world
    upload(client, tx, png(), "申请书.png")
    [attachment] = live(tx)
    submit(client, tx)
    tx.refresh_from_db()
    assert tx.state == State.AUDITING
    html = page(client, tx)
    assert "申请书.png" in html and 'name="file"' not in html and "attachment_remove" not in html
    refused = upload(client, tx, png(), "late.png")
    assert refused.status_code == 400 and "只有未提交的业务可以上传或删除材料" in refused.content.decode()
    removal = client.post(reverse("web:attachment_remove", kwargs={"pk": tx.pk, "att": attachment.pk}))
    assert removal.status_code == 400
    assert [a.name for a in live(tx)] == ["申请书.png"]


def test_removal_hides_the_file_and_keeps_it_in_the_history(world):
    client, tx = world
    upload(client, tx, png(), "旧版.png")
    [attachment] = live(tx)
    removed = client.post(reverse("web:attachment_remove", kwargs={"pk": tx.pk, "att": attachment.pk}))
    assert removed.status_code == 302
    again = client.post(reverse("web:attachment_remove", kwargs={"pk": tx.pk, "att": attachment.pk}))
    assert again.status_code == 302  # a double click changes nothing more
    attachment.refresh_from_db()
    assert attachment.removed_at is not None and attachment.removed_by == client.user
    assert bytes(attachment.data)  # nothing is physically deleted
    assert download(client, attachment).status_code == 404
    html = page(client, tx)
    assert f"上传材料「旧版.png」（{REQUIRED}）" in html and f"删除材料「旧版.png」（{REQUIRED}）" in html
    assert 'data-attachment="' not in html
    events = list(Event.objects.filter(transaction=tx, action__in=("attach", "detach")).values_list("action", "actor"))
    assert events == [("attach", client.user.pk), ("detach", client.user.pk)]


def test_an_ordinary_employer_still_sees_the_office_and_is_told_the_clerk_may_approve_without_a_visit(world):
    client, tx = world
    upload(client, tx, png(), "申请书.png")
    submit(client, tx)
    tx.refresh_from_db()
    services.run_audit(tx.pk)
    tx.refresh_from_db()
    assert tx.state == State.REVIEW
    html = page(client, tx)
    assert tx.employer.office.address in html and "请携带以下材料到经办机构办理审核" in html
    assert "本业务已上传 1 个材料扫描件" in html and "不见面审批" in html


def test_without_scans_the_review_notice_says_nothing_of_a_visit_saved(params, office, operator_client):
    employer = EmployerFactory(office=office, is_vip=False)
    client = operator_client(employer)
    tx = saved_tx(employer, client.user)
    from shebao.workflow.models import Transaction

    Transaction.objects.filter(pk=tx.pk).update(state=State.REVIEW)
    html = page(client, tx)
    assert employer.office.address in html and "不见面审批" not in html


def test_the_operator_of_the_employer_is_shown_as_the_uploader(world):
    client, tx = world
    colleague = OperatorFactory(employer=tx.employer, first_name="李四")
    from tests.conftest import make_login_client

    upload(make_login_client(colleague, tx.employer), tx, png(), "x.png")
    assert "李四" in page(client, tx)
