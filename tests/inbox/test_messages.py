"""消息中心: the outbox written with the change, one message per event and recipient however
often the outbox is delivered, e-mail for those who asked, and nobody else's messages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from shebao.accounts.models import Membership
from shebao.inbox import services as inbox
from shebao.inbox.models import Message, Preference
from shebao.workflow import outbox
from shebao.workflow import services as engine
from shebao.workflow.models import Event, Outbox, State, Transaction
from tests.batch.conftest import create_batch, enrol_row, xlsx_bytes
from tests.factories import ClerkFactory, OperatorFactory, TransactionFactory, make_resident_id
from tests.workflow.helpers import enrol_raw

pytestmark = pytest.mark.django_db


def _save(employer, user, **overrides):
    raw = enrol_raw(make_resident_id(dt.date(1990, 5, 17)), **overrides)
    result = engine.transaction_save_single(employer=employer, actor=user, business_type="enrol", raw=raw)
    assert result.ok, [i.code for i in result.issues]
    return result.transaction


def _submit_and_audit(tx, user) -> Transaction:
    engine.transaction_submit(tx=tx, actor=user, version=tx.version)
    engine.run_audit(tx.pk)
    tx.refresh_from_db()
    return tx


def _deliver_all_twice() -> None:
    """The queued job, then the replay: every row delivered again."""
    for _ in range(2):
        for pk in Outbox.objects.values_list("pk", flat=True):
            inbox.deliver(pk)


def _texts(message: Message) -> str:
    from shebao.inbox import texts

    return " ".join([texts.title(message), texts.subject(message), *texts.body(message)])


def test_a_finished_transaction_tells_every_active_operator_once(params, vip_employer, other_employer):
    user = OperatorFactory(employer=vip_employer)
    colleague = OperatorFactory(employer=vip_employer)
    former = OperatorFactory(employer=vip_employer)
    Membership.objects.filter(user=former).update(active=False)
    stranger = OperatorFactory(employer=other_employer)
    tx = _submit_and_audit(_save(vip_employer, user), user)
    assert tx.state == State.FINISHED
    row = Outbox.objects.get()
    assert row.kind == outbox.FINISHED and row.transaction_id == tx.pk and row.event.action == "audit_passed"
    _deliver_all_twice()
    inbox.deliver_pending()  # the sweeper finds nothing left
    messages = Message.objects.order_by("recipient_id")
    assert [m.recipient for m in messages] == [user, colleague]
    assert not Message.objects.filter(recipient__in=[former, stranger]).exists()
    assert "业务已办结" in _texts(messages[0]) and tx.serial in _texts(messages[0])
    assert Outbox.objects.get().delivered_at is not None


def test_ordinary_employer_the_clerk_is_told_then_the_operator_of_the_approval(
    params, ordinary_employer, office, other_office
):
    user = OperatorFactory(employer=ordinary_employer)
    clerk = ClerkFactory(office=office)
    other_clerk = ClerkFactory(office=other_office)
    tx = _submit_and_audit(_save(ordinary_employer, user), user)
    assert tx.state == State.REVIEW
    _deliver_all_twice()
    queued = Message.objects.get()
    assert queued.recipient == clerk and queued.audience == "clerk"  # a single: the operator is not told yet
    assert "新的待审核业务" in _texts(queued) and ordinary_employer.name in _texts(queued)
    assert not Message.objects.filter(recipient=other_clerk).exists()

    engine.clerk_approve(tx=tx, clerk=clerk, version=tx.version)
    _deliver_all_twice()
    approved = Message.objects.get(recipient=user)
    assert approved.kind == outbox.APPROVED and "经办机构审核通过" in _texts(approved)
    assert Message.objects.count() == 2


def test_a_clerks_return_tells_the_reason(params, ordinary_employer, office):
    user = OperatorFactory(employer=ordinary_employer)
    clerk = ClerkFactory(office=office)
    tx = _submit_and_audit(_save(ordinary_employer, user), user)
    engine.clerk_return(tx=tx, clerk=clerk, version=tx.version, reason="身份证复印件不清晰")
    _deliver_all_twice()
    returned = Message.objects.get(recipient=user)
    assert returned.kind == outbox.CLERK_RETURNED
    assert "经办机构已回退" in _texts(returned) and "身份证复印件不清晰" in _texts(returned)


def test_an_audit_that_returns_tells_the_rule(params, vip_employer):
    user = OperatorFactory(employer=vip_employer)
    tx = _save(vip_employer, user)
    engine.transaction_submit(tx=tx, actor=user, version=tx.version)
    assert engine.job_fail(tx.pk, State.AUDITING, ref="E1234", error="boom", attempts=3)
    _deliver_all_twice()
    message = Message.objects.get(recipient=user)
    assert message.kind == outbox.RETURNED
    assert (
        "自动审核未通过，业务已回退" in _texts(message) and "原因：" in _texts(message) and "E1234" in _texts(message)
    )


def test_a_batch_import_and_its_audit_tell_the_counts(params, vip_employer):
    user = OperatorFactory(employer=vip_employer)
    rows = [enrol_row(make_resident_id(dt.date(1990, 3, 7), serial=n)) for n in (1, 2)]
    rows.append(enrol_row("123", 姓名="李四"))  # fails the import
    tx = create_batch(vip_employer, user, xlsx_bytes(rows))
    assert tx.state == State.SAVED
    _deliver_all_twice()
    imported = Message.objects.get(kind=outbox.IMPORTED)
    assert "共导入 3 人，导入失败 1 人" in _texts(imported)
    _submit_and_audit(tx, user)
    _deliver_all_twice()
    finished = Message.objects.get(kind=outbox.FINISHED)
    assert "生效 2 人，审核失败 0 人" in _texts(finished)
    assert Message.objects.count() == 2


def test_the_expiry_warning_comes_once_three_days_before(params, vip_employer):
    user = OperatorFactory(employer=vip_employer)
    days = params.setting_int("draft_expiry_days", timezone.localdate())
    now = timezone.now()
    soon = TransactionFactory(employer=vip_employer, operator=user, state=State.SAVED)
    later = TransactionFactory(employer=vip_employer, operator=user, state=State.RETURNED)
    finished = TransactionFactory(employer=vip_employer, operator=user, state=State.FINISHED)
    Transaction.objects.filter(pk__in=[soon.pk, finished.pk]).update(touched_at=now - dt.timedelta(days=days - 2))
    Transaction.objects.filter(pk=later.pk).update(touched_at=now - dt.timedelta(days=days - 5))
    assert engine.warn_expiring_drafts() == 1
    assert engine.warn_expiring_drafts() == 0  # the daily run again: nothing new
    _deliver_all_twice()
    message = Message.objects.get()
    assert message.transaction_id == soon.pk and message.kind == outbox.EXPIRY_WARNING
    expires = (now + dt.timedelta(days=2)).astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    assert f"将于 {expires:%Y-%m-%d} 自动退单" in _texts(message)


def test_the_outbox_row_is_rolled_back_with_the_change(params, ordinary_employer, office):
    user = OperatorFactory(employer=ordinary_employer)
    clerk = ClerkFactory(office=office)
    tx = _submit_and_audit(_save(ordinary_employer, user), user)
    before = Outbox.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        engine.clerk_return(tx=tx, clerk=clerk, version=tx.version, reason="材料不全")
        assert Outbox.objects.filter(kind=outbox.CLERK_RETURNED).exists()  # written with the change
        raise RuntimeError("a failure after the change")
    tx.refresh_from_db()
    assert tx.state == State.REVIEW
    assert not Event.objects.filter(transaction=tx, action="return").exists()
    assert Outbox.objects.count() == before


def test_e_mail_only_to_who_asked_and_only_once(params, vip_employer, django_capture_on_commit_callbacks):
    wants = OperatorFactory(employer=vip_employer, email="wants@example.com")
    Preference.objects.create(user=wants, email=True)
    quiet = OperatorFactory(employer=vip_employer, email="quiet@example.com")
    tx = _submit_and_audit(_save(vip_employer, wants), wants)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            inbox.deliver(Outbox.objects.get().pk)
    assert [m.to for m in mail.outbox] == [["wants@example.com"]]
    assert "业务已办结" in mail.outbox[0].subject and tx.serial in mail.outbox[0].body
    assert reverse("web:tx_detail", kwargs={"pk": tx.pk}) in mail.outbox[0].body
    assert Message.objects.get(recipient=wants).emailed_at is not None
    assert Message.objects.get(recipient=quiet).emailed_at is None


# --- the pages ------------------------------------------------------------------------------------


def test_the_list_the_badge_opening_and_mark_all_read(params, vip_employer, operator_client):
    client = operator_client(vip_employer)
    tx = _submit_and_audit(_save(vip_employer, client.user), client.user)
    TransactionFactory(employer=vip_employer, operator=client.user, state=State.SAVED)
    _deliver_all_twice()
    home = client.get(reverse("web:home")).content.decode()
    assert 'data-testid="inbox-count"' in home and ">1</span>" in home
    page = client.get(reverse("inbox:list")).content.decode()
    assert "消息中心" in page and "业务已办结" in page and 'class="unread"' in page
    message = Message.objects.get()
    response = client.get(reverse("inbox:open", kwargs={"pk": message.pk}))
    assert response.status_code == 302 and response["Location"] == reverse("web:tx_detail", kwargs={"pk": tx.pk})
    message.refresh_from_db()
    assert message.read_at is not None
    assert 'data-testid="inbox-count"' not in client.get(reverse("web:home")).content.decode()
    Message.objects.update(read_at=None)
    response = client.post(reverse("inbox:read_all"), follow=True)
    assert "已将 1 条消息标为已读" in response.content.decode()
    assert inbox.unread_count(client.user, vip_employer) == 0


def test_nobody_opens_anothers_message(params, vip_employer, other_employer, operator_client, clerk_client):
    mine = operator_client(vip_employer)
    colleague = operator_client(vip_employer)
    other = operator_client(other_employer)
    _submit_and_audit(_save(vip_employer, mine.user), mine.user)
    _deliver_all_twice()
    message = Message.objects.get(recipient=mine.user)
    for client in (colleague, other, clerk_client):
        assert client.get(reverse("inbox:open", kwargs={"pk": message.pk})).status_code == 404
    for client in (other, clerk_client):  # the colleague has a message of their own
        assert "业务已办结" not in client.get(reverse("inbox:list")).content.decode()
    assert Message.objects.get(pk=message.pk).read_at is None


def test_the_clerks_list_links_to_the_desk(params, ordinary_employer, clerk, clerk_client):
    user = OperatorFactory(employer=ordinary_employer)
    tx = _submit_and_audit(_save(ordinary_employer, user), user)
    _deliver_all_twice()
    page = clerk_client.get(reverse("inbox:list")).content.decode()
    assert "新的待审核业务" in page and ordinary_employer.name in page
    message = Message.objects.get(recipient=clerk)
    response = clerk_client.get(reverse("inbox:open", kwargs={"pk": message.pk}))
    assert response["Location"] == reverse("backoffice:detail", kwargs={"pk": tx.pk})


def test_the_e_mail_setting(params, vip_employer, operator_client):
    client = operator_client(vip_employer)
    url = reverse("inbox:preferences")
    page = client.post(url, {"email": "on", "address": ""}, follow=True).content.decode()
    assert "接收邮件通知须填写电子邮箱" in page
    page = client.post(url, {"email": "on", "address": "not-an-address"}, follow=True).content.decode()
    assert "电子邮箱格式不正确" in page
    assert not inbox.email_wanted(client.user)
    page = client.post(url, {"email": "on", "address": "me@example.com"}, follow=True).content.decode()
    assert "通知设置已保存" in page and 'value="me@example.com"' in page and " checked" in page
    assert inbox.email_wanted(client.user)
    client.user.refresh_from_db()
    assert client.user.email == "me@example.com"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_of_the_same_event_give_one_message_each(params, vip_employer):
    """Four workers deliver the same outbox rows at the same instant (the queued task, the
    minute's sweep and two retries): every operator still has exactly one message and one
    e-mail per event."""
    import threading

    from django.db import connection

    user = OperatorFactory(employer=vip_employer)
    colleague = OperatorFactory(employer=vip_employer)
    inbox.set_email_preference(colleague, wanted=True, address="hr@example.com")
    _submit_and_audit(_save(vip_employer, user), user)
    rows = list(Outbox.objects.values_list("pk", flat=True))
    assert rows
    barrier = threading.Barrier(4)
    errors: list[Exception] = []

    def work():
        try:
            barrier.wait()
            for pk in rows:
                inbox.deliver(pk)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for recipient in (user, colleague):
        per_event = Message.objects.filter(recipient=recipient).values_list("outbox_id", flat=True)
        assert len(per_event) == len(set(per_event)) > 0
    assert len(mail.outbox) == Message.objects.filter(recipient=colleague).count()
