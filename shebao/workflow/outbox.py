"""The transactional outbox: the events others are told about (the message centre, webhooks).

One choke point writes it: `services.log_event`, through which every transition passes, calls
`from_event` inside the caller's database transaction, so an outbox row exists exactly when
the change that caused it was committed. The same commit queues its delivery on the outbox
cluster (django-q2's ORM broker writes the queue row through our connection); a schedule
sweeps rows still undelivered (`DELIVERY_TASK`'s app, shebao.inbox, owns both jobs). A row
that another app listens to (`listen`: the API's webhooks) also queues that app's job on the
same cluster, for an employer that listens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction

from shebao.workflow.models import Event, Mode, Outbox, State, Transaction

# The job that turns one outbox row into messages (by name: the engine imports no app above it).
DELIVERY_TASK = "shebao.inbox.jobs.deliver_job"

# What an event is, for the outside world. (action, from_state) → kind; None: any from_state.
FINISHED = "finished"  # automatic audit passed: the transaction took effect
APPROVED = "approved"  # a clerk approved it
CLERK_RETURNED = "clerk_returned"  # a clerk returned it, with a reason
RETURNED = "returned"  # the automatic audit returned it (every row failed, or the job failed)
TO_REVIEW = "to_review"  # it entered a clerk's queue (for the employer: a batch's audit ended)
IMPORTED = "imported"  # a batch's import ended: a draft with counts
IMPORT_FAILED = "import_failed"  # a batch's import job was given up
IMPORT_REFUSED = "import_refused"  # the worker found the file unreadable: cancelled
EXPIRED = "expired"  # a draft cancelled automatically
AGENCY_CANCELLED = "agency_cancelled"  # a clerk or administrator cancelled it
EXPIRY_WARNING = "expiry_warning"  # a draft will be cancelled automatically soon

KINDS: dict[tuple[str, str | None], str] = {
    ("audit_passed", None): FINISHED,
    ("approve", None): APPROVED,
    ("return", None): CLERK_RETURNED,
    ("audit_returned", None): RETURNED,
    ("audit_failed", None): RETURNED,
    ("to_review", None): TO_REVIEW,
    ("import", State.IMPORTING): IMPORTED,
    ("import_failed", None): IMPORT_FAILED,
    ("cancel", State.IMPORTING): IMPORT_REFUSED,
    ("expire", None): EXPIRED,
    ("agency_cancel", None): AGENCY_CANCELLED,
}


def kind_of(action: str, from_state: str) -> str | None:
    return KINDS.get((action, from_state)) or KINDS.get((action, None))


def from_event(tx: Transaction, event: Event) -> Outbox | None:
    """The outbox row of an event worth telling (None for the others), in the caller's commit."""
    kind = kind_of(event.action, event.from_state)
    if kind is None:
        return None
    detail = event.detail or {}
    payload = {
        "serial": tx.serial or "",
        "business_type": tx.business_type,
        "mode": tx.mode,
        "reason": event.reason,
        "reasons": detail.get("reasons") or tx.return_reasons or [],
    }
    for name in ("applied", "failed", "total", "import_failed"):
        if isinstance(detail.get(name), int):
            payload[name] = detail[name]
    if kind == TO_REVIEW and tx.mode == Mode.BATCH:
        payload["passed"] = tx.audit_passed_count
        payload["failed"] = tx.audit_failed_count
    return record(kind, tx, key=f"event:{event.pk}", payload=payload, event=event)


def record(kind: str, tx: Transaction, *, key: str, payload: dict, event: Event | None = None) -> Outbox | None:
    """Write one outbox row and queue its delivery, both in the caller's database transaction.
    A key written already is left alone (None): writing twice tells nothing twice."""
    try:
        with transaction.atomic():
            row = Outbox.objects.create(
                key=key, kind=kind, employer_id=tx.employer_id, transaction=tx, event=event, payload=payload
            )
    except IntegrityError:
        if Outbox.objects.filter(key=key).exists():
            return None
        raise
    enqueue(row.pk, kind, tx.employer_id)
    return row


@dataclass(frozen=True)
class Listener:
    """An app above the engine told of some kinds of outbox rows (the API's webhooks): its job
    is queued with the row, in the row's commit, when `wanted(employer_id)` says that employer
    listens at all, so that an employer with no listener costs no job. The app registers it
    when it starts (`listen`), as business types register with the registry."""

    kinds: frozenset[str]
    wanted: Callable[[int], bool]
    task: str  # the job's dotted name; it gets the outbox row's id


_LISTENERS: list[Listener] = []


def listen(listener: Listener) -> None:
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)


def enqueue(outbox_id: int, kind: str, employer_id: int) -> None:
    from django_q.tasks import async_task

    # On the outbox cluster, apart from the audits: a delivery never delays a single audit,
    # and a slow webhook receiver holds up nothing but other deliveries.
    async_task(DELIVERY_TASK, outbox_id, cluster=settings.Q_OUTBOX, task_name=f"outbox-{outbox_id}", group="outbox")
    for listener in _LISTENERS:
        if kind in listener.kinds and listener.wanted(employer_id):
            async_task(
                listener.task, outbox_id, cluster=settings.Q_OUTBOX, task_name=f"{kind}-{outbox_id}", group="outbox"
            )
