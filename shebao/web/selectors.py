"""Read-only queries behind the employer pages. Task lists are selectors over state."""

from __future__ import annotations

import datetime as dt

from django.db.models import Case, CharField, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils import timezone

from shebao.core.choices import ALL_INSURANCE
from shebao.register.models import ContributionBase, Person, Relation, RelationStatus, Retiree
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


def employer_persons(employer, search: str = "", status: str = "") -> QuerySet[Person]:
    """Every person with a relation at the employer, in pinyin order of the name, with their
    status here (`here_status`): 参保缴费 while one insurance contributes here, else 终止 when
    one was terminated here (退休, 死亡), else 暂停缴费. `status` keeps one of them (blank: all)."""
    here = Relation.objects.filter(person=OuterRef("pk"), employer=employer)
    query = Person.objects.filter(Exists(here))
    search = (search or "").strip()
    if search:
        query = query.filter(Q(id_number__startswith=search.upper()) | Q(name__contains=search))
    when = [
        When(Exists(here.filter(status=code)), then=Value(code))
        for code in (RelationStatus.CONTRIBUTING.value, RelationStatus.TERMINATED.value)
    ]
    query = query.annotate(
        here_status=Case(
            *when,
            default=Value(RelationStatus.SUSPENDED.value),
            output_field=CharField(),
        )
    )
    if status:
        query = query.filter(here_status=status)
    # The latest year's base, of the first insurance type in the catalogue's order (养老 when
    # the person has it); the person page lists the base of every type.
    type_order = Case(
        *(When(insurance_type=code, then=Value(n)) for n, code in enumerate(ALL_INSURANCE)),
        default=Value(len(ALL_INSURANCE)),
        output_field=IntegerField(),
    )
    latest_base = (
        ContributionBase.objects.filter(person=OuterRef("pk"), employer=employer)
        .annotate(type_order=type_order)
        .order_by("-year", "type_order")
    )
    return (
        query.annotate(
            base=Subquery(latest_base.values("base")[:1]),
            base_year=Subquery(latest_base.values("year")[:1]),
        )
        .order_by("name_key", "name", "id")
        .defer("photo")
    )


def attach_relations(persons, employer) -> None:
    """Per person of the list, from their relations here in the status the list shows: the
    insurance types (`insurance_types`, codes in the catalogue's order), the first start month
    (`start_month`), and for a person no longer contributing the last 停保年月 (`end_month`)
    and its 减员原因 code (`end_reason`). One query for the page."""
    by_person: dict[int, list[Relation]] = {}
    persons = list(persons)
    rows = Relation.objects.filter(employer=employer, person__in=[p.pk for p in persons]).order_by("start_month", "id")
    for rel in rows.only("person_id", "insurance_type", "status", "start_month", "end_month", "end_reason"):
        by_person.setdefault(rel.person_id, []).append(rel)
    order = {code: n for n, code in enumerate(ALL_INSURANCE)}
    for person in persons:
        rels = [r for r in by_person.get(person.pk, []) if r.status == person.here_status]
        person.insurance_types = sorted({r.insurance_type for r in rels}, key=lambda c: order.get(c, 99))
        person.start_month = min((r.start_month for r in rels), default=None)
        ended = [r for r in rels if r.end_month]
        last = max(ended, key=lambda r: (r.end_month, r.pk), default=None)
        person.end_month = last.end_month if last else None
        person.end_reason = last.end_reason if last else ""


def person_history(person: Person, employer) -> dict:
    """The employer's history with a person: every relation here (an enrolment, and its
    suspension or termination with 停保年月 and 减员原因), the bases by year (latest first),
    and the employer's transactions whose row for the person took effect (latest first)."""
    relations = list(
        Relation.objects.filter(person=person, employer=employer)
        .select_related("started_by", "ended_by")
        .only(
            "insurance_type",
            "status",
            "start_month",
            "end_month",
            "end_reason",
            "started_by__id",
            "started_by__serial",
            "ended_by__id",
            "ended_by__serial",
        )
        .order_by("start_month", "id")
    )
    order = {code: n for n, code in enumerate(ALL_INSURANCE)}
    relations.sort(key=lambda r: (r.start_month, order.get(r.insurance_type, 99), r.pk))
    bases = sorted(
        ContributionBase.objects.filter(person=person, employer=employer),
        key=lambda b: (-b.year, order.get(b.insurance_type, 99), b.pk),
    )
    items = (
        Item.objects.filter(id_key=person.id_key, applied=True, transaction__employer=employer)
        .select_related("transaction")
        .only(
            "data",
            "transaction__id",
            "transaction__serial",
            "transaction__business_type",
            "transaction__mode",
            "transaction__finished_at",
        )
        .order_by("-transaction__finished_at", "-transaction_id")
    )
    return {"relations": relations, "bases": bases, "transactions": [(item.transaction, item) for item in items]}


def employer_retirees(employer, search: str = "") -> QuerySet[Retiree]:
    """退休人员: the persons whose retirement this employer declared, the latest first, with
    their benefit items."""
    query = Retiree.objects.filter(employer=employer).select_related("person", "transaction")
    search = (search or "").strip()
    if search:
        query = query.filter(Q(person__id_number__startswith=search.upper()) | Q(person__name__contains=search))
    return query.prefetch_related("benefits").order_by("-retire_month", "-id")
