"""Webhooks: a signed callback to a token's address when a transaction finishes or is returned.

The Standard Webhooks scheme (https://www.standardwebhooks.com): every request carries
`webhook-id` (the same for every attempt and re-send of one event), `webhook-timestamp` (unix
seconds of the attempt) and `webhook-signature` (`v1,` + base64 of HMAC-SHA256 over
`id.timestamp.body` with the token's whsec_ secret), so a receiver checks it with any
Standard Webhooks library.

Deliveries are read from the engine's outbox (workflow/outbox.py queues `jobs.webhook_job`
on the outbox cluster in the commit that wrote the row; `deliver_due` sweeps what was lost and
retries with exponential backoff). Never the cluster of imports nor of audits: a slow
receiver holds up nothing but other deliveries.

A server-side request forgery guard (`check_url`): https only in production, no credentials
in the address, and every address the host resolves to must be public (no loopback unless
SHEBAO_WEBHOOK_ALLOW_LOOPBACK, no private, link-local, multicast, reserved or unspecified
address, nor an IPv4 one wrapped in IPv6). The check runs again before every attempt, and
the connection goes to the address that was checked (the host name is sent as Host and as
TLS SNI and checked against the certificate), so a name that resolves to something else a
moment later (DNS rebinding) cannot reach an internal address. Redirects are never followed.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import logging
import secrets
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from standardwebhooks import Webhook

from shebao.accounts.models import User
from shebao.api import tokens
from shebao.api.models import ApiToken, DeliveryStatus, WebhookDelivery
from shebao.api.problems import issue_json
from shebao.core.errors import ApplicationError, NotFound, PermissionDenied, log_reference
from shebao.employers.models import Employer
from shebao.workflow import outbox
from shebao.workflow.models import Outbox, Transaction
from shebao.workflow.rules import Issue
from shebao.workflow.status import counts

log = logging.getLogger(__name__)

FINISHED = "transaction.finished"
RETURNED = "transaction.returned"
# Outbox kinds → the event type sent; no other kind is sent.
EVENT_TYPES: dict[str, str] = {
    outbox.FINISHED: FINISHED,
    outbox.APPROVED: FINISHED,
    outbox.RETURNED: RETURNED,
    outbox.CLERK_RETURNED: RETURNED,
}

URL_MAX = 500
RESPONSE_MAX_CHARS = 2000
ERROR_MAX_CHARS = 500
RETRY_CAP = dt.timedelta(hours=6)
USER_AGENT = "Shebao-Webhooks/1"
# Deliveries sent per run of deliver_due, and outbox rows fanned out per token by its sweep.
DUE_BATCH = 100
SWEEP_BATCH = 200
SWEEP_WINDOW = dt.timedelta(days=1)
DUE = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)


# --- the address ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A checked address: where to connect (`address`, one the host resolved to) and what to
    ask for there."""

    scheme: str
    host: str  # the host name (or IP literal) as written, lower case, IDNA-encoded
    port: int
    path: str  # path and query
    address: str  # the IP address connected to

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def _refuse(text: str, code: str, params: dict | None = None) -> ApplicationError:
    """A refusal of the address: `text` translated already, formatted with `params`."""
    return ApplicationError(text % params if params else text, code=code)


def address_refusal(address: str) -> ApplicationError | None:
    """Why a webhook may not go to this IP address (None: it may)."""
    try:
        ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return _refuse(_("回调地址解析出无效的网络地址，请检查回调地址。"), "WEBHOOK_URL_UNRESOLVED")
    embedded: list[ipaddress.IPv4Address] = []
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # ::ffff:a.b.c.d is a.b.c.d
        else:
            if ip.sixtofour is not None:
                embedded.append(ip.sixtofour)
            if ip.teredo is not None:
                embedded.extend(ip.teredo)
    for candidate in (ip, *embedded):
        if candidate.is_loopback:
            if settings.SHEBAO_WEBHOOK_ALLOW_LOOPBACK and candidate is ip:
                continue
            return _refuse(
                _("回调地址指向本机（%(address)s），不能使用；请填写接收系统在互联网上的地址。"),
                "WEBHOOK_URL_LOOPBACK",
                {"address": address},
            )
        if (
            candidate.is_private
            or candidate.is_link_local
            or candidate.is_multicast
            or candidate.is_reserved
            or candidate.is_unspecified
            or not candidate.is_global
        ):
            return _refuse(
                _("回调地址指向内部网络或保留地址（%(address)s），不能使用；请填写接收系统在互联网上的地址。"),
                "WEBHOOK_URL_PRIVATE",
                {"address": address},
            )
    return None


def parse_url(url: str) -> tuple[str, str, int, str]:
    """The scheme, host, port and path of a webhook address, or a refusal (nothing resolved)."""
    url = (url or "").strip()
    if not url:
        raise _refuse(_("请填写回调地址，例如 https://hr.example.com/shebao/webhook。"), "WEBHOOK_URL_EMPTY")
    if len(url) > URL_MAX:
        raise _refuse(_("回调地址最长 %(max)d 个字符，请缩短后重试。"), "WEBHOOK_URL_LENGTH", {"max": URL_MAX})
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise _refuse(_("回调地址中不能有空格或控制字符。"), "WEBHOOK_URL_FORMAT")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise _refuse(
            _("回调地址的格式不正确，请填写完整的网址，例如 https://hr.example.com/webhook。"), "WEBHOOK_URL_FORMAT"
        ) from None
    scheme = parts.scheme.lower()
    allowed = ("https",) if settings.SHEBAO_WEBHOOK_HTTPS_ONLY else ("https", "http")
    if scheme not in allowed:
        if settings.SHEBAO_WEBHOOK_HTTPS_ONLY:
            raise _refuse(_("回调地址必须以 https:// 开头（加密连接）。"), "WEBHOOK_URL_SCHEME")
        raise _refuse(_("回调地址必须以 https:// 或 http:// 开头。"), "WEBHOOK_URL_SCHEME")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise _refuse(_("回调地址中不能包含用户名或密码；请用签名密钥验证请求。"), "WEBHOOK_URL_CREDENTIALS")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise _refuse(_("回调地址缺少主机名，例如 https://hr.example.com/webhook。"), "WEBHOOK_URL_FORMAT")
    if port == 0:
        raise _refuse(_("回调地址的端口号不正确。"), "WEBHOOK_URL_FORMAT")
    try:
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        # An IP literal (IPv6 has colons) is not IDNA; anything else that fails is a bad name.
        try:
            host = str(ipaddress.ip_address(host))
        except ValueError:
            raise _refuse(_("回调地址的主机名不正确。"), "WEBHOOK_URL_FORMAT") from None
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return scheme, host, port or (443 if scheme == "https" else 80), path


def check_url(url: str) -> Target:
    """The address a webhook may be sent to (resolved now), or an ApplicationError."""
    scheme, host, port, path = parse_url(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        infos = []
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise _refuse(
            _("无法解析回调地址的主机名 %(host)s，请检查回调地址。"), "WEBHOOK_URL_UNRESOLVED", {"host": host}
        )
    for address in addresses:  # every one: the name may resolve to any of them next time
        refusal = address_refusal(address)
        if refusal is not None:
            raise refusal
    return Target(scheme, host, port, path, addresses[0].split("%", 1)[0])


# --- the token's webhook (the employer's administrator) -------------------------------------


@dataclass(frozen=True)
class Saved:
    token: ApiToken
    secret: str | None  # a new signing secret, shown once; None: the secret is unchanged


def _token_to_change(employer: Employer, actor: User, token_id: int) -> ApiToken:
    if not tokens.is_admin(actor, employer):
        raise PermissionDenied(_("只有单位管理员可以设置回调。"), code="NOT_ADMIN")
    token = tokens.token_of(employer, token_id, lock=True)
    if not token.is_active:
        raise ApplicationError(_("该令牌已吊销，不能再设置回调。"), code="TOKEN_REVOKED")
    return token


def set_webhook(*, employer: Employer, actor: User, token_id: int, url: str) -> Saved:
    """Set the token's webhook address (checked now); a signing secret is made when it has
    none (rotate_secret makes a new one)."""
    url = (url or "").strip()
    check_url(url)
    with transaction.atomic():
        token = _token_to_change(employer, actor, token_id)
        fields = ["webhook_url"]
        if not token.webhook_url:
            token.webhook_since = timezone.now()
            fields.append("webhook_since")
        token.webhook_url = url
        secret = None
        if not token.webhook_secret:
            secret = token.webhook_secret = tokens.webhook_secret()
            fields.append("webhook_secret")
        token.save(update_fields=fields)
    return Saved(token, secret)


def rotate_secret(*, employer: Employer, actor: User, token_id: int) -> Saved:
    """更换签名密钥: a new secret for the token's webhook; the old one stops working at once."""
    with transaction.atomic():
        token = _token_to_change(employer, actor, token_id)
        if not token.webhook_url:
            raise ApplicationError(_("请先设置回调地址。"), code="WEBHOOK_NOT_SET")
        token.webhook_secret = tokens.webhook_secret()
        token.save(update_fields=["webhook_secret"])
    return Saved(token, token.webhook_secret)


def remove_webhook(*, employer: Employer, actor: User, token_id: int) -> ApiToken:
    """删除回调: nothing more is sent (deliveries waiting are given up when their turn comes);
    the delivery log stays."""
    with transaction.atomic():
        token = _token_to_change(employer, actor, token_id)
        token.webhook_url, token.webhook_secret, token.webhook_since = "", "", None
        token.save(update_fields=["webhook_url", "webhook_secret", "webhook_since"])
    return token


# --- fan-out and delivery ------------------------------------------------------------------------


def new_message_id() -> str:
    return "msg_" + secrets.token_urlsafe(18)


FAN_OUT_TASK = "shebao.api.jobs.webhook_job"


def employer_listens(employer_id: int) -> bool:
    """Whether an active token of the employer has a webhook (asked in the commit of every
    outbox row a webhook tells of: one indexed look-up instead of a job for nobody)."""
    return ApiToken.objects.listening().filter(employer_id=employer_id).exists()


def fan_out(outbox_id: int) -> int:
    """One delivery per active token of the row's employer with a webhook (once: the pair is
    unique), each attempted now; the number attempted."""
    row = Outbox.objects.filter(pk=outbox_id, kind__in=EVENT_TYPES).first()
    if row is None:
        return 0
    listening = ApiToken.objects.listening().filter(employer_id=row.employer_id, webhook_since__lte=row.created_at)
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                token=token,
                outbox=row,
                message_id=new_message_id(),
                event_type=EVENT_TYPES[row.kind],
                url=token.webhook_url,
            )
            for token in listening
        ],
        ignore_conflicts=True,  # a second fan-out (the sweep, a replay) creates nothing
    )
    sent = 0
    for pk in WebhookDelivery.objects.filter(outbox=row, status=DeliveryStatus.PENDING, attempts=0).values_list(
        "pk", flat=True
    ):
        send(pk)
        sent += 1
    return sent


def payload(delivery: WebhookDelivery) -> dict:
    """The JSON body: the event type, when it happened, and the transaction as it is now."""
    row = delivery.outbox
    tx: Transaction | None = row.transaction
    data: dict = {
        "transaction_id": row.transaction_id,
        "serial": row.payload.get("serial", ""),
        "business_type": row.payload.get("business_type", ""),
        "mode": row.payload.get("mode", ""),
        "state": tx.state if tx is not None else "",
        "kind": row.kind,
        "reason": row.payload.get("reason") or "",
        "reasons": [_reason_json(r) for r in row.payload.get("reasons") or [] if isinstance(r, dict) and r.get("code")],
        "counts": counts(tx) if tx is not None else {},
        "url": reverse("api-v1:transaction", kwargs={"tx_id": row.transaction_id}) if row.transaction_id else "",
    }
    return {"type": delivery.event_type, "timestamp": _iso(row.created_at), "data": data}


def _reason_json(stored: dict) -> dict:
    shown = issue_json(Issue.from_dict(stored))
    return {"code": shown["code"], "field": shown["field"], "messages": shown["messages"]}


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def retry_delay(attempts: int) -> dt.timedelta:
    """The wait after the `attempts`-th failed attempt: the first retry's delay, doubling."""
    seconds = settings.SHEBAO_WEBHOOK_FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0)
    return min(dt.timedelta(seconds=seconds), RETRY_CAP)


@dataclass
class Outcome:
    status: int | None = None
    response: str = ""
    error: str = ""

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300 and not self.error


def send(delivery_id: int) -> str:
    """One attempt of a due delivery; its status after it. Never raises: a failure is recorded
    on the delivery (and logged with a reference when it was our own)."""
    try:
        return _send(delivery_id)
    except Exception:
        reference = log_reference(log, "webhook delivery %s failed", delivery_id)
        try:
            # Counted as an attempt, so that an error of ours does not repeat for ever.
            error = (_("发送时出现内部错误（参考编号 %(ref)s）。") % {"ref": reference})[:ERROR_MAX_CHARS]
            query = WebhookDelivery.objects.filter(pk=delivery_id, status__in=DUE)
            query.update(attempts=F("attempts") + 1, last_error=error, last_attempt_at=timezone.now())
            query.filter(attempts__gte=settings.SHEBAO_WEBHOOK_MAX_ATTEMPTS).update(
                status=DeliveryStatus.FAILED, next_attempt_at=None
            )
        except Exception:
            log_reference(log, "webhook delivery %s: recording the failure failed", delivery_id)
        return "error"


def _lease() -> dt.timedelta:
    # Long enough for one attempt: a second sender (the sweep) leaves the delivery alone meanwhile.
    return dt.timedelta(seconds=settings.SHEBAO_WEBHOOK_TIMEOUT_SECONDS * 3 + 30)


def _send(delivery_id: int) -> str:
    now = timezone.now()
    claimed = (
        WebhookDelivery.objects.filter(pk=delivery_id, status__in=DUE)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(next_attempt_at=now + _lease())
    )
    if not claimed:
        return "skipped"  # delivered, given up, not due, or another sender has it
    delivery = WebhookDelivery.objects.select_related("token", "outbox", "outbox__transaction").get(pk=delivery_id)
    token = delivery.token
    if not token.is_active:
        return _give_up(delivery, _("令牌已吊销，不再发送。"))
    if not token.webhook_url or not token.webhook_secret:
        return _give_up(delivery, _("回调已删除，不再发送。"))
    delivery.url = token.webhook_url  # an address corrected since is where a re-send goes
    outcome = attempt(delivery.url, token.webhook_secret, delivery.message_id, payload(delivery))
    return _record(delivery, outcome)


def _give_up(delivery: WebhookDelivery, reason: str) -> str:
    delivery.status, delivery.next_attempt_at, delivery.last_error = DeliveryStatus.FAILED, None, reason
    delivery.save(update_fields=["status", "next_attempt_at", "last_error"])
    return delivery.status


def _record(delivery: WebhookDelivery, outcome: Outcome) -> str:
    now = timezone.now()
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.last_status = outcome.status
    delivery.last_response = outcome.response[:RESPONSE_MAX_CHARS]
    delivery.last_error = outcome.error[:ERROR_MAX_CHARS]
    if outcome.delivered:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = DeliveryStatus.DELIVERED, now, None
    elif delivery.attempts >= settings.SHEBAO_WEBHOOK_MAX_ATTEMPTS:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
    else:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.RETRYING, now + retry_delay(delivery.attempts)
    delivery.save(
        update_fields=[
            "url",
            "attempts",
            "last_attempt_at",
            "last_status",
            "last_response",
            "last_error",
            "status",
            "delivered_at",
            "next_attempt_at",
        ]
    )
    return delivery.status


def signed_headers(secret: str, message_id: str, body: str, at: dt.datetime) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, at.astimezone(dt.UTC), body),
    }


def attempt(url: str, secret: str, message_id: str, body_json: dict) -> Outcome:
    """POST the signed body to the checked address of `url`: the response, or why there was none."""
    try:
        target = check_url(url)
    except ApplicationError as refusal:
        return Outcome(error=refusal.message)
    body = json.dumps(body_json, ensure_ascii=False, separators=(",", ":"))
    headers = {
        **signed_headers(secret, message_id, body, timezone.now()),
        "Host": target.host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }
    seconds = settings.SHEBAO_WEBHOOK_TIMEOUT_SECONDS
    timeout = urllib3.Timeout(connect=seconds, read=seconds)
    pool: urllib3.HTTPConnectionPool
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            host=target.address,
            port=target.port,
            timeout=timeout,
            retries=False,
            cert_reqs="CERT_REQUIRED",
            server_hostname=target.host,
            assert_hostname=target.host,
        )
    else:
        pool = urllib3.HTTPConnectionPool(host=target.address, port=target.port, timeout=timeout, retries=False)
    try:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body.encode("utf-8"),
            headers=headers,
            redirect=False,
            retries=False,
            preload_content=False,
            assert_same_host=False,
        )
        try:
            raw = response.read(RESPONSE_MAX_CHARS * 4, decode_content=True)
        finally:
            response.release_conn()
        text = raw.decode("utf-8", "replace")[:RESPONSE_MAX_CHARS]
        status = response.status
    except urllib3.exceptions.HTTPError as error:
        return Outcome(error=_connection_error(error))
    except OSError as error:
        return Outcome(error=_("连接回调地址失败：%(error)s") % {"error": error})
    finally:
        pool.close()
    if 300 <= status < 400:
        return Outcome(
            status, text, _("回调地址返回了重定向（%(status)d），不跟随重定向；请填写最终的地址。") % {"status": status}
        )
    if not 200 <= status < 300:
        return Outcome(status, text, _("回调地址返回了 HTTP %(status)d。") % {"status": status})
    return Outcome(status, text)


def _connection_error(error: urllib3.exceptions.HTTPError) -> str:
    # NewConnectionError (refused, unreachable) is a ConnectTimeoutError in urllib3: asked first.
    if isinstance(error, urllib3.exceptions.TimeoutError) and not isinstance(
        error, urllib3.exceptions.NewConnectionError
    ):
        return _("回调地址在 %(seconds)s 秒内没有响应。") % {"seconds": f"{settings.SHEBAO_WEBHOOK_TIMEOUT_SECONDS:g}"}
    if isinstance(error, urllib3.exceptions.SSLError):
        return _("与回调地址建立加密连接失败（证书无效或与主机名不符）。")
    reason = getattr(error, "reason", None) or error
    return _("连接回调地址失败：%(error)s") % {"error": reason}


def deliver_due(now: dt.datetime | None = None) -> int:
    """The schedule's run: outbox rows of the last day with no delivery yet for a token that
    listens (their queued fan-out was lost), then every delivery due, a batch at a time."""
    now = now or timezone.now()
    count = 0
    listening = ApiToken.objects.listening().filter(webhook_since__isnull=False)
    for token in listening.only("pk", "employer_id", "webhook_since"):
        since = max(now - SWEEP_WINDOW, token.webhook_since)
        missed = (
            Outbox.objects.filter(employer_id=token.employer_id, kind__in=EVENT_TYPES, created_at__gte=since)
            .exclude(pk__in=WebhookDelivery.objects.filter(token_id=token.pk).values("outbox_id"))
            .order_by("id")
            .values_list("pk", flat=True)[:SWEEP_BATCH]
        )
        for outbox_id in list(missed):
            count += fan_out(outbox_id)
    due = (
        WebhookDelivery.objects.filter(status__in=DUE)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:DUE_BATCH]
    )
    for pk in list(due):
        if send(pk) != "skipped":
            count += 1
    return count


# --- the pages' queries and actions ------------------------------------------------------------


def deliveries_of(token: ApiToken) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(token=token).select_related("outbox", "outbox__transaction").order_by("-id")


def prune(now: dt.datetime | None = None) -> int:
    """Deliveries ended (送达 or 已放弃) more than SHEBAO_WEBHOOK_KEEP_DAYS ago: run daily with
    the counters and keys. One waiting or retrying is kept, however old, and so is one sent
    again (重新发送) since."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=settings.SHEBAO_WEBHOOK_KEEP_DAYS)
    deleted, _ = (
        WebhookDelivery.objects.filter(status__in=(DeliveryStatus.DELIVERED, DeliveryStatus.FAILED))
        .filter(Q(last_attempt_at__lt=cutoff) | Q(last_attempt_at__isnull=True, created_at__lt=cutoff))
        .delete()
    )
    return deleted


def resend(*, employer: Employer, actor: User, delivery_id: int, token_id: int) -> WebhookDelivery:
    """重新发送: the delivery is due again now, with the same webhook-id (a receiver that took it
    already recognises it), and a fresh count of attempts; queued on the outbox cluster."""
    if not tokens.is_admin(actor, employer):
        raise PermissionDenied(_("只有单位管理员可以重新发送回调。"), code="NOT_ADMIN")
    query = WebhookDelivery.objects.filter(pk=delivery_id, token__employer=employer, token_id=token_id)
    with transaction.atomic():
        delivery = query.select_for_update(of=("self",)).select_related("token").first()
        if delivery is None:
            raise NotFound(_("未找到该投递记录。"), code="NOT_FOUND")
        if not delivery.token.is_active:
            raise ApplicationError(_("该令牌已吊销，不能重新发送。"), code="TOKEN_REVOKED")
        if not delivery.token.webhook_url:
            raise ApplicationError(_("该令牌的回调已删除，请先设置回调地址。"), code="WEBHOOK_NOT_SET")
        delivery.status, delivery.attempts, delivery.next_attempt_at = DeliveryStatus.PENDING, 0, None
        delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
        queue_send(delivery.pk)
    return delivery


SEND_TASK = "shebao.api.jobs.send_job"


def queue_send(delivery_id: int) -> None:
    """send() of one delivery on the outbox cluster, queued in the caller's commit."""
    from django_q.tasks import async_task

    async_task(SEND_TASK, delivery_id, cluster=settings.Q_OUTBOX, task_name=f"webhook-{delivery_id}", group="webhooks")
