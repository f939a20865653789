"""Delivery of the outbox (workflow/outbox.py) as messages, and the message centre's actions.

deliver() is idempotent: every recipient's message is unique per outbox row, so the queued
job, the sweeper and any replay of the same row create each message once, and send its
e-mail (to a recipient who asked for e-mail) once, after the commit that created it.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from shebao.accounts.models import Membership, Role, User
from shebao.core.errors import ApplicationError
from shebao.inbox import texts
from shebao.inbox.models import Audience, Message, Preference
from shebao.workflow import outbox
from shebao.workflow.models import Mode, Outbox

log = logging.getLogger(__name__)

SWEEP_BATCH = 500


def recipients(row: Outbox) -> list[tuple[User, str]]:
    """Who is told: the employer's active operators; for a transaction entering the queue, the
    clerks of the employer's district office (and the operators only when a batch's audit ended)."""
    people: list[tuple[User, str]] = []
    to_operators = row.kind != outbox.TO_REVIEW or row.payload.get("mode") == Mode.BATCH
    if to_operators:
        memberships = Membership.objects.filter(
            employer_id=row.employer_id, active=True, user__is_active=True, user__role=Role.OPERATOR
        ).select_related("user")
        people += [(m.user, Audience.OPERATOR) for m in memberships.order_by("user_id")]
    if row.kind == outbox.TO_REVIEW:
        clerks = User.objects.filter(role=Role.CLERK, is_active=True, office_id=row.employer.office_id)
        people += [(clerk, Audience.CLERK) for clerk in clerks.order_by("pk")]
    return people


def deliver(outbox_id: int) -> int:
    """The messages of one outbox row; the number created now (0 when delivered already)."""
    with transaction.atomic():
        row = Outbox.objects.select_for_update(of=("self",)).select_related("employer").filter(pk=outbox_id).first()
        if row is None:
            return 0
        have = set(Message.objects.filter(outbox=row).values_list("recipient_id", flat=True))
        new = [
            Message(
                outbox=row,
                recipient=user,
                audience=audience,
                employer_id=row.employer_id,
                transaction_id=row.transaction_id,
                kind=row.kind,
            )
            for user, audience in recipients(row)
            if user.pk not in have
        ]
        # The unique key is the guarantee; ignore_conflicts lets a racing delivery lose quietly.
        Message.objects.bulk_create(new, ignore_conflicts=True)
        if row.delivered_at is None:
            Outbox.objects.filter(pk=row.pk).update(delivered_at=timezone.now())
        wanted = set(
            Preference.objects.filter(user_id__in=[m.recipient_id for m in new], email=True).values_list(
                "user_id", flat=True
            )
        )
        mail_to = [m.recipient_id for m in new if m.recipient_id in wanted and m.recipient.email]
        if mail_to:
            transaction.on_commit(lambda: send_emails(row.pk, mail_to))
    return len(new)


def deliver_pending() -> int:
    """The sweeper: every row whose queued delivery has not run (or was lost)."""
    count = 0
    for pk in (
        Outbox.objects.filter(delivered_at__isnull=True).order_by("id").values_list("pk", flat=True)[:SWEEP_BATCH]
    ):
        count += deliver(pk)
    return count


def send_emails(outbox_id: int, user_ids: list[int]) -> int:
    """One e-mail per message not e-mailed yet, in the site's language; emailed_at marks it sent."""
    sent = 0
    messages = Message.objects.filter(outbox_id=outbox_id, recipient_id__in=user_ids, emailed_at__isnull=True)
    for message in messages.select_related("outbox", "recipient", "employer", "transaction"):
        with translation.override(settings.LANGUAGE_CODE):
            subject = _("【社会保险网上办事大厅】%(title)s") % {"title": texts.title(message)}
            lines = [texts.title(message), texts.subject(message), *texts.body(message)]
            link = link_of(message)
            if link:
                lines += ["", _("查看业务：%(url)s") % {"url": settings.SHEBAO_SITE_URL.rstrip("/") + link}]
            lines += ["", _("您可在消息中心的通知设置中关闭邮件通知。")]
        # Marked first: an e-mail is never sent twice, even if the server accepted it and then the
        # connection broke (a lost e-mail is in the message centre anyway).
        if not Message.objects.filter(pk=message.pk, emailed_at__isnull=True).update(emailed_at=timezone.now()):
            continue
        try:
            send_mail(subject, "\n".join(lines), None, [message.recipient.email])
            sent += 1
        except Exception:
            log.exception("e-mail of message %s to user %s failed", message.pk, message.recipient_id)
    return sent


# --- the pages' queries and actions ---------------------------------------------------------------


def messages_of(user: User, employer=None):
    """The messages addressed to `user`: an operator's for the employer chosen at login, a
    clerk's as a clerk. Unread first, newest first."""
    query = Message.objects.filter(recipient=user)
    if employer is not None:
        query = query.filter(audience=Audience.OPERATOR, employer=employer)
    else:
        query = query.filter(audience=Audience.CLERK)
    return query


def unread_count(user: User, employer=None) -> int:
    return messages_of(user, employer).filter(read_at__isnull=True).count()


def mark_read(message: Message) -> None:
    if message.read_at is None:
        Message.objects.filter(pk=message.pk, read_at__isnull=True).update(read_at=timezone.now())


def mark_all_read(user: User, employer=None) -> int:
    return messages_of(user, employer).filter(read_at__isnull=True).update(read_at=timezone.now())


def link_of(message: Message) -> str:
    """The page of the message's transaction for its reader ('' when there is none)."""
    if message.transaction_id is None:
        return ""
    if message.audience == Audience.CLERK:
        return reverse("backoffice:detail", kwargs={"pk": message.transaction_id})
    return reverse("web:tx_detail", kwargs={"pk": message.transaction_id})


def email_wanted(user: User) -> bool:
    return Preference.objects.filter(user=user, email=True).exists()


def set_email_preference(user: User, *, wanted: bool, address: str) -> None:
    """通知设置: e-mail on or off, and the address it goes to (required when on)."""
    address = (address or "").strip()
    if address:
        if len(address) > 254:
            raise ApplicationError(_("电子邮箱过长，请检查后重新填写。"), code="EMAIL_INVALID")
        try:
            validate_email(address)
        except ValidationError:
            raise ApplicationError(
                _("电子邮箱格式不正确，请填写如 name@example.com 的地址。"), code="EMAIL_INVALID"
            ) from None
    elif wanted:
        raise ApplicationError(_("接收邮件通知须填写电子邮箱。"), code="EMAIL_REQUIRED")
    with transaction.atomic():
        if address != user.email:
            User.objects.filter(pk=user.pk).update(email=address)
            user.email = address
        Preference.objects.update_or_create(user=user, defaults={"email": wanted})
