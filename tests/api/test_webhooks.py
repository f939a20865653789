"""Webhooks: a real receiver on 127.0.0.1 gets a signed callback when a transaction finishes
or is returned and verifies it with the Standard Webhooks library; retries back off, redirects
are not followed, a revoked token is not called, the forgery guard refuses internal
addresses, and the pages keep to the employer and its administrator."""

from __future__ import annotations

import datetime as dt
import socket

import pytest
from django.urls import reverse
from django.utils import timezone
from django_q.models import OrmQ
from standardwebhooks import Webhook

from shebao.api import jobs, tokens, webhooks
from shebao.api.models import ApiToken, DeliveryStatus, WebhookDelivery
from shebao.core.errors import ApplicationError, PermissionDenied
from shebao.workflow import outbox
from shebao.workflow import services as engine
from shebao.workflow.models import Outbox, State, Transaction
from tests.factories import OperatorFactory, make_resident_id
from tests.workflow.helpers import enrol_raw

pytestmark = pytest.mark.django_db


def _finished(employer, user, serial: int = 1) -> Transaction:
    """A single enrolment saved, submitted and audited (the VIP employer: it finishes)."""
    raw = enrol_raw(make_resident_id(dt.date(1990, 5, 17), serial=serial))
    result = engine.transaction_save_single(employer=employer, actor=user, business_type="enrol", raw=raw)
    assert result.ok, [i.code for i in result.issues]
    tx = result.transaction
    engine.transaction_submit(tx=tx, actor=user, version=tx.version)
    assert engine.run_audit(tx.pk) == "finished"
    tx.refresh_from_db()
    return tx


def _event(tx: Transaction, kind: str = outbox.FINISHED) -> Outbox:
    return Outbox.objects.get(transaction=tx, kind=kind)


def _verified(request: dict, secret: str) -> dict:
    """What a receiver does: check the signature of the body with the headers."""
    return Webhook(secret).verify(request["body"], request["headers"])


def test_an_employer_without_a_webhook_costs_no_job(hooks_admin, vip_employer):
    """The engine asks the API whether the employer listens before it queues a fan-out."""
    tokens.token_create(employer=vip_employer, actor=hooks_admin, name="报表", scope="read")  # no webhook
    _finished(vip_employer, hooks_admin)
    assert not [q for q in OrmQ.objects.filter(key="outbox") if q.task["func"] == webhooks.FAN_OUT_TASK]
    assert OrmQ.objects.filter(key="outbox").exists()  # the message centre's delivery is queued


# --- a real receiver -------------------------------------------------------------------------


def test_a_finished_transaction_is_called_back_signed_and_verified(hooks_token, hooks_admin, hooks_receiver):
    tx = _finished(hooks_token.employer, hooks_admin)
    # The engine queued the fan-out on the outbox cluster, in the commit that finished it.
    queued = [q for q in OrmQ.objects.filter(key="outbox") if q.task["func"] == webhooks.FAN_OUT_TASK]
    assert [q.task["args"] for q in queued] == [(_event(tx).pk,)]
    assert jobs.webhook_job(_event(tx).pk) == 1
    [request] = hooks_receiver.requests
    payload = _verified(request, hooks_token.secret)
    assert payload["type"] == "transaction.finished"
    assert payload["data"]["transaction_id"] == tx.pk and payload["data"]["serial"] == tx.serial
    assert payload["data"]["state"] == State.FINISHED and payload["data"]["mode"] == "single"
    assert payload["data"]["url"] == f"/api/v1/transactions/{tx.pk}"
    assert payload["data"]["counts"]["applied"] == 1
    assert payload["timestamp"].endswith("Z")
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["webhook-id"].startswith("msg_") and headers["webhook-signature"].startswith("v1,")
    assert headers["content-type"] == "application/json" and headers["user-agent"] == "Shebao-Webhooks/1"
    assert request["path"] == "/shebao/webhook?src=test"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status) == (DeliveryStatus.DELIVERED, 1, 200)
    assert delivery.message_id == headers["webhook-id"] and delivery.delivered_at is not None
    # A second fan-out (the sweep, a replayed job) sends nothing again.
    assert jobs.webhook_job(_event(tx).pk) == 0
    assert jobs.deliver_due_job() == 0
    assert len(hooks_receiver.requests) == 1


def test_a_wrong_secret_or_a_changed_body_fails_verification(hooks_token, hooks_admin, hooks_receiver):
    from standardwebhooks.webhooks import WebhookVerificationError

    tx = _finished(hooks_token.employer, hooks_admin)
    webhooks.fan_out(_event(tx).pk)
    [request] = hooks_receiver.requests
    with pytest.raises(WebhookVerificationError):
        Webhook(tokens.webhook_secret()).verify(request["body"], request["headers"])
    with pytest.raises(WebhookVerificationError):
        Webhook(hooks_token.secret).verify(request["body"].replace(b"finished", b"returned"), request["headers"])


def test_a_returned_transaction_tells_its_reasons_in_both_languages(hooks_token, hooks_admin, hooks_receiver):
    employer = hooks_token.employer
    raw = enrol_raw(make_resident_id(dt.date(1990, 5, 17)))
    tx = engine.transaction_save_single(
        employer=employer, actor=hooks_admin, business_type="enrol", raw=raw
    ).transaction
    engine.transaction_submit(tx=tx, actor=hooks_admin, version=tx.version)
    assert engine.job_fail(tx.pk, State.AUDITING, ref="E1234", error="boom", attempts=3)
    assert webhooks.fan_out(_event(tx, outbox.RETURNED).pk) == 1
    payload = _verified(hooks_receiver.requests[0], hooks_token.secret)
    assert payload["type"] == "transaction.returned" and payload["data"]["kind"] == outbox.RETURNED
    [reason] = payload["data"]["reasons"]
    assert reason["code"] == "AUDIT_JOB_FAILED" and set(reason["messages"]) == {"zh-hans", "en"}
    assert "E1234" in reason["messages"]["zh-hans"]


def test_other_events_are_not_sent(hooks_token, hooks_admin, hooks_receiver):
    raw = enrol_raw(make_resident_id(dt.date(1990, 5, 17)))
    tx = engine.transaction_save_single(
        employer=hooks_token.employer, actor=hooks_admin, business_type="enrol", raw=raw
    ).transaction
    row = outbox.record(outbox.EXPIRY_WARNING, tx, key="test-warning", payload={})
    assert webhooks.fan_out(row.pk) == 0
    assert not WebhookDelivery.objects.exists() and not hooks_receiver.requests


def test_a_500_is_retried_with_backoff_then_delivered(hooks_token, hooks_admin, hooks_receiver, pinned_clock):
    hooks_receiver.answers = [(500, {}, b"busy"), (200, {}, b"thanks")]
    tx = _finished(hooks_token.employer, hooks_admin)
    webhooks.fan_out(_event(tx).pk)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status) == (DeliveryStatus.RETRYING, 1, 500)
    assert delivery.last_response == "busy" and "500" in delivery.last_error
    assert delivery.next_attempt_at == delivery.last_attempt_at + dt.timedelta(seconds=30)
    assert webhooks.deliver_due() == 0  # not due yet
    pinned_clock.shift(dt.timedelta(seconds=31))
    assert webhooks.deliver_due() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status) == (DeliveryStatus.DELIVERED, 2, 200)
    assert delivery.last_response == "thanks" and delivery.last_error == "" and delivery.next_attempt_at is None
    first, second = hooks_receiver.requests
    assert first["headers"]["webhook-id"] == second["headers"]["webhook-id"]  # the receiver can de-duplicate
    _verified(second, hooks_token.secret)


def test_the_backoff_doubles_and_is_given_up_after_the_last_attempt(
    hooks_token, hooks_admin, hooks_receiver, pinned_clock
):
    assert [webhooks.retry_delay(n).total_seconds() for n in (1, 2, 3)] == [30, 60, 120]
    assert webhooks.retry_delay(30) == dt.timedelta(hours=6)  # capped
    hooks_receiver.answers = [(503, {}, b"")] * 3
    webhooks.fan_out(_event(_finished(hooks_token.employer, hooks_admin)).pk)
    for wait in (30, 60):
        pinned_clock.shift(dt.timedelta(seconds=wait + 1))
        assert webhooks.deliver_due() == 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (DeliveryStatus.FAILED, 3, None)
    pinned_clock.shift(dt.timedelta(hours=7))
    assert webhooks.deliver_due() == 0 and len(hooks_receiver.requests) == 3


def test_deliveries_that_ended_are_pruned_after_the_keeping_time(
    operator_client, hooks_token, hooks_admin, hooks_receiver, settings
):
    settings.SHEBAO_WEBHOOK_KEEP_DAYS = 90
    hooks_receiver.answers = [(200, {}, b"ok"), (500, {}, b"busy")]
    delivered_tx, retrying_tx = (_finished(hooks_token.employer, hooks_admin, serial=n) for n in (1, 2))
    webhooks.fan_out(_event(delivered_tx).pk)
    webhooks.fan_out(_event(retrying_tx).pk)
    statuses = dict(WebhookDelivery.objects.values_list("outbox__transaction", "status"))
    assert statuses == {delivered_tx.pk: DeliveryStatus.DELIVERED, retrying_tx.pk: DeliveryStatus.RETRYING}
    now = timezone.now()
    assert webhooks.prune(now + dt.timedelta(days=89)) == 0
    assert webhooks.prune(now + dt.timedelta(days=91)) == 1
    [kept] = WebhookDelivery.objects.all()  # still retrying: kept, however old
    assert kept.outbox.transaction_id == retrying_tx.pk
    page = reverse("api:webhook_deliveries", kwargs={"pk": hooks_token.pk})
    client = operator_client(hooks_token.employer, hooks_admin)
    assert "已送达或已放弃的投递记录保留 90 天。" in client.get(page).content.decode()


def test_a_redirect_is_not_followed(hooks_token, hooks_admin, hooks_receiver):
    elsewhere = f"http://127.0.0.1:{hooks_receiver.port}/elsewhere"
    hooks_receiver.answers = [(302, {"Location": elsewhere}, b"moved")]
    webhooks.fan_out(_event(_finished(hooks_token.employer, hooks_admin)).pk)
    assert [r["path"] for r in hooks_receiver.requests] == ["/shebao/webhook?src=test"]
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status) == (DeliveryStatus.RETRYING, 1, 302)
    assert "重定向" in delivery.last_error


@pytest.mark.parametrize(("action", "reason"), [("revoke", "吊销"), ("remove", "删除")])
def test_a_revoked_token_or_a_removed_webhook_is_not_called(
    hooks_token, hooks_admin, hooks_receiver, pinned_clock, vip_employer, action, reason
):
    hooks_receiver.answers = [(500, {}, b"")]
    webhooks.fan_out(_event(_finished(vip_employer, hooks_admin)).pk)
    change = tokens.token_revoke if action == "revoke" else webhooks.remove_webhook
    change(employer=vip_employer, actor=hooks_admin, token_id=hooks_token.pk)
    pinned_clock.shift(dt.timedelta(minutes=5))
    webhooks.deliver_due()
    delivery = WebhookDelivery.objects.get()  # waiting for its retry: given up, not sent
    assert delivery.status == DeliveryStatus.FAILED and reason in delivery.last_error
    assert len(hooks_receiver.requests) == 1
    # An event after it makes no delivery at all.
    webhooks.fan_out(_event(_finished(vip_employer, hooks_admin, serial=2)).pk)
    assert WebhookDelivery.objects.count() == 1 and len(hooks_receiver.requests) == 1


def test_a_receiver_that_is_down_is_retried(hooks_token, hooks_admin, hooks_receiver, vip_employer):
    hooks_receiver.close()
    webhooks.fan_out(_event(_finished(vip_employer, hooks_admin)).pk)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status) == (DeliveryStatus.RETRYING, 1, None)
    assert "连接" in delivery.last_error
    hooks_receiver.close = lambda: None  # closed already


def test_the_sweep_sends_what_a_lost_job_left_and_nothing_from_before_the_webhook(
    hooks_admin, hooks_receiver, vip_employer, pinned_clock
):
    before = _finished(vip_employer, hooks_admin, serial=1)  # no webhook yet
    token = tokens.token_create(employer=vip_employer, actor=hooks_admin, name="人事系统", scope="read").token
    pinned_clock.shift(dt.timedelta(seconds=1))
    webhooks.set_webhook(employer=vip_employer, actor=hooks_admin, token_id=token.pk, url=hooks_receiver.url)
    pinned_clock.shift(dt.timedelta(seconds=1))
    after = _finished(vip_employer, hooks_admin, serial=2)
    OrmQ.objects.all().delete()  # the queued fan-out is lost
    assert jobs.deliver_due_job() == 1
    assert [d.outbox.transaction_id for d in WebhookDelivery.objects.all()] == [after.pk]
    assert before.pk != after.pk and len(hooks_receiver.requests) == 1


def test_the_connection_goes_to_the_checked_address_with_the_name_as_host(
    hooks_token, hooks_admin, hooks_receiver, vip_employer, monkeypatch
):
    """DNS rebinding: the name is resolved and checked once per attempt, and the request goes
    to that address (the name only in the Host header), never resolved again by the client."""
    real = socket.getaddrinfo
    seen = []

    def resolve(host, port, *args, **kwargs):
        seen.append(host)
        if host == "hooks.example.test":
            return real("127.0.0.1", port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    url = f"http://hooks.example.test:{hooks_receiver.port}/in"
    webhooks.set_webhook(employer=vip_employer, actor=hooks_admin, token_id=hooks_token.pk, url=url)
    webhooks.fan_out(_event(_finished(vip_employer, hooks_admin)).pk)
    [request] = hooks_receiver.requests
    assert request["headers"]["Host"] == f"hooks.example.test:{hooks_receiver.port}"
    # Resolved when saved and before the attempt; the connection was made to the address.
    assert [host for host in seen if host != "127.0.0.1"] == ["hooks.example.test", "hooks.example.test"]
    assert WebhookDelivery.objects.get().status == DeliveryStatus.DELIVERED


# --- the forgery guard ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("https://127.0.0.1/hook", "WEBHOOK_URL_LOOPBACK"),
        ("https://localhost/hook", "WEBHOOK_URL_LOOPBACK"),
        ("https://[::1]/hook", "WEBHOOK_URL_LOOPBACK"),
        ("https://[::ffff:127.0.0.1]/hook", "WEBHOOK_URL_LOOPBACK"),
        ("https://10.1.2.3/hook", "WEBHOOK_URL_PRIVATE"),
        ("https://172.16.0.9/hook", "WEBHOOK_URL_PRIVATE"),
        ("https://192.168.1.20:8443/hook", "WEBHOOK_URL_PRIVATE"),
        ("https://169.254.169.254/latest/meta-data", "WEBHOOK_URL_PRIVATE"),
        ("https://100.64.0.1/hook", "WEBHOOK_URL_PRIVATE"),
        ("https://0.0.0.0/hook", "WEBHOOK_URL_PRIVATE"),
        ("https://224.0.0.1/hook", "WEBHOOK_URL_PRIVATE"),
        ("https://[fc00::1]/hook", "WEBHOOK_URL_PRIVATE"),
        ("https://[fe80::1]/hook", "WEBHOOK_URL_PRIVATE"),
        ("https://[::ffff:10.0.0.1]/hook", "WEBHOOK_URL_PRIVATE"),
        ("https://[2002:a00:1::]/hook", "WEBHOOK_URL_PRIVATE"),  # 6to4 of 10.0.0.1
        ("https://[64:ff9b::a00:1]/hook", "WEBHOOK_URL_PRIVATE"),  # NAT64
        ("http://8.8.8.8/hook", "WEBHOOK_URL_SCHEME"),
        ("ftp://8.8.8.8/hook", "WEBHOOK_URL_SCHEME"),
        ("file:///etc/passwd", "WEBHOOK_URL_SCHEME"),
        ("https://user:secret@8.8.8.8/hook", "WEBHOOK_URL_CREDENTIALS"),
        ("https:///hook", "WEBHOOK_URL_FORMAT"),
        ("https://8.8.8.8:99999/hook", "WEBHOOK_URL_FORMAT"),
        ("https://8.8.8.8/a b", "WEBHOOK_URL_FORMAT"),
        ("", "WEBHOOK_URL_EMPTY"),
        ("https://8.8.8.8/" + "a" * 500, "WEBHOOK_URL_LENGTH"),
        ("https://no-such-host.invalid/hook", "WEBHOOK_URL_UNRESOLVED"),
    ],
)
def test_the_guard_refuses(settings, url, code):
    settings.SHEBAO_WEBHOOK_HTTPS_ONLY = True
    settings.SHEBAO_WEBHOOK_ALLOW_LOOPBACK = False
    with pytest.raises(ApplicationError) as refused:
        webhooks.check_url(url)
    assert refused.value.code == code
    assert refused.value.message and "回调地址" in refused.value.message


def test_the_guard_accepts_a_public_address(settings):
    settings.SHEBAO_WEBHOOK_HTTPS_ONLY = True
    target = webhooks.check_url("https://8.8.8.8/hook?x=1")
    assert (target.scheme, target.address, target.port, target.path) == ("https", "8.8.8.8", 443, "/hook?x=1")
    assert target.host_header == "8.8.8.8"
    assert webhooks.check_url("https://[2001:4860:4860::8888]:8443/").host_header == "[2001:4860:4860::8888]:8443"


def test_every_address_of_a_name_must_be_public(settings, monkeypatch):
    """A name that resolves to a public and an internal address is refused: the next
    resolution could give either."""
    settings.SHEBAO_WEBHOOK_HTTPS_ONLY = True

    def resolve(host, port, *args, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("8.8.8.8", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with pytest.raises(ApplicationError) as refused:
        webhooks.check_url("https://hooks.example.com/hook")
    assert refused.value.code == "WEBHOOK_URL_PRIVATE" and "10.0.0.7" in refused.value.message


def test_loopback_and_http_only_where_the_settings_allow(settings):
    settings.SHEBAO_WEBHOOK_HTTPS_ONLY = False
    settings.SHEBAO_WEBHOOK_ALLOW_LOOPBACK = True
    assert webhooks.check_url("http://127.0.0.1:9/hook").address == "127.0.0.1"
    with pytest.raises(ApplicationError):
        webhooks.check_url("http://10.0.0.1/hook")  # private stays refused


def test_a_target_refused_at_send_time_is_a_failed_attempt(hooks_token, hooks_admin, hooks_receiver, settings):
    settings.SHEBAO_WEBHOOK_ALLOW_LOOPBACK = False  # e.g. the name now resolves to loopback
    webhooks.fan_out(_event(_finished(hooks_token.employer, hooks_admin)).pk)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status) == (DeliveryStatus.RETRYING, 1, None)
    assert "本机" in delivery.last_error and not hooks_receiver.requests


# --- the services: only the administrator of the employer -----------------------------------


def test_only_the_administrator_sets_a_webhook_and_the_secret_is_made_once(
    hooks_admin, vip_employer, other_employer, settings
):
    settings.SHEBAO_WEBHOOK_HTTPS_ONLY = True
    token = tokens.token_create(employer=vip_employer, actor=hooks_admin, name="人事系统", scope="read").token
    clerk_of_hr = OperatorFactory(employer=vip_employer, employer__is_admin=False)
    with pytest.raises(PermissionDenied):
        webhooks.set_webhook(employer=vip_employer, actor=clerk_of_hr, token_id=token.pk, url="https://8.8.8.8/h")
    with pytest.raises(ApplicationError) as refused:
        webhooks.set_webhook(employer=other_employer, actor=hooks_admin, token_id=token.pk, url="https://8.8.8.8/h")
    assert refused.value.status in (403, 404)
    saved = webhooks.set_webhook(employer=vip_employer, actor=hooks_admin, token_id=token.pk, url="https://8.8.8.8/h")
    assert saved.secret and saved.secret.startswith("whsec_")
    again = webhooks.set_webhook(employer=vip_employer, actor=hooks_admin, token_id=token.pk, url="https://8.8.4.4/h")
    assert again.secret is None  # the secret is kept
    token.refresh_from_db()
    assert (token.webhook_url, token.webhook_secret) == ("https://8.8.4.4/h", saved.secret)
    rotated = webhooks.rotate_secret(employer=vip_employer, actor=hooks_admin, token_id=token.pk)
    assert rotated.secret not in (None, saved.secret)


# --- the pages ---------------------------------------------------------------------------------


def test_the_urls(db):
    assert reverse("api:webhook_edit", kwargs={"pk": 5}) == "/integration/tokens/5/webhook/"
    assert reverse("api:webhook_deliveries", kwargs={"pk": 5}) == "/integration/tokens/5/webhook/deliveries/"
    assert reverse("api:webhook_resend", kwargs={"pk": 5, "delivery": 7}).endswith("/deliveries/7/resend/")


def test_the_administrator_sets_the_webhook_on_the_page_and_sees_the_secret_once(
    operator_client, hooks_admin, vip_employer, hooks_receiver
):
    client = operator_client(vip_employer, hooks_admin)
    token = tokens.token_create(employer=vip_employer, actor=hooks_admin, name="人事系统", scope="read").token
    url = reverse("api:webhook_edit", kwargs={"pk": token.pk})
    assert client.get(url).status_code == 200
    response = client.post(url, {"action": "save", "url": hooks_receiver.url})
    assert response.status_code == 200
    token.refresh_from_db()
    page = response.content.decode()
    assert token.webhook_secret.startswith("whsec_") and token.webhook_secret in page
    assert "webhook-signature" in page
    assert token.webhook_secret not in client.get(url).content.decode()  # once
    response = client.post(url, {"action": "rotate"})
    old = token.webhook_secret
    token.refresh_from_db()
    assert token.webhook_secret != old and token.webhook_secret in response.content.decode()
    response = client.post(url, {"action": "remove"})
    assert response.status_code == 302
    token.refresh_from_db()
    assert (token.webhook_url, token.webhook_secret) == ("", "")


def test_a_refused_address_is_explained_and_nothing_is_saved(operator_client, hooks_admin, vip_employer, settings):
    settings.SHEBAO_WEBHOOK_HTTPS_ONLY = True
    client = operator_client(vip_employer, hooks_admin)
    token = tokens.token_create(employer=vip_employer, actor=hooks_admin, name="人事系统", scope="read").token
    url = reverse("api:webhook_edit", kwargs={"pk": token.pk})
    for bad in ("https://169.254.169.254/latest", "http://8.8.8.8/x", "<script>alert(1)</script>", "https://[::1"):
        response = client.post(url, {"action": "save", "url": bad})
        assert response.status_code == 400
        page = response.content.decode()
        assert "回调地址" in page and "<script>alert" not in page
    token.refresh_from_db()
    assert token.webhook_url == "" and token.webhook_secret == ""


def test_another_employers_token_and_delivery_are_not_found(
    operator_client, hooks_token, hooks_admin, hooks_receiver, other_employer
):
    webhooks.fan_out(_event(_finished(hooks_token.employer, hooks_admin)).pk)
    delivery = WebhookDelivery.objects.get()
    other = operator_client(other_employer)
    assert other.get(reverse("api:webhook_edit", kwargs={"pk": hooks_token.pk})).status_code == 404
    assert (
        other.post(reverse("api:webhook_edit", kwargs={"pk": hooks_token.pk}), {"url": "https://8.8.8.8/"}).status_code
        == 404
    )
    assert other.get(reverse("api:webhook_deliveries", kwargs={"pk": hooks_token.pk})).status_code == 404
    resend = reverse("api:webhook_resend", kwargs={"pk": hooks_token.pk, "delivery": delivery.pk})
    assert other.post(resend).status_code == 404
    # Nor a delivery of another token under one's own token.
    own = tokens.token_create(employer=other_employer, actor=other.user, name="x", scope="read").token
    assert other.post(reverse("api:webhook_resend", kwargs={"pk": own.pk, "delivery": delivery.pk})).status_code == 404
    hooks_token.refresh_from_db()
    assert hooks_token.webhook_url == hooks_receiver.url


def test_an_operator_who_is_not_the_administrator_sees_but_cannot_change(
    operator_client, hooks_token, hooks_admin, hooks_receiver, vip_employer
):
    webhooks.fan_out(_event(_finished(vip_employer, hooks_admin)).pk)
    delivery = WebhookDelivery.objects.get()
    operator = operator_client(vip_employer, OperatorFactory(employer=vip_employer, employer__is_admin=False))
    edit = reverse("api:webhook_edit", kwargs={"pk": hooks_token.pk})
    page = operator.get(edit).content.decode()
    assert "只有单位管理员可以设置回调" in page and 'name="url"' not in page
    for action in ("save", "rotate", "remove"):
        assert operator.post(edit, {"action": action, "url": "https://8.8.8.8/"}).status_code == 403
    log = operator.get(reverse("api:webhook_deliveries", kwargs={"pk": hooks_token.pk})).content.decode()
    assert "已送达" in log and "重新发送" not in log
    operator.post(reverse("api:webhook_resend", kwargs={"pk": hooks_token.pk, "delivery": delivery.pk}))
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert not [q for q in OrmQ.objects.all() if q.task["func"] == webhooks.SEND_TASK]
    hooks_token.refresh_from_db()
    assert hooks_token.webhook_url == hooks_receiver.url and hooks_token.webhook_secret == hooks_token.secret


def test_the_log_shows_the_attempts_and_a_resend_requeues(
    operator_client, hooks_token, hooks_admin, hooks_receiver, vip_employer, settings
):
    settings.SHEBAO_WEBHOOK_MAX_ATTEMPTS = 1
    hooks_receiver.answers = [(500, {}, b"<script>alert(1)</script> down")]
    tx = _finished(vip_employer, hooks_admin)
    webhooks.fan_out(_event(tx).pk)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    client = operator_client(vip_employer, hooks_admin)
    log_url = reverse("api:webhook_deliveries", kwargs={"pk": hooks_token.pk})
    page = client.get(log_url).content.decode()
    assert "已放弃" in page and "transaction.finished" in page and tx.serial in page and "500" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; down" in page and "<script>alert(1)" not in page
    response = client.post(reverse("api:webhook_resend", kwargs={"pk": hooks_token.pk, "delivery": delivery.pk}))
    assert response.status_code == 302 and response["Location"] == log_url
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 0)  # a fresh count
    [queued] = [q for q in OrmQ.objects.filter(key="outbox") if q.task["func"] == webhooks.SEND_TASK]
    assert queued.task["args"] == (delivery.pk,) and queued.task["group"] == "webhooks"
    assert "待发送" in client.get(log_url).content.decode()
    assert jobs.send_job(delivery.pk) == DeliveryStatus.DELIVERED  # the hooks worker runs it
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status) == (DeliveryStatus.DELIVERED, 1, 200)
    assert "已送达" in client.get(log_url).content.decode()
    first, second = hooks_receiver.requests
    assert first["headers"]["webhook-id"] == second["headers"]["webhook-id"]


def test_a_resend_of_a_revoked_token_is_refused(
    operator_client, hooks_token, hooks_admin, hooks_receiver, vip_employer
):
    webhooks.fan_out(_event(_finished(vip_employer, hooks_admin)).pk)
    delivery = WebhookDelivery.objects.get()
    tokens.token_revoke(employer=vip_employer, actor=hooks_admin, token_id=hooks_token.pk)
    client = operator_client(vip_employer, hooks_admin)
    response = client.post(
        reverse("api:webhook_resend", kwargs={"pk": hooks_token.pk, "delivery": delivery.pk}), follow=True
    )
    assert "已吊销" in response.content.decode()
    assert not [q for q in OrmQ.objects.all() if q.task["func"] == webhooks.SEND_TASK]


def test_the_schedules_are_on_the_outbox_cluster(db):
    from django_q.models import Schedule

    schedules = {s.name: s for s in Schedule.objects.filter(name__in=["deliver-webhooks", "prune-api-records"])}
    assert schedules["deliver-webhooks"].func == "shebao.api.jobs.deliver_due_job"
    assert schedules["prune-api-records"].func == "shebao.api.jobs.prune_job"
    assert {s.cluster for s in schedules.values()} == {"outbox"}
    assert jobs.prune_job() == 0


def test_a_token_without_a_webhook_gets_nothing(params, vip_employer, hooks_admin):
    tokens.token_create(employer=vip_employer, actor=hooks_admin, name="只读", scope="read")
    tx = _finished(vip_employer, hooks_admin)
    assert webhooks.fan_out(_event(tx).pk) == 0 and webhooks.deliver_due(timezone.now()) == 0
    assert not WebhookDelivery.objects.exists() and ApiToken.objects.count() == 1
