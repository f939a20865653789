"""Bidi and control characters in free text: refused where a person types the text, dropped
from an uploaded file's name, so that nothing reads differently from what it holds."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from shebao.batch.models import Upload
from shebao.workflow import services
from shebao.workflow.models import Event, Item, State, Transaction
from shebao.workflow.rules import messages as issue_messages
from tests.batch.conftest import enrol_row, upload, xlsx_bytes
from tests.factories import make_resident_id
from tests.security.conftest import logged_in
from tests.workflow.helpers import enrol_raw

pytestmark = pytest.mark.django_db

BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u200f"]
CONTROLS = ["\x01", "\x1b", "\x7f", "\x85", "\x9b"]


def check(raw: dict):
    from shebao.params.services import ParamSnapshot
    from shebao.workflow import registry

    return registry.get("enrol").check_row(raw, ParamSnapshot.load())


# --- text fields of a business type ---------------------------------------------------------


@pytest.mark.parametrize("char", BIDI + CONTROLS)
def test_address_with_a_hidden_character_is_refused_naming_the_field(world, char):
    result = check(enrol_raw(make_resident_id(dt.date(1991, 2, 3)), address=f"武汉市江岸区{char}沿江大道1号"))
    codes = [(i.code, i.field) for i in result.issues]
    assert ("TEXT_CONTROL_CHARS", "address") in codes
    [issue] = [i for i in result.issues if i.code == "TEXT_CONTROL_CHARS"]
    assert issue.message("zh-hans") == (
        f"「联系地址」含有不可见的控制字符 U+{ord(char):04X}（常见于复制粘贴的文字，如文字方向控制符），"
        "请删除该字符后重新填写。"
    )
    assert issue.message("en").startswith(f"Address contains the invisible control character U+{ord(char):04X}")


def test_line_breaks_in_an_address_cell_read_as_one_space(world):
    result = check(enrol_raw(make_resident_id(dt.date(1991, 2, 3)), address="武汉市江岸区\r\n沿江大道\t1号"))
    assert not result.issues
    assert result.data["address"] == "武汉市江岸区 沿江大道 1号"


def test_single_form_refuses_an_address_with_a_direction_override(world):
    client = logged_in(world.operator, world.employer)
    raw = enrol_raw(make_resident_id(dt.date(1991, 2, 3)), address="沿江大道\u202e号1")
    raw["insurance_types"] = []
    before = Transaction.objects.count()
    response = client.post("/business/enrol/single/", raw)
    body = response.content.decode()
    assert "「联系地址」含有不可见的控制字符 U+202E" in body
    assert Transaction.objects.count() == before


def test_batch_row_with_a_hidden_character_fails_alone(world):
    client = logged_in(world.operator, world.employer)
    rows = [enrol_row(联系地址="沿江大道\u20661号"), enrol_row()]
    response = upload(client, xlsx_bytes(rows))
    assert response.status_code == 302, response.content.decode()[:2000]
    tx = Transaction.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))
    from shebao.batch.jobs import import_job

    import_job(tx.pk)
    failed, imported = Item.objects.filter(transaction=tx).order_by("row_no")
    assert [i["code"] for i in failed.import_issues] == ["TEXT_CONTROL_CHARS"]
    assert not imported.import_issues


# --- reasons typed by clerks ----------------------------------------------------------------


@pytest.mark.parametrize("char", ["\u202e", "\u2067", "\x1b", "\x85"])
def test_return_reason_with_a_hidden_character_is_refused(world, char):
    tx = world.review
    client = logged_in(world.clerk)
    response = client.post(
        reverse("backoffice:return", args=[tx.pk]), {"version": tx.version, "reason": f"材料{char}不全"}
    )
    assert response.status_code == 400
    assert f"「回退原因」含有不可见的控制字符 U+{ord(char):04X}" in response.content.decode()
    tx.refresh_from_db()
    assert tx.state == State.REVIEW and not tx.return_reasons


def test_return_reason_may_have_several_lines(world):
    tx = world.review
    response = logged_in(world.clerk).post(
        reverse("backoffice:return", args=[tx.pk]), {"version": tx.version, "reason": "1. 材料不全\r\n2.\t照片不清晰"}
    )
    assert response.status_code == 302
    tx.refresh_from_db()
    assert tx.state == State.RETURNED
    assert any("照片不清晰" in r for r in issue_messages(tx.return_reasons))


def test_mark_failed_reason_with_a_direction_override_is_refused(world):
    tx = world.review
    item = Item.objects.get(transaction=tx)
    response = logged_in(world.clerk).post(
        reverse("backoffice:mark_failed", args=[tx.pk]), {"item": item.pk, "reason": "证件\u202e不清", "result": "all"}
    )
    assert response.status_code == 400
    assert "「失败原因」含有不可见的控制字符 U+202E" in response.content.decode()
    item.refresh_from_db()
    assert not item.clerk_reason
    assert not Event.objects.filter(transaction=tx, action="mark_failed").exists()


def test_agency_cancel_reason_with_a_control_character_is_refused(world):
    tx = world.saved
    response = logged_in(world.clerk).post(
        reverse("backoffice:cancel", args=[tx.pk]), {"version": tx.version, "reason": "超期\x07未提交"}
    )
    assert response.status_code == 400
    assert "「退单原因」含有不可见的控制字符 U+0007" in response.content.decode()
    tx.refresh_from_db()
    assert tx.state == State.SAVED


def test_services_refuse_hidden_characters_for_every_caller(world):
    from shebao.core.errors import ApplicationError

    with pytest.raises(ApplicationError) as refused:
        services.clerk_return(tx=world.review, clerk=world.clerk, version=world.review.version, reason="a\u2069b")
    assert refused.value.code == "TEXT_CONTROL_CHARS"


# --- names of uploaded files ----------------------------------------------------------------


def test_batch_upload_stores_a_file_name_without_direction_or_control_characters(world):
    """Whoever hands the service a file name (the upload page's multipart parser already drops
    non-printable characters; the service does not rely on it)."""
    from shebao.batch.services import batch_upload

    tx = batch_upload(
        employer=world.employer,
        actor=world.operator,
        business_type="enrol",
        filename="增员名单\u202exslx.exe\u2069\x85.xlsx",
        data=xlsx_bytes([enrol_row()]),
    )
    assert Upload.objects.get(transaction=tx).filename == "增员名单xslx.exe.xlsx"
    assert Event.objects.get(transaction=tx, action="create").detail["filename"] == "增员名单xslx.exe.xlsx"


def test_uploaded_file_name_is_stored_and_shown_without_direction_controls(world):
    client = logged_in(world.operator, world.employer)
    response = upload(client, xlsx_bytes([enrol_row()]), filename="增员名单\u202exslx.exe\x07.xlsx")
    assert response.status_code == 302, response.content.decode()[:2000]
    stored = Upload.objects.get()
    assert stored.filename == "增员名单xslx.exe.xlsx"
    event = Event.objects.get(transaction=stored.transaction, action="create")
    assert event.detail["filename"] == "增员名单xslx.exe.xlsx"
    page = client.get(response["Location"]).content.decode()
    assert "增员名单xslx.exe.xlsx" in page and "\u202e" not in page
