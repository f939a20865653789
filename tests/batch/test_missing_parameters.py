"""A missing rate or base limit is a rule's answer on every page, never an HTTP 500: the form,
its live check and back-payment preview, the batch import and its failure list, the audit
and its result, a suspension (DOMAIN §7)."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest
from django.urls import reverse

from shebao.params.models import BaseLimit, InjuryRate, Rate
from shebao.workflow import services as engine
from shebao.workflow.models import State, Transaction
from tests.batch.conftest import BIRTH, enrol_row, upload_and_import, xlsx_bytes
from tests.factories import make_resident_id

pytestmark = pytest.mark.django_db

FORM = {
    "id_type": "01",
    "name": "张三",
    "hukou": "urban",
    "identity": "worker",
    "employment_form": "contract",
    "first_work_date": "2012-07-01",
    "start_month": "2026-06",
    "wage": "6500",
    "phone": "13800000000",
    "make_card": "0",
}


def _no_rates():
    Rate.objects.all().delete()
    InjuryRate.objects.all().delete()


def _messages(payload: dict) -> set[str]:
    return {issue["code"] for issues in payload["fields"].values() for issue in issues}


@pytest.mark.parametrize(
    "remove, code", [(_no_rates, "NO_RATE"), (lambda: BaseLimit.objects.all().delete(), "NO_BASE_LIMITS")]
)
def test_form_live_check_and_preview_answer_with_the_rule(vip_client, remove, code):
    remove()
    pid = make_resident_id(BIRTH)
    check = vip_client.post(
        reverse("web:check_fields", kwargs={"code": "enrol"}),
        {**FORM, "id_number": pid, "backpay_from": "2026-01", "backpay_base": "5000", "start_month": "2026-05"},
    )
    assert check.status_code == 200
    payload = json.loads(check.content)
    assert code in _messages(payload)
    # Nothing can be computed: without a rate the preview has no row, without limits the
    # back-payment fields have an error and the preview is not offered; the page answers.
    if code == "NO_RATE":
        assert payload["previews"]["backpay"]["rows"] == []
    else:
        assert payload["previews"] == {}
    saved = vip_client.post(reverse("web:single_new", kwargs={"code": "enrol"}), {**FORM, "id_number": pid})
    assert saved.status_code == 422
    assert code in saved.content.decode()
    assert not Transaction.objects.exists()


def test_batch_rows_without_a_rate_fail_with_no_rate_and_the_failure_list_downloads(vip_client):
    Rate.objects.filter(insurance_type="medical").delete()
    rows = [enrol_row(make_resident_id(BIRTH)), enrol_row(make_resident_id(BIRTH), 参保险种="养老、工伤")]
    tx = upload_and_import(vip_client, xlsx_bytes(rows))
    assert (tx.total_count, tx.import_failed_count) == (2, 1)
    response = vip_client.get(reverse("batch:failures", kwargs={"pk": tx.pk, "kind": "import"}))
    assert response.status_code == 200
    content = b"".join(response.streaming_content) if response.streaming else response.content
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert len(rows) == 2 and rows[1][-2] == "NO_RATE"
    assert "医疗费率尚未设置" in rows[1][-1]
    # The row that passed is audited and applied.
    vip_client.post(reverse("batch:action", kwargs={"pk": tx.pk}), {"action": "submit", "version": tx.version})
    engine.run_audit(tx.pk)
    tx.refresh_from_db()
    assert tx.state == State.FINISHED and tx.applied_count == 1


def test_suspension_needs_no_rate_or_limit(vip_client, vip_employer):
    """Enrol, then remove every parameter row no line refers to: the suspension still works."""
    pid = make_resident_id(BIRTH)
    saved = vip_client.post(reverse("web:single_new", kwargs={"code": "enrol"}), {**FORM, "id_number": pid})
    assert saved.status_code == 302
    tx = Transaction.objects.get()
    vip_client.post(reverse("web:tx_action", kwargs={"pk": tx.pk}), {"action": "submit", "version": tx.version})
    engine.run_audit(tx.pk)
    BaseLimit.objects.exclude(year=2026).delete()
    InjuryRate.objects.exclude(risk_class=vip_employer.risk_class).delete()
    response = vip_client.post(
        reverse("web:single_new", kwargs={"code": "suspend"}),
        {"id_type": "01", "id_number": pid, "name": "张三", "stop_month": "2026-07", "reason": "01"},
    )
    assert response.status_code == 302
    stop = Transaction.objects.get(business_type="suspend")
    vip_client.post(reverse("web:tx_action", kwargs={"pk": stop.pk}), {"action": "submit", "version": stop.version})
    assert engine.run_audit(stop.pk) == "finished"
    assert vip_client.get(reverse("web:tx_detail", kwargs={"pk": tx.pk})).status_code == 200
