"""The one re-base engine (DOMAIN §5a, §7): a year's bases change, and every month of it whose
lines already exist gets an adjustment line (补差).

Two causes use it:
- a finished 个人工资年度申报: its new bases are written (``declare``) and the months of the
  year from the base month on are adjusted, in the declaration's own database transaction;
- an administrator publishing a year's base limits that had been provisional
  (``publish_limits``): the bases of that year and type computed on another year's limits are
  re-clamped from their stored declared wage, and the months from the new row's 生效年月 on
  are adjusted, in the background.

An adjustment for a person, employer, month, type and part is
``fen(new base × that month's rate) − everything already charged for it`` (every line that is
not voided, earlier adjustments included): re-running never drifts by a fen, and a second
re-base of the same month (a corrected declaration) charges only the difference that is
left. A negative difference is dropped unless the parameter ``refund_negative_adjustment`` is
1. Existing lines are never edited; an adjustment names its re-base (and the declaration's
transaction), and the lines' uniqueness allows one adjustment per re-base and month, so a
re-base resumed after a crash adds nothing twice.

On PostgreSQL each chunk of persons is one INSERT … SELECT (set-based, the memory of the
process bounded by the chunk); elsewhere the same rule in Python per chunk. The tests of
both paths are the same hand-computed cases, run on SQLite and on PostgreSQL.

The new base of a month is the one of ``assessment.month_base``: the year's base, or until
the year is declared the latest earlier declared wage clamped to the year's limits.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from contextlib import nullcontext
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from shebao.core.choices import ALL_INSURANCE
from shebao.core.money import fen
from shebao.core.months import add_months, month_start
from shebao.employers.models import Employer
from shebao.params.models import BaseLimit
from shebao.params.services import ParamSnapshot
from shebao.register.assessment import BASED, LINE_COLUMNS, Pricing, Triple, YearBases
from shebao.register.contributions import base_for, base_rows, upsert_bases
from shebao.register.models import (
    ContributionBase,
    ContributionLine,
    LineKind,
    Rebase,
    RebaseCause,
    RebaseState,
    Relation,
)

log = logging.getLogger(__name__)

CHUNK_PERSONS = 2000


def months_of(rebase: Rebase) -> list[dt.date]:
    month, last = month_start(rebase.from_month), dt.date(rebase.year, 12, 1)
    months = []
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months


# --- the declaration -----------------------------------------------------------------------


def declare(
    *,
    tx,
    employer,
    year: int,
    from_month: dt.date,
    wages: dict[int, Decimal],
    params: ParamSnapshot,
    carried_over: bool = False,
) -> Rebase:
    """A finished declaration: each person's base of `year` per insurance type they have at
    the employer becomes the declared wage clamped to that type's limits of the year, and the
    year's months from `from_month` on are adjusted, all in the caller's transaction.
    `carried_over`: 沿用 at the window's close (no transaction; the bases say so)."""
    rebase = Rebase.objects.create(
        cause=RebaseCause.CARRY_OVER if carried_over else RebaseCause.DECLARATION,
        year=year,
        from_month=month_start(from_month),
        transaction=tx,
    )
    types_of: dict[int, set[str]] = defaultdict(set)
    for person_id, itype in Relation.objects.filter(employer=employer, person_id__in=list(wages)).values_list(
        "person_id", "insurance_type"
    ):
        types_of[person_id].add(itype)
    now = timezone.now()
    rows = []
    for person_id, wage in wages.items():
        rows += base_rows(
            params,
            person_id=person_id,
            employer_id=employer.pk,
            year=year,
            insurance_types=sorted(types_of.get(person_id, ())),
            wage=wage,
            transaction_id=tx.pk if tx is not None else None,
            stamp=now,
            carried_over=carried_over,
        )
    upsert_bases(rows)
    triples = {(person_id, employer.pk, itype) for person_id, _e, _y, itype, *_rest in rows}
    written = adjust(rebase, triples, params)
    Rebase.objects.filter(pk=rebase.pk).update(
        state=RebaseState.FINISHED,
        total=len(triples),
        done=len(triples),
        bases_changed=len(rows),
        lines_written=written,
        finished_at=timezone.now(),
    )
    rebase.refresh_from_db()
    return rebase


# --- the publication of limits --------------------------------------------------------------


def publish_limits(row: BaseLimit) -> Rebase | None:
    """An administrator saved a year's limits row: when bases or lines of that year and type
    were computed on another year's limits (provisional), or on an older row of the year, a
    re-base is queued (in the caller's commit) and returned."""
    year, itype = row.year, row.insurance_type
    from_month = max(month_start(row.effective_from), dt.date(year, 1, 1))
    stale_bases = ContributionBase.objects.filter(year=year, insurance_type=itype).exclude(limits_id=row.pk)
    stale_lines = ContributionLine.objects.filter(
        month__gte=from_month, month__lte=dt.date(year, 12, 1), insurance_type=itype, voided_by__isnull=True
    ).filter(Q(provisional=True) | ~Q(limits_id=row.pk))
    if not stale_bases.exists() and not stale_lines.exists():
        return None
    rebase = Rebase.objects.create(cause=RebaseCause.LIMITS, year=year, from_month=from_month, limits=row)
    from django_q.tasks import async_task

    transaction.on_commit(
        lambda: async_task(
            "shebao.register.jobs.rebase_job",
            rebase.pk,
            cluster=settings.Q_LONG,
            task_name=f"rebase-{rebase.pk}",
            group="rebase",
        )
    )
    return rebase


def run_limits_rebase(rebase_id: int, *, chunk: int = CHUNK_PERSONS) -> Rebase:
    """The background part of a publication: the year's bases of the type re-clamped from
    their declared wage, then the adjustments, persons in chunks, the state flip last; a
    chunk done is found done again on a resumed run."""
    rebase = Rebase.objects.select_related("limits").get(pk=rebase_id)
    if rebase.state == RebaseState.FINISHED:
        return rebase
    row = rebase.limits
    assert row is not None, "a publication names its limits row"
    try:
        params = ParamSnapshot.load()
        limits = params.base_limits(rebase.year, row.insurance_type)
        persons = sorted(
            set(
                ContributionBase.objects.filter(year=rebase.year, insurance_type=row.insurance_type).values_list(
                    "person_id", flat=True
                )
            )
            | set(
                ContributionLine.objects.filter(
                    month__gte=rebase.from_month,
                    month__lte=dt.date(rebase.year, 12, 1),
                    insurance_type=row.insurance_type,
                    voided_by__isnull=True,
                ).values_list("person_id", flat=True)
            )
        )
        Rebase.objects.filter(pk=rebase.pk).update(total=len(persons), state=RebaseState.RUNNING, error="")
        # PostgreSQL: the whole publication in one database transaction (all or nothing; each
        # chunk is one statement, so memory stays bounded). SQLite, whose single writer must
        # not be held that long: chunks committed one by one, the state flip last.
        whole = transaction.atomic() if connection.vendor == "postgresql" else nullcontext()
        with whole:
            for start in range(0, len(persons), chunk):
                part = persons[start : start + chunk]
                with transaction.atomic():
                    changed = _reclamp(rebase, row.insurance_type, part, limits)
                    triples = _triples_with_lines(rebase, row.insurance_type, part)
                    written = adjust(rebase, triples, params)
                    Rebase.objects.filter(pk=rebase.pk).update(
                        done=start + len(part),
                        bases_changed=F("bases_changed") + changed,
                        lines_written=F("lines_written") + written,
                    )
            Rebase.objects.filter(pk=rebase.pk).update(state=RebaseState.FINISHED, finished_at=timezone.now())
    except Exception as error:
        Rebase.objects.filter(pk=rebase.pk).update(state=RebaseState.FAILED, error=repr(error)[:2000])
        log.exception("re-base %s failed", rebase.pk)
        raise
    rebase.refresh_from_db()
    return rebase


def _reclamp(rebase: Rebase, itype: str, persons: list[int], limits) -> int:
    if limits is None:
        return 0
    changed = []
    for base in ContributionBase.objects.filter(year=rebase.year, insurance_type=itype, person_id__in=persons):
        new = base_for(limits, base.declared_wage)
        if (base.base, base.limits_id, base.provisional) != (new, limits.row_id, limits.provisional):
            base.base, base.limits_id, base.provisional = new, limits.row_id, limits.provisional
            changed.append(base)
    ContributionBase.objects.bulk_update(changed, ["base", "limits", "provisional"], batch_size=1000)
    return len(changed)


def _triples_with_lines(rebase: Rebase, itype: str, persons: list[int]) -> set[Triple]:
    return set(
        ContributionLine.objects.filter(
            person_id__in=persons,
            insurance_type=itype,
            month__gte=rebase.from_month,
            month__lte=dt.date(rebase.year, 12, 1),
            voided_by__isnull=True,
        ).values_list("person_id", "employer_id", "insurance_type")
    )


# --- the adjustments -------------------------------------------------------------------------


def adjust(rebase: Rebase, triples: set[Triple], params: ParamSnapshot) -> int:
    """Write the adjustment lines of `triples` for the re-base's months (those that have
    lines already), in the caller's transaction; returns how many were written."""
    if not triples:
        return 0
    months = months_of(rebase)
    refund = params.setting_int("refund_negative_adjustment", months[0]) == 1
    persons = sorted({p for p, _e, _t in triples})
    written = 0
    for start in range(0, len(persons), CHUNK_PERSONS):
        part = set(persons[start : start + CHUNK_PERSONS])
        mine = {t for t in triples if t[0] in part}
        written += _adjust_chunk(rebase, mine, months, params, refund)
    return written


def _adjust_chunk(
    rebase: Rebase, triples: set[Triple], months: list[dt.date], params: ParamSnapshot, refund: bool
) -> int:
    if connection.vendor == "postgresql":
        return _adjust_sql(rebase, triples, months, params, refund)
    return _adjust_python(rebase, triples, months, params, refund)


def _adjust_sql(
    rebase: Rebase, triples: set[Triple], months: list[dt.date], params: ParamSnapshot, refund: bool
) -> int:
    """The same rule as _adjust_python, as one INSERT … SELECT for the chunk (PostgreSQL)."""
    ordered = sorted(triples)
    lim_rows = [
        (t, lim.floor, lim.ceiling, lim.row_id, lim.provisional)
        for t in ALL_INSURANCE
        if (lim := params.base_limits(rebase.year, t)) is not None
    ] or [("", Decimal(0), Decimal(0), None, False)]
    rate_rows = []
    for month in months:
        pricing = Pricing.of(params, month)
        rate_rows += [
            (itype, month, risk, flt, pair.employer, pair.personal, pair.rate_id, pair.injury_rate_id)
            for (itype, risk, flt), pair in pricing.rates.items()
        ]
    if not rate_rows:
        return 0
    sql = f"""
    WITH t(person_id, employer_id, insurance_type) AS (
        SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::varchar[])
    ),
    lim(itype, floor, ceiling, limits_id, provisional) AS (
        SELECT * FROM unnest(%s::varchar[], %s::numeric[], %s::numeric[], %s::bigint[], %s::boolean[])
    ),
    rt(itype, month, risk_class, float_percent, er, pr, rate_id, injury_rate_id) AS (
        SELECT * FROM unnest(%s::varchar[], %s::date[], %s::int[], %s::int[], %s::numeric[], %s::numeric[],
                             %s::bigint[], %s::bigint[])
    ),
    charged AS (
        SELECT l.person_id, l.employer_id, l.insurance_type, l.month,
               SUM(l.employer_amount) AS e, SUM(l.personal_amount) AS p, em.risk_class, em.injury_float_percent
        FROM register_contributionline l
        JOIN t ON t.person_id = l.person_id AND t.employer_id = l.employer_id AND t.insurance_type = l.insurance_type
        JOIN employers_employer em ON em.id = l.employer_id
        WHERE l.month BETWEEN %s AND %s AND l.voided_by_id IS NULL
        GROUP BY l.person_id, l.employer_id, l.insurance_type, l.month, em.risk_class, em.injury_float_percent
    ),
    based AS ({BASED.format(source="charged")}),
    priced AS (
        SELECT b.person_id, b.employer_id, b.insurance_type, b.month, b.base, b.limits_id, b.provisional,
               rt.rate_id, rt.injury_rate_id,
               ROUND(b.base * rt.er, 2) - b.e AS de, ROUND(b.base * rt.pr, 2) - b.p AS dp
        FROM based b
        JOIN rt ON rt.itype = b.insurance_type AND rt.month = b.month
              AND (b.insurance_type <> 'injury'
                   OR (rt.risk_class = b.risk_class AND rt.float_percent = b.injury_float_percent))
        WHERE b.base IS NOT NULL
    ),
    clipped AS (
        SELECT p.*, CASE WHEN %s THEN de ELSE GREATEST(de, 0) END AS ce,
                    CASE WHEN %s THEN dp ELSE GREATEST(dp, 0) END AS cp
        FROM priced p
    ),
    ins AS (
        INSERT INTO register_contributionline ({LINE_COLUMNS}, rebase_id)
        SELECT c.person_id, c.employer_id, c.month, c.insurance_type, %s, c.base, c.ce, c.cp, %s,
               c.limits_id, c.rate_id, c.injury_rate_id, c.provisional, NULL, %s
        FROM clipped c WHERE c.ce <> 0 OR c.cp <> 0
        ON CONFLICT (person_id, employer_id, month, insurance_type, rebase_id) WHERE kind = 'adjustment' DO NOTHING
        RETURNING 1
    )
    SELECT count(*) FROM ins
    """
    args: list = [
        [p for p, _e, _t in ordered],
        [e for _p, e, _t in ordered],
        [t for _p, _e, t in ordered],
        *[list(c) for c in zip(*lim_rows, strict=True)],
        *[list(c) for c in zip(*rate_rows, strict=True)],
        months[0],
        months[-1],
        rebase.year,
        rebase.year,
        refund,
        refund,
        LineKind.ADJUSTMENT.value,
        rebase.transaction_id,
        rebase.pk,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, args)
        return int(cursor.fetchone()[0])


def _adjust_python(
    rebase: Rebase, triples: set[Triple], months: list[dt.date], params: ParamSnapshot, refund: bool
) -> int:
    persons = {p for p, _e, _t in triples}
    employers = {e for _p, e, _t in triples}
    charged: dict[tuple[int, int, str, dt.date], tuple[Decimal, Decimal]] = {}
    sums = (
        ContributionLine.objects.filter(
            person_id__in=persons,
            employer_id__in=employers,
            month__gte=months[0],
            month__lte=months[-1],
            voided_by__isnull=True,
        )
        .values("person_id", "employer_id", "insurance_type", "month")
        .annotate(e=Sum("employer_amount"), p=Sum("personal_amount"))
        .order_by()
    )
    for row in sums:
        key = (row["person_id"], row["employer_id"], row["insurance_type"])
        if key in triples:
            charged[(*key, row["month"])] = (row["e"], row["p"])
    if not charged:
        return 0
    bases = YearBases.load(
        ContributionBase.objects.filter(person_id__in=persons, employer_id__in=employers), rebase.year
    )
    done = set(
        ContributionLine.objects.filter(rebase=rebase, person_id__in=persons, kind=LineKind.ADJUSTMENT).values_list(
            "person_id", "employer_id", "insurance_type", "month"
        )
    )
    risk = {
        pk: (risk_class, float_percent)
        for pk, risk_class, float_percent in Employer.objects.filter(pk__in=employers).values_list(
            "pk", "risk_class", "injury_float_percent"
        )
    }
    lines = []
    for (person_id, employer_id, itype, month), (charged_e, charged_p) in sorted(charged.items()):
        if (person_id, employer_id, itype, month) in done:
            continue
        priced = bases.priced((person_id, employer_id, itype), params.base_limits(rebase.year, itype))
        risk_class, float_percent = risk.get(employer_id, (1, 100))
        rate = params.rate(itype, month, risk_class, float_percent)
        if priced is None or rate is None:
            continue
        new_base, new_limits, new_provisional = priced
        diff_e = fen(new_base * rate.employer) - charged_e
        diff_p = fen(new_base * rate.personal) - charged_p
        if not refund:
            diff_e, diff_p = max(diff_e, Decimal(0)), max(diff_p, Decimal(0))
        if not diff_e and not diff_p:
            continue
        lines.append(
            ContributionLine(
                person_id=person_id,
                employer_id=employer_id,
                month=month,
                insurance_type=itype,
                kind=LineKind.ADJUSTMENT,
                base=new_base,
                employer_amount=diff_e,
                personal_amount=diff_p,
                transaction=rebase.transaction,
                rebase=rebase,
                limits_id=new_limits,
                rate_id=rate.rate_id,
                injury_rate_id=rate.injury_rate_id,
                provisional=new_provisional,
            )
        )
    ContributionLine.objects.bulk_create(lines, batch_size=2000, ignore_conflicts=True)
    return len(lines)
