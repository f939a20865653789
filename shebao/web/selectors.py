"""Read-only queries behind the employer pages. Task lists are selectors over state."""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, Min, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from shebao.register.models import ContributionBase, Person, RelationStatus
from shebao.workflow.models import DONE_STATES, TODO_STATES, Item, ItemStatus, Transaction


def task_list(
    employer,
    *,
    done: bool,
    business_type: str = "",
    serial: str = "",
    person: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[Transaction]:
    query = Transaction.objects.filter(employer=employer, state__in=DONE_STATES if done else TODO_STATES)
    if business_type:
        query = query.filter(business_type=business_type)
    if serial:
        query = query.filter(serial__startswith=serial.strip())
    if person:
        # 姓名 or 证件号码 of a row of the transaction (a row deleted from a batch is not its own).
        rows = Item.objects.filter(transaction=OuterRef("pk")).exclude(status=ItemStatus.DELETED)
        query = query.filter(Exists(rows.filter(Q(name=person) | Q(id_number=person.upper()))))
    tz = timezone.get_current_timezone()
    # Midnight in Asia/Shanghai of the first and last days of the calendar is not a UTC
    # datetime (0001-01-01 08:00 is the first): such a bound excludes nothing, so it is left out.
    if date_from and date_from > dt.date.min:
        query = query.filter(created_at__gte=dt.datetime.combine(date_from, dt.time.min, tz))
    if date_to and date_to < dt.date.max - dt.timedelta(days=1):
        query = query.filter(created_at__lt=dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tz))
    # Only what a task-list row shows: instantiating 40 full rows cost more than the query.
    return query.order_by("-id").only(
        "id",
        "serial",
        "business_type",
        "mode",
        "state",
        "returned",
        "return_reasons",
        "total_count",
        "created_at",
        "saved_at",
        "submitted_at",
        "applied_count",
        "audit_failed_count",
        "import_failed_count",
    )


def contributing_persons(employer, search: str = "") -> QuerySet[Person]:
    """Persons contributing at the employer, with their start month and latest base."""
    query = Person.objects.filter(relations__employer=employer, relations__status=RelationStatus.CONTRIBUTING)
    search = (search or "").strip()
    if search:
        query = query.filter(id_number__startswith=search.upper()) | query.filter(name__contains=search)
    latest_base = ContributionBase.objects.filter(person=OuterRef("pk"), employer=employer).order_by("-year")
    return (
        query.annotate(
            start_month=Min("relations__start_month"),
            base=Subquery(latest_base.values("base")[:1]),
            base_year=Subquery(latest_base.values("year")[:1]),
        )
        .order_by("name", "id")
        .defer("photo")
    )
