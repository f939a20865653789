"""The clerk's review: queue, detail, approve, return, conflicts, separation of duties, cancel."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from shebao.core.identity import id_key
from shebao.params.services import ParamSnapshot
from shebao.register.models import ContributionBase, ContributionLine, Relation, RelationStatus
from shebao.workflow import registry, services
from shebao.workflow.models import AuditStatus, Item, ItemStatus, Mode, PersonLock, State, Transaction
from shebao.workflow.rules import messages as issue_messages
from tests.factories import EmployerFactory, ItemFactory, MembershipFactory, TransactionFactory, make_resident_id

from .conftest import enrol_raw, review_tx, saved_tx

pytestmark = pytest.mark.django_db

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64 + b"\xff\xd9"


def text(response) -> str:
    return response.content.decode()


def listed(response) -> str:
    """The rows of the queue table only (the search box echoes what was typed)."""
    body = text(response)
    return body.split('data-testid="queue"', 1)[1].split("</table>", 1)[0]


# --- queue --------------------------------------------------------------------------------


def test_queue_lists_only_the_clerks_district(
    params, employer_a, employer_b, operator_a, operator_b, clerk_a, client_for
):
    mine = review_tx(employer_a, operator_a, 1)
    theirs = review_tx(employer_b, operator_b, 2)
    page = client_for(clerk_a).get(reverse("backoffice:queue"))
    assert page.status_code == 200
    body = text(page)
    assert mine.serial in body
    assert theirs.serial not in body
    assert "增员(续保)" in body and employer_a.number in body
    assert "autofocus" in body  # the serial box takes a barcode scanner's input


def test_queue_search_by_serial_opens_the_transaction(params, employer_a, operator_a, clerk_a, clerk_b, client_for):
    tx = review_tx(employer_a, operator_a, 1)
    review_tx(employer_a, operator_a, 2)
    client = client_for(clerk_a)
    response = client.get(reverse("backoffice:queue"), {"serial": f" {tx.serial} "})
    assert response.status_code == 302
    assert response["Location"] == reverse("backoffice:detail", args=[tx.pk])
    # A serial of another district finds nothing.
    other = client_for(clerk_b).get(reverse("backoffice:queue"), {"serial": tx.serial})
    assert other.status_code == 200 and tx.serial not in listed(other)
    # Search by employer number filters the list.
    assert tx.serial not in listed(client.get(reverse("backoffice:queue"), {"employer": "999999"}))
    assert tx.serial in listed(client.get(reverse("backoffice:queue"), {"employer": employer_a.number}))


def test_queue_rejects_nonsense_filters_without_error(params, clerk_a, client_for):
    client = client_for(clerk_a)
    for query in (
        {"page": "x"},
        {"page": "-5"},
        {"days": "abc", "tab": "stale"},
        {"tab": "<script>"},
        {"serial": "x" * 500},
    ):
        assert client.get(reverse("backoffice:queue"), query).status_code == 200


def test_queue_uses_a_constant_number_of_queries(params, office_a, operator_a, employer_a, clerk_a, client_for):
    client = client_for(clerk_a)
    review_tx(employer_a, operator_a, 1)
    client.get(reverse("backoffice:queue"))  # warm up (session, content types)
    with CaptureQueriesContext(connection) as one:
        assert client.get(reverse("backoffice:queue")).status_code == 200
    for n in range(2, 8):
        employer = EmployerFactory(office=office_a, number=f"10010{n}")
        MembershipFactory(user=operator_a, employer=employer)
        review_tx(employer, operator_a, n)
    with CaptureQueriesContext(connection) as many:
        body = text(client.get(reverse("backoffice:queue")))
    assert body.count("backoffice/tx/") >= 7
    assert len(many) == len(one)


def test_non_clerks_cannot_open_the_backoffice(params, operator_a, client_for, client):
    assert client_for(operator_a).get(reverse("backoffice:queue")).status_code == 404
    anonymous = client.get(reverse("backoffice:queue"))
    assert anonymous.status_code == 302 and reverse("accounts:login") in anonymous["Location"]


# --- detail and isolation -------------------------------------------------------------------


def test_detail_shows_data_warnings_photo_and_history(params, employer_a, operator_a, clerk_a, client_for):
    tx = review_tx(employer_a, operator_a, 1, wage="3000")
    Item.objects.filter(transaction=tx).update(photo=JPEG)
    page = client_for(clerk_a).get(reverse("backoffice:detail", args=[tx.pk]))
    assert page.status_code == 200
    body = text(page)
    for label in ("证件号码", "姓名", "户口性质", "参保起始年月", "申报月工资", "参保险种"):
        assert label in body
    assert make_resident_id(serial=1) in body and "张三" in body
    assert "城镇" in body and "劳动合同" in body and "养老、医疗、失业、工伤、生育" in body
    assert "普通单位" in body
    # The wage below the floor is a warning the clerk may accept.
    # Shown once, by its message; the code is beside it, small, for a support call.
    assert body.count('rule-code" title="错误代码（咨询时可提供）">WAGE_BELOW_FLOOR<') == 1 and "4498" in body
    assert "[WAGE_BELOW_FLOOR]" not in body
    assert reverse("backoffice:photo", args=[tx.pk]) in body
    # History: saved, submitted, sent to review, with their labels and states.
    assert "保存" in body and "提交审批" in body and "转经办机构审核" in body
    assert "待经办机构审核" in body
    assert f'name="version" value="{tx.version}"' in body
    photo = client_for(clerk_a).get(reverse("backoffice:photo", args=[tx.pk]))
    assert photo.status_code == 200 and photo["Content-Type"] == "image/jpeg"
    assert photo.content == JPEG


def test_another_districts_clerk_gets_404_everywhere(params, employer_a, operator_a, clerk_b, client_for):
    tx = review_tx(employer_a, operator_a, 1)
    Item.objects.filter(transaction=tx).update(photo=JPEG)
    client = client_for(clerk_b)
    assert client.get(reverse("backoffice:detail", args=[tx.pk])).status_code == 404
    assert client.get(reverse("backoffice:photo", args=[tx.pk])).status_code == 404
    for name, data in (
        ("approve", {"version": tx.version}),
        ("return", {"version": tx.version, "reason": "x"}),
        ("cancel", {"version": tx.version, "reason": "x"}),
        ("mark_failed", {"item": 1, "reason": "x"}),
    ):
        assert client.post(reverse(f"backoffice:{name}", args=[tx.pk]), data).status_code == 404
    tx.refresh_from_db()
    assert tx.state == State.REVIEW


def test_unknown_ids_are_404(params, clerk_a, client_for):
    client = client_for(clerk_a)
    assert client.get(reverse("backoffice:detail", args=[999999])).status_code == 404
    assert client.get(reverse("backoffice:photo", args=[999999])).status_code == 404


# --- approve --------------------------------------------------------------------------------


def test_approve_finishes_and_applies_the_register_effect(params, employer_a, operator_a, clerk_a, client_for):
    tx = review_tx(employer_a, operator_a, 1, wage="3000")
    response = client_for(clerk_a).post(reverse("backoffice:approve", args=[tx.pk]), {"version": tx.version})
    assert response.status_code == 302
    tx.refresh_from_db()
    assert tx.state == State.FINISHED and tx.applied_count == 1
    key = id_key("01", make_resident_id(serial=1))
    relations = Relation.objects.filter(person__id_key=key, employer=employer_a, status=RelationStatus.CONTRIBUTING)
    assert relations.count() == 5
    bases = ContributionBase.objects.filter(person__id_key=key)
    assert bases.count() == 5 and {b.base for b in bases} == {4498}  # one per type, clamped to the floor
    assert ContributionLine.objects.filter(person__id_key=key, transaction=tx).exists()
    assert not PersonLock.objects.filter(transaction=tx).exists()
    event = tx.events.order_by("-id").first()
    assert event.action == "approve" and event.actor == clerk_a
    # Approving again (a double click) changes nothing and says so.
    again = client_for(clerk_a).post(reverse("backoffice:approve", args=[tx.pk]), {"version": tx.version - 1})
    assert again.status_code == 409
    assert Relation.objects.filter(person__id_key=key).count() == 5


def test_approve_without_version_is_refused(params, employer_a, operator_a, clerk_a, client_for):
    tx = review_tx(employer_a, operator_a, 1)
    response = client_for(clerk_a).post(reverse("backoffice:approve", args=[tx.pk]), {"version": "abc"})
    assert response.status_code == 400
    assert "页面已过期" in text(response)
    tx.refresh_from_db()
    assert tx.state == State.REVIEW


def test_get_on_an_action_url_is_not_allowed(params, employer_a, operator_a, clerk_a, client_for):
    tx = review_tx(employer_a, operator_a, 1)
    assert client_for(clerk_a).get(reverse("backoffice:approve", args=[tx.pk])).status_code == 405


# --- return ---------------------------------------------------------------------------------


def test_return_requires_a_reason(params, employer_a, operator_a, clerk_a, client_for):
    tx = review_tx(employer_a, operator_a, 1)
    client = client_for(clerk_a)
    refused = client.post(reverse("backoffice:return", args=[tx.pk]), {"version": tx.version, "reason": "   "})
    assert refused.status_code == 400
    assert "请填写回退原因" in text(refused)
    tx.refresh_from_db()
    assert tx.state == State.REVIEW

    done = client.post(
        reverse("backoffice:return", args=[tx.pk]), {"version": tx.version, "reason": "劳动合同复印件缺失"}
    )
    assert done.status_code == 302
    tx.refresh_from_db()
    assert tx.state == State.RETURNED and tx.returned is True
    assert tx.returned_flag_label == "是"
    reasons = issue_messages(tx.return_reasons)
    assert any("劳动合同复印件缺失" in r for r in reasons)
    # The employer can fix it and submit again: it is editable, and the lock is still held.
    assert tx.is_editable and PersonLock.objects.filter(transaction=tx).exists()


# --- two clerks -----------------------------------------------------------------------------


def test_second_clerk_with_old_version_gets_409_naming_the_first(
    params, employer_a, operator_a, clerk_a, clerk_a2, client_for
):
    tx = review_tx(employer_a, operator_a, 1)
    shown = tx.version
    first, second = client_for(clerk_a), client_for(clerk_a2)
    # Both clerks have the page open with the same version.
    assert f'value="{shown}"' in text(second.get(reverse("backoffice:detail", args=[tx.pk])))
    assert first.post(reverse("backoffice:approve", args=[tx.pk]), {"version": shown}).status_code == 302

    approve = second.post(reverse("backoffice:approve", args=[tx.pk]), {"version": shown})
    assert approve.status_code == 409
    body = text(approve)
    assert clerk_a.get_full_name() in body
    assert "审核通过" in body
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", body)

    returned = second.post(reverse("backoffice:return", args=[tx.pk]), {"version": shown, "reason": "材料不全"})
    assert returned.status_code == 409
    assert "审核通过" in text(returned)
    tx.refresh_from_db()
    assert tx.state == State.FINISHED


def test_return_then_stale_approve_names_the_return(params, employer_a, operator_a, clerk_a, clerk_a2, client_for):
    tx = review_tx(employer_a, operator_a, 1)
    shown = tx.version
    assert (
        client_for(clerk_a)
        .post(reverse("backoffice:return", args=[tx.pk]), {"version": shown, "reason": "照片不清晰"})
        .status_code
        == 302
    )
    late = client_for(clerk_a2).post(reverse("backoffice:approve", args=[tx.pk]), {"version": shown})
    assert late.status_code == 409
    assert "回退" in text(late)
    tx.refresh_from_db()
    assert tx.state == State.RETURNED
    assert not Relation.objects.exists()


# --- separation of duties -------------------------------------------------------------------


def test_clerk_who_acts_for_the_employer_cannot_approve(params, employer_a, operator_a, clerk_a, client_for):
    tx = review_tx(employer_a, operator_a, 1)
    MembershipFactory(user=clerk_a, employer=employer_a)
    client = client_for(clerk_a)
    page = client.get(reverse("backoffice:detail", args=[tx.pk]))
    assert "不能审核本人所代理单位的业务" in text(page)
    response = client.post(reverse("backoffice:approve", args=[tx.pk]), {"version": tx.version})
    assert response.status_code == 403
    assert "不能审核本人所代理单位的业务" in text(response)
    response = client.post(reverse("backoffice:return", args=[tx.pk]), {"version": tx.version, "reason": "x"})
    assert response.status_code == 403
    tx.refresh_from_db()
    assert tx.state == State.REVIEW


# --- stale drafts ---------------------------------------------------------------------------


def test_agency_cancel_of_a_stale_draft_releases_the_person_lock(params, employer_a, operator_a, clerk_a, client_for):
    tx = saved_tx(employer_a, operator_a, 1)
    fresh = saved_tx(employer_a, operator_a, 2)
    Transaction.objects.filter(pk=tx.pk).update(touched_at=timezone.now() - dt.timedelta(days=20))
    assert PersonLock.objects.filter(transaction=tx).exists()
    client = client_for(clerk_a)

    stale = listed(client.get(reverse("backoffice:queue"), {"tab": "stale", "days": 10}))
    assert tx.serial in stale and fresh.serial not in stale
    assert tx.serial not in listed(client.get(reverse("backoffice:queue")))  # not in the review queue

    page = text(client.get(reverse("backoffice:detail", args=[tx.pk])))
    assert "退单" in page
    refused = client.post(reverse("backoffice:cancel", args=[tx.pk]), {"version": tx.version, "reason": ""})
    assert refused.status_code == 400
    done = client.post(
        reverse("backoffice:cancel", args=[tx.pk]), {"version": tx.version, "reason": "单位超期未提交，已电话联系"}
    )
    assert done.status_code == 302
    tx.refresh_from_db()
    assert tx.state == State.CANCELLED
    assert not PersonLock.objects.filter(transaction=tx).exists()
    assert any("单位超期未提交" in r for r in issue_messages(tx.return_reasons))
    # The person can now be enrolled again.
    again = services.transaction_save_single(
        employer=employer_a, actor=operator_a, business_type="enrol", raw=enrol_raw(1)
    )
    assert again.ok


def test_cancel_with_a_stale_version_is_a_conflict(params, employer_a, operator_a, clerk_a, client_for):
    tx = saved_tx(employer_a, operator_a, 1)
    shown = tx.version
    services.transaction_save_single(
        employer=employer_a,
        actor=operator_a,
        business_type="enrol",
        raw=enrol_raw(1, wage="7000"),
        tx=tx,
        version=shown,
    )
    response = client_for(clerk_a).post(
        reverse("backoffice:cancel", args=[tx.pk]), {"version": shown, "reason": "超期"}
    )
    assert response.status_code == 409
    assert "保存" in text(response)
    tx.refresh_from_db()
    assert tx.state == State.SAVED


# --- batches --------------------------------------------------------------------------------


def batch_in_review(employer, operator, count: int) -> Transaction:
    business = registry.get("enrol")
    snapshot = ParamSnapshot.load()
    tx = TransactionFactory(
        employer=employer,
        business_type="enrol",
        mode=Mode.BATCH,
        operator=operator,
        state=State.AUDITING,
        total_count=count,
        submitted_at=timezone.now(),
    )
    for n in range(1, count + 1):
        raw = enrol_raw(100 + n, name=f"人员{'甲乙丙丁戊己庚辛壬癸'[n % 10]}")
        data = business.check_row(raw, snapshot, employer).data
        ItemFactory(
            transaction=tx,
            row_no=n,
            id_key=id_key("01", data["id_number"]),
            id_number=data["id_number"],
            name=data["name"],
            data=data,
            raw=raw,
            audit_status=AuditStatus.PENDING,
        )
    assert services.run_audit(tx.pk) == "review"
    tx.refresh_from_db()
    return tx


def test_batch_rows_filter_mark_failed_and_approve_only_passed(params, employer_a, operator_a, clerk_a, client_for):
    tx = batch_in_review(employer_a, operator_a, 3)
    client = client_for(clerk_a)
    url = reverse("backoffice:detail", args=[tx.pk])
    page = text(client.get(url))
    assert "标记失败" in page and page.count("badge ok") == 3
    victim = tx.items.get(row_no=2)
    response = client.post(
        reverse("backoffice:mark_failed", args=[tx.pk]),
        {"item": victim.pk, "reason": "身份证复印件不清", "result": "all", "page": "1"},
    )
    assert response.status_code == 302
    victim.refresh_from_db()
    assert victim.audit_status == AuditStatus.FAILED and victim.clerk_reason == "身份证复印件不清"
    failed = text(client.get(url, {"result": "failed"}))
    assert victim.id_number in failed and "身份证复印件不清" in failed
    assert tx.items.get(row_no=1).id_number not in failed
    passed = text(client.get(url, {"result": "passed"}))
    assert victim.id_number not in passed
    # An item of another transaction cannot be marked through this one.
    other = batch_in_review(employer_a, operator_a, 1)
    assert (
        client.post(
            reverse("backoffice:mark_failed", args=[tx.pk]), {"item": other.items.get().pk, "reason": "x"}
        ).status_code
        == 404
    )

    tx.refresh_from_db()
    assert client.post(reverse("backoffice:approve", args=[tx.pk]), {"version": tx.version}).status_code == 302
    tx.refresh_from_db()
    assert tx.state == State.FINISHED and tx.applied_count == 2
    applied = set(Item.objects.filter(transaction=tx, applied=True).values_list("row_no", flat=True))
    assert applied == {1, 3}
    assert not Relation.objects.filter(person__id_key=victim.id_key).exists()
    assert Item.objects.filter(transaction=tx, status=ItemStatus.IMPORTED).count() == 3


def test_marking_a_row_failed_twice_is_a_conflict_and_counts_once(params, employer_a, operator_a, clerk_a, client_for):
    tx = batch_in_review(employer_a, operator_a, 2)
    client = client_for(clerk_a)
    victim = tx.items.get(row_no=2)
    url = reverse("backoffice:mark_failed", args=[tx.pk])
    form = {"item": victim.pk, "reason": "身份证复印件不清", "result": "all", "page": "1"}
    assert client.post(url, form).status_code == 302
    again = client.post(url, {**form, "reason": "再点一次"})
    assert again.status_code == 409
    assert "第 2 行已于" in text(again) and "标记为审核失败，无需重复标记" in text(again)
    tx.refresh_from_db()
    assert (tx.audit_passed_count, tx.audit_failed_count) == (1, 1)
    victim.refresh_from_db()
    assert victim.clerk_reason == "身份证复印件不清"
    assert [i["code"] for i in victim.audit_issues].count("CLERK_MARKED_FAILED") == 1
    assert tx.events.filter(action="mark_failed").count() == 1
    # The other row can still be marked, and then nothing is left to approve.
    assert client.post(url, {**form, "item": tx.items.get(row_no=1).pk}).status_code == 302
    tx.refresh_from_db()
    assert (tx.audit_passed_count, tx.audit_failed_count) == (0, 2)


def test_a_row_the_audit_failed_cannot_be_marked_failed(params, employer_a, operator_a, clerk_a, client_for):
    tx = batch_in_review(employer_a, operator_a, 2)
    failed = tx.items.get(row_no=1)
    Item.objects.filter(pk=failed.pk).update(audit_status=AuditStatus.FAILED)
    Transaction.objects.filter(pk=tx.pk).update(audit_passed_count=1, audit_failed_count=1)
    response = client_for(clerk_a).post(
        reverse("backoffice:mark_failed", args=[tx.pk]), {"item": failed.pk, "reason": "x"}
    )
    assert response.status_code == 409 and "第 1 行未通过自动审核" in text(response)
    tx.refresh_from_db()
    assert (tx.audit_passed_count, tx.audit_failed_count) == (1, 1)
