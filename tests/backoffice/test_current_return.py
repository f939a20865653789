"""回退原因 is the reason of the current return, errors only; earlier returns live in the history.

An ordinary employer's single enrolment goes to a clerk; the clerk returns it; the employer
submits it again: from then on no page shows the old reason next to 进行中 or 结束.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from shebao.register.models import Relation, RelationStatus
from shebao.workflow import services
from shebao.workflow.models import State
from shebao.workflow.status import status_payload
from tests.factories import EmployerFactory, OperatorFactory, PersonFactory, make_resident_id
from tests.workflow.helpers import login

from .conftest import review_tx, saved_tx

pytestmark = pytest.mark.django_db

REASON = "劳动合同复印件不清晰，请重新提交"


def _task_row(client, serial: str) -> str:
    body = client.get("/home/").content.decode()
    return body.split(f'data-serial="{serial}"', 1)[1].split("</tr>", 1)[0]


def _tx_page(client, tx) -> str:
    return client.get(f"/tx/{tx.pk}/").content.decode()


def test_a_resubmitted_return_shows_no_old_reason_and_keeps_it_in_the_history(
    params, employer_a, operator_a, clerk_a, client_for
):
    tx = review_tx(employer_a, operator_a, 1)
    services.clerk_return(tx=tx, clerk=clerk_a, version=tx.version, reason=REASON)
    tx.refresh_from_db()
    employer = login(client_for(operator_a), operator_a, employer_a)
    assert REASON in _task_row(employer, tx.serial) and REASON in _tx_page(employer, tx)
    assert "已回退，请修改后重新提交" in _task_row(employer, tx.serial)  # 办理结果

    services.transaction_submit(tx=tx, actor=operator_a, version=tx.version)
    tx.refresh_from_db()
    # Auditing (进行中): the return is over.
    assert tx.return_reasons == [] and not tx.returned
    assert status_payload(tx)["reasons"] == []
    assert REASON not in _task_row(employer, tx.serial)
    page = _tx_page(employer, tx)
    assert 'id="reasons-box" hidden' in page
    # …but the history still says who returned it, and why.
    history = page.split('data-testid="history"', 1)[1]
    assert REASON in history

    assert services.run_audit(tx.pk) == "review"
    tx.refresh_from_db()
    services.clerk_approve(tx=tx, clerk=clerk_a, version=tx.version)
    tx.refresh_from_db()
    assert tx.state == State.FINISHED
    row = _task_row(employer, tx.serial)
    assert "结束" in row and REASON not in row
    assert "办结，已生效" in row  # 办理结果: 业务状态 stays 已提交, this column says how it ended
    clerk_page = client_for(clerk_a).get(reverse("backoffice:detail", args=[tx.pk])).content.decode()
    head = clerk_page.split('data-testid="history"', 1)[0]
    assert REASON not in head  # no 回退原因 on a finished transaction
    assert REASON in clerk_page.split('data-testid="history"', 1)[1]


def test_a_warning_is_shown_apart_never_as_a_return_reason(params, client):
    # A wage below the floor (按下限核定) and a card without a photo: one error, one warning.
    employer = EmployerFactory(is_vip=True)
    user = OperatorFactory(employer=employer)
    tx = saved_tx(employer, user, 3, wage="3000", make_card="是")
    services.transaction_submit(tx=tx, actor=user, version=tx.version)
    assert services.run_audit(tx.pk) == "returned"
    tx.refresh_from_db()
    assert [r["code"] for r in tx.return_reasons] == ["PHOTO_REQUIRED"]
    payload = status_payload(tx)
    assert payload["reason_codes"] == ["PHOTO_REQUIRED"]
    assert any("4498" in w for w in payload["warnings"])

    client = login(client, user, employer)
    row = _task_row(client, tx.serial)
    assert "照片" in row and "4498" not in row
    page = _tx_page(client, tx)
    reasons = page.split('data-testid="reasons"', 1)[1].split("</ul>", 1)[0]
    warnings = page.split('data-testid="warnings"', 1)[1].split("</ul>", 1)[0]
    assert "照片" in reasons and "4498" not in reasons
    assert "4498" in warnings and ">WAGE_BELOW_FLOOR</small>" in warnings


def test_one_message_names_every_insurance_type_a_person_already_pays_here(params, employer_a, operator_a):
    number = make_resident_id(serial=7)
    person = PersonFactory(id_number=number, name="张三")
    for itype in ("pension", "medical", "unemployment", "injury", "maternity"):
        Relation.objects.create(
            person=person,
            employer=employer_a,
            insurance_type=itype,
            status=RelationStatus.CONTRIBUTING,
            start_month=dt.date(timezone.localdate().year - 1, 1, 1),
        )
    employer_a.is_vip = True
    employer_a.save()
    tx = saved_tx(employer_a, operator_a, 7)
    services.transaction_submit(tx=tx, actor=operator_a, version=tx.version)
    assert services.run_audit(tx.pk) == "returned"
    tx.refresh_from_db()
    here = [r for r in tx.return_reasons if r["code"] == "ALREADY_CONTRIBUTING_HERE"]
    assert len(here) == 1
    assert "已在本单位参加养老、医疗、失业、工伤、生育并正常缴费" in status_payload(tx)["reasons"][0]


def test_the_history_says_a_batch_finished_with_failures():
    from shebao.workflow.services import event_counts, event_label

    assert event_label("audit_passed", {"applied": 2, "failed": 2}) == "自动审核结束（部分人员审核失败）"
    assert event_label("audit_passed", {"applied": 4, "failed": 0}) == "自动审核通过"
    assert event_counts({"applied": 2, "failed": 2}) == "生效 2 人，审核失败 2 人"
    assert event_counts({"reasons": []}) == ""
