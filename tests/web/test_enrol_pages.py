import datetime as dt
import io

import pytest
from PIL import Image

from shebao.workflow import services
from shebao.workflow.models import State, Transaction
from tests.factories import EmployerFactory, OperatorFactory, make_resident_id, seed_params
from tests.workflow.helpers import enrol_raw, login

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _params():
    seed_params()


@pytest.fixture
def vip(client):
    employer = EmployerFactory(is_vip=True)
    user = OperatorFactory(employer=employer)
    login(client, user, employer)
    return employer, user


def _form(raw: dict) -> dict:
    data = dict(raw)
    data["insurance_types"] = []
    return data


def test_single_enrolment_save_submit_finish(client, vip):
    employer, user = vip
    pid = make_resident_id(dt.date(1990, 1, 1))
    response = client.post("/business/enrol/single/", _form(enrol_raw(pid)))
    assert response.status_code == 302
    tx = Transaction.objects.get(employer=employer)
    home = client.get("/home/").content.decode()
    assert tx.serial in home and "未提交" in home and "待办任务列表" in home
    page = client.get(f"/tx/{tx.pk}/").content.decode()
    assert "提交审批" in page and "退单" in page
    response = client.post(f"/tx/{tx.pk}/action/", {"action": "submit", "version": tx.version})
    assert response.status_code == 302
    status = client.get(f"/tx/{tx.pk}/status/").json()
    assert status["approval"] == "进行中" and status["final"] is False
    services.run_audit(tx.pk)
    status = client.get(f"/tx/{tx.pk}/status/").json()
    assert status["approval"] == "结束" and status["final"] is True
    persons = client.get("/persons/").content.decode()
    assert pid in persons


def test_save_with_errors_keeps_input_and_names_field(client, vip):
    raw = enrol_raw("42010219900101123X", name="李四")
    response = client.post("/business/enrol/single/", _form(raw))
    assert response.status_code == 422
    body = response.content.decode()
    assert "ID_CHECKSUM" in body and "李四" in body
    assert not Transaction.objects.exists()


def test_other_employers_transaction_is_404(client, vip):
    other = EmployerFactory(is_vip=True)
    other_user = OperatorFactory(employer=other)
    result = services.transaction_save_single(
        employer=other, actor=other_user, business_type="enrol", raw=enrol_raw(make_resident_id(dt.date(1993, 3, 3)))
    )
    pk = result.transaction.pk
    for url in (f"/tx/{pk}/", f"/tx/{pk}/status/", f"/tx/{pk}/photo/"):
        assert client.get(url).status_code == 404
    assert client.post(f"/tx/{pk}/action/", {"action": "cancel", "version": 1}).status_code == 404


def _png(w=400, h=500) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (w, h), (200, 180, 160)).save(out, "PNG")
    return out.getvalue()


def test_photo_upload_reencodes(client, vip):
    employer, user = vip
    client.post("/business/enrol/single/", _form(enrol_raw(make_resident_id(dt.date(1990, 2, 2)), make_card="是")))
    tx = Transaction.objects.get()
    upload = io.BytesIO(_png())
    upload.name = "me.png"
    response = client.post(f"/tx/{tx.pk}/photo/", {"photo": upload, "version": tx.version})
    assert response.status_code == 302
    photo = client.get(f"/tx/{tx.pk}/photo/")
    image = Image.open(io.BytesIO(photo.content))
    assert image.format == "JPEG" and image.size == (358, 441) and len(photo.content) <= 60 * 1024


def test_fake_image_refused(client, vip):
    client.post("/business/enrol/single/", _form(enrol_raw(make_resident_id(dt.date(1990, 2, 3)))))
    tx = Transaction.objects.get()
    upload = io.BytesIO(b"MZ\x90\x00" + b"\x00" * 2000)
    upload.name = "photo.jpg"
    response = client.post(f"/tx/{tx.pk}/photo/", {"photo": upload, "version": tx.version})
    assert response.status_code == 400
    assert "JPEG" in response.content.decode()


def test_finished_transaction_cannot_be_changed(client, vip):
    employer, user = vip
    pid = make_resident_id(dt.date(1990, 2, 4))
    client.post("/business/enrol/single/", _form(enrol_raw(pid)))
    tx = Transaction.objects.get()
    services.transaction_submit(tx=tx, actor=user, version=tx.version)
    services.run_audit(tx.pk)
    tx.refresh_from_db()
    assert tx.state == State.FINISHED
    for action in ("save", "cancel", "submit", "withdraw"):
        data = _form(enrol_raw(pid, name="王五"))
        data.update(action=action, version=tx.version)
        response = client.post(f"/tx/{tx.pk}/action/", data)
        assert response.status_code in (400, 409)
    tx.refresh_from_db()
    assert tx.state == State.FINISHED and tx.items.get().name == "张三"


def test_a_superscript_digit_in_a_code_field_is_a_field_error_not_a_crash(client, vip):
    """ "¹" passes str.isdigit() but int() refuses it: the form must still answer with the field's error."""
    raw = enrol_raw(make_resident_id(dt.date(1990, 1, 1)), id_type="¹")
    response = client.post("/business/enrol/single/", _form(raw))
    assert response.status_code == 422
    assert not Transaction.objects.exists()


def test_a_double_clicked_submit_arriving_after_the_audit_shows_the_result(client, vip):
    employer, user = vip
    result = services.transaction_save_single(
        employer=employer, actor=user, business_type="enrol", raw=enrol_raw(make_resident_id(dt.date(1991, 2, 3)))
    )
    tx = result.transaction
    seen = tx.version
    assert client.post(f"/tx/{tx.pk}/action/", {"action": "submit", "version": seen}).status_code == 302
    assert services.run_audit(tx.pk) == "finished"
    tx.refresh_from_db()
    assert tx.version > seen + 1  # the audit moved it on
    second = client.post(f"/tx/{tx.pk}/action/", {"action": "submit", "version": seen})
    assert second.status_code == 302 and second["Location"] == f"/tx/{tx.pk}/"
    page = client.get(second["Location"]).content.decode()
    assert "结束" in page and "该业务已于" not in page
    tx.refresh_from_db()
    assert tx.state == State.FINISHED and tx.events.filter(action="submit").count() == 1


def test_a_submit_of_a_version_someone_else_changed_is_a_conflict(client, vip):
    employer, user = vip
    colleague = OperatorFactory(employer=employer)
    raw = enrol_raw(make_resident_id(dt.date(1991, 2, 4)))
    tx = services.transaction_save_single(employer=employer, actor=user, business_type="enrol", raw=raw).transaction
    seen = tx.version
    # A colleague saves and submits meanwhile, and the audit finishes.
    services.transaction_save_single(
        employer=employer,
        actor=colleague,
        business_type="enrol",
        raw={**raw, "phone": "13900000000"},
        tx=tx,
        version=seen,
    )
    tx.refresh_from_db()
    services.transaction_submit(tx=tx, actor=colleague, version=tx.version)
    services.run_audit(tx.pk)
    response = client.post(f"/tx/{tx.pk}/action/", {"action": "submit", "version": seen})
    assert response.status_code == 409
    assert "该业务已于" in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        {"from": "0001-01-01", "to": "9999-12-31"},
        {"to": "9999-12-31"},
        {"from": "0001-01-01"},
        {"from": "1899-12-31"},
        {"to": "2025-02-30"},
        {"from": "昨天"},
    ],
)
def test_a_task_list_date_the_lists_cannot_hold_is_refused_with_a_message(client, vip, query):
    response = client.get("/home/", query)
    assert response.status_code == 400
    body = response.content.decode()
    assert "应为 1900-01-01 至 2200-12-31 之间的日期" in body
    assert "待办任务列表" not in body


def test_the_date_message_is_in_the_pages_language(client, vip):
    client.cookies["django_language"] = "en"
    response = client.get("/home/", {"from": "0001-01-01", "to": "9999-12-31"})
    assert response.status_code == 400
    assert "between 1900-01-01 and 2200-12-31" in response.content.decode()


def test_task_lists_filtered_by_dates_at_the_ends_of_the_range(client, vip):
    employer, user = vip
    tx = services.transaction_save_single(
        employer=employer, actor=user, business_type="enrol", raw=enrol_raw(make_resident_id(dt.date(1991, 2, 5)))
    ).transaction
    shown = client.get("/home/", {"from": "1900-01-01", "to": "2200-12-31"})
    assert shown.status_code == 200 and tx.serial in shown.content.decode()
    hidden = client.get("/home/", {"from": "2200-12-31"})
    assert hidden.status_code == 200 and tx.serial not in hidden.content.decode()


def test_the_back_payment_preview_answers_the_live_check_and_shows_on_the_saved_transaction(client, vip):
    """The preview the enrolment type declares: its rows while typing and on the saved page."""
    pid = make_resident_id(dt.date(1990, 1, 1))
    raw = _form({**enrol_raw(pid), "start_month": "2026-06", "backpay_from": "2026-03", "backpay_base": "5000"})
    payload = client.post("/business/enrol/check/", raw).json()
    table = payload["previews"]["backpay"]
    # March to May, four types each: work injury is not paid back.
    assert [(row["month"], row["base"]) for row in table["rows"][::4]] == [
        ("2026-03", "5000.00"),
        ("2026-04", "5000.00"),
        ("2026-05", "5000.00"),
    ]
    assert len(table["rows"]) == 12 and "工伤" not in {row["insurance"] for row in table["rows"]}
    assert float(table["totals"]["employer"]) > 0 and "surcharge" in table["notes"]
    assert client.post("/business/enrol/single/", raw).status_code == 302
    page = client.get(f"/tx/{Transaction.objects.get().pk}/").content.decode()
    assert 'id="backpay-preview"' in page and page.count("<td>2026-04</td>") == 4
    assert f'data-total="employer">{table["totals"]["employer"]}<' in page


@pytest.mark.parametrize("code", ["enrol", "suspend"])
def test_the_form_gives_form_help_and_the_template_spreadsheet_help(client, vip, code):
    import openpyxl

    form = client.get(f"/business/{code}/single/").content.decode()
    for spreadsheet_advice in ("设为文本格式", "用顿号分隔", "填写代码或名称", "格式 2025-03"):
        assert spreadsheet_advice not in form
    assert "18 位居民身份证号码，末位 X 大写" in form
    template = client.get(f"/batch/template/{code}/")
    book = openpyxl.load_workbook(io.BytesIO(template.content))
    guide = " ".join(str(c) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for c in row if c)
    assert "请将该列设为文本格式" in guide and "用顿号分隔" in guide


def test_the_live_check_fills_sex_and_birth_date_from_a_resident_id(client, vip):
    pid = make_resident_id(dt.date(1990, 3, 7), "2")
    payload = client.post("/business/enrol/check/", {"id_type": "01", "id_number": pid, "_touched": "id_number"}).json()
    assert payload["fill"] == {"sex": "2", "birth_date": "1990-03-07"}
    wrong = client.post("/business/enrol/check/", {"id_type": "01", "id_number": pid[:-1] + "0"}).json()
    assert wrong["fill"] == {}


def test_a_reversed_date_range_is_refused_with_a_message(client, vip):
    response = client.get("/home/", {"from": "2026-06-10", "to": "2026-06-01"})
    assert response.status_code == 400
    assert "「起始日期」2026-06-10 晚于「截止日期」2026-06-01" in response.content.decode()


def test_task_lists_found_by_a_persons_name_or_id_number(client, vip):
    employer, user = vip
    first, second = make_resident_id(dt.date(1991, 2, 5)), make_resident_id(dt.date(1992, 3, 6))
    txs = [
        services.transaction_save_single(
            employer=employer, actor=user, business_type="enrol", raw={**enrol_raw(pid), "name": name}
        ).transaction
        for pid, name in ((first, "周一"), (second, "吴二"))
    ]
    by_name = client.get("/home/", {"person": "周一"}).content.decode()
    assert txs[0].serial in by_name and txs[1].serial not in by_name
    by_id = client.get("/home/", {"person": second.lower()}).content.decode()
    assert txs[1].serial in by_id and txs[0].serial not in by_id
    assert 'value="周一"' in client.get("/home/", {"person": "周一"}).content.decode()
