"""月度缴费核定 (monthly assessment, DOMAIN §3): for a month, the due regular contribution
lines of every relation contributing in it.

A relation contributes in month M when it started by M and has not stopped by then (停保年月,
its ``end_month``, is the first month not paid). Its line: the base of M's year for the person,
employer and insurance type, or, until the year is declared, the latest earlier year's
declared wage clamped to M's year's limits of that type (what the enrolment does for the
months after its year, and what the annual declaration re-bases later with adjustments);
times M's rates (work injury: the employer's risk class and float), each part rounded to fen
half-up. A relation without a base or without a rate in force gets no line and is counted
as ``skipped``.

The job goes through the employers in id order, CHUNK_EMPLOYERS at a time, committing each
chunk with its lines and the run's progress (``AssessmentRun``): a run that stopped resumes
after the last employer committed. Lines go in with ON CONFLICT DO NOTHING on the line's
uniqueness, so a month assessed again, or twice at once, adds nothing, and a line an
enrolment or a back payment already wrote for the month stays as it is. On PostgreSQL each
chunk is one set-based INSERT … SELECT; elsewhere (SQLite) the same rule in Python, per chunk.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from shebao.core.choices import ALL_INSURANCE
from shebao.core.money import fen
from shebao.core.months import add_months, month_start
from shebao.employers.models import Employer
from shebao.params.services import Limits, ParamSnapshot, RatePair
from shebao.register.contributions import base_for
from shebao.register.models import (
    AssessmentRun,
    AssessmentState,
    ContributionBase,
    ContributionLine,
    LineKind,
    Relation,
)

log = logging.getLogger(__name__)

CHUNK_EMPLOYERS = 200
# A run whose heartbeat is older than this is taken over by the next one (a killed worker).
STALE_SECONDS = 600
ADVISORY_KEY = 0x5E8A0  # pg_try_advisory_lock(ADVISORY_KEY, month number): one runner per month


def contributing_in(month: dt.date) -> Q:
    """Relations contributing in `month` (by their months; the status follows from them)."""
    return Q(start_month__lte=month) & (Q(end_month__isnull=True) | Q(end_month__gt=month))


# --- which months ----------------------------------------------------------------------------


def due_months(today_month: dt.date, now: dt.datetime | None = None) -> list[dt.date]:
    """The months the scheduled job assesses: every month after the last one finished, through
    `today_month` (a month the job missed is caught up), and any earlier month whose run failed
    or went silent. With no run yet, `today_month` alone: the months before it were written by
    the enrolments that started them."""
    now = now or timezone.now()
    today_month = month_start(today_month)
    finished = (
        AssessmentRun.objects.filter(state=AssessmentState.FINISHED, month__lte=today_month)
        .order_by("-month")
        .values_list("month", flat=True)
        .first()
    )
    months = []
    month = add_months(finished, 1) if finished else today_month
    while month <= today_month:
        months.append(month)
        month = add_months(month, 1)
    stale = now - dt.timedelta(seconds=STALE_SECONDS)
    unfinished = AssessmentRun.objects.filter(month__lte=today_month).filter(
        Q(state=AssessmentState.FAILED) | Q(state=AssessmentState.RUNNING, heartbeat_at__lt=stale)
    )
    months += [m for m in unfinished.values_list("month", flat=True) if m not in months]
    return sorted(months)


def assess_due_months(today_month: dt.date, now: dt.datetime | None = None) -> list[AssessmentRun]:
    return [assess_month(month) for month in due_months(today_month, now)]


# --- one month -------------------------------------------------------------------------------


def assess_month(
    month: dt.date,
    *,
    again: bool = False,
    chunk: int = CHUNK_EMPLOYERS,
    on_chunk: Callable[[AssessmentRun], None] | None = None,
) -> AssessmentRun:
    """Assess `month`, resuming its run where it stopped. A finished month is left as it is
    unless `again` (the administrator's 重新核定: every employer again, adding only the lines
    still missing). When another process is assessing the month (PostgreSQL), this returns
    its run untouched."""
    month = month_start(month)
    run, _created = AssessmentRun.objects.get_or_create(month=month)
    if run.state == AssessmentState.FINISHED and not again:
        return run
    if not _lock(month):
        run.refresh_from_db()
        return run
    try:
        return _run(run, again=again, chunk=chunk, on_chunk=on_chunk)
    except Exception as error:
        AssessmentRun.objects.filter(pk=run.pk).update(state=AssessmentState.FAILED, error=repr(error)[:2000])
        log.exception("monthly assessment of %s failed", month)
        raise
    finally:
        _unlock(month)


def _run(run: AssessmentRun, *, again: bool, chunk: int, on_chunk) -> AssessmentRun:
    month = run.month
    params = ParamSnapshot.load()
    now = timezone.now()
    fresh = again or run.state == AssessmentState.FINISHED
    changes = {
        "state": AssessmentState.RUNNING,
        "employers_total": Employer.objects.count(),
        "heartbeat_at": now,
        "error": "",
        "finished_at": None,
    }
    if fresh or run.started_at is None:
        changes.update(started_at=now, employers_done=0, last_employer_id=0, lines_written=0, skipped=0)
    AssessmentRun.objects.filter(pk=run.pk).update(**changes)
    run.refresh_from_db()
    pricing = Pricing.of(params, month)
    while True:
        ids = list(
            Employer.objects.filter(pk__gt=run.last_employer_id).order_by("pk").values_list("pk", flat=True)[:chunk]
        )
        if not ids:
            break
        with transaction.atomic():
            if connection.vendor == "postgresql":
                written, skipped = _chunk_sql(month, ids[0], ids[-1], pricing)
            else:
                written, skipped = _chunk_python(month, ids[0], ids[-1], pricing)
            AssessmentRun.objects.filter(pk=run.pk).update(
                last_employer_id=ids[-1],
                employers_done=F("employers_done") + len(ids),
                lines_written=F("lines_written") + written,
                skipped=F("skipped") + skipped,
                heartbeat_at=timezone.now(),
            )
        run.refresh_from_db()
        if on_chunk is not None:
            on_chunk(run)
    AssessmentRun.objects.filter(pk=run.pk).update(
        state=AssessmentState.FINISHED, finished_at=timezone.now(), heartbeat_at=timezone.now()
    )
    run.refresh_from_db()
    log.info("monthly assessment %s: %d lines written, %d skipped", month, run.lines_written, run.skipped)
    return run


def _lock(month: dt.date) -> bool:
    if connection.vendor != "postgresql":
        return True  # SQLite serialises writers; the lines' uniqueness keeps the rest idempotent
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [ADVISORY_KEY, month.year * 12 + month.month])
        return bool(cursor.fetchone()[0])


def _unlock(month: dt.date) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [ADVISORY_KEY, month.year * 12 + month.month])


# --- the month's parameters ------------------------------------------------------------------


class Pricing:
    """The month's limits per insurance type and rates per type (work injury per risk class
    and float), read once for the whole run."""

    def __init__(self, limits: dict[str, Limits], rates: dict[tuple[str, int, int], RatePair]) -> None:
        self.limits = limits
        self.rates = rates

    @classmethod
    def of(cls, params: ParamSnapshot, month: dt.date) -> Pricing:
        limits = {t: lim for t in ALL_INSURANCE if (lim := params.base_limits(month.year, t)) is not None}
        rates: dict[tuple[str, int, int], RatePair] = {}
        for itype in ALL_INSURANCE:
            if itype == "injury":
                continue
            pair = params.rate(itype, month)
            if pair is not None:
                rates[(itype, 0, 0)] = pair
        for risk_class, float_percent in Employer.objects.values_list("risk_class", "injury_float_percent").distinct():
            pair = params.rate("injury", month, risk_class, float_percent)
            if pair is not None:
                rates[("injury", risk_class, float_percent)] = pair
        return cls(limits, rates)

    def rate(self, itype: str, risk_class: int, float_percent: int) -> RatePair | None:
        if itype == "injury":
            return self.rates.get((itype, risk_class, float_percent))
        return self.rates.get((itype, 0, 0))


def month_base(
    this_year: tuple[Decimal, int | None, bool] | None, earlier_wage: Decimal | None, limits: Limits | None
) -> tuple[Decimal, int | None, bool] | None:
    """(base, limits row, provisional) of a relation in a month: the base of the month's year,
    or the latest earlier year's declared wage clamped to the year's limits; None without
    either (or without limits to clamp to)."""
    if this_year is not None:
        return this_year
    if earlier_wage is None or limits is None:
        return None
    return base_for(limits, earlier_wage), limits.row_id, limits.provisional


Triple = tuple[int, int, str]  # person, employer, insurance type


@dataclass
class YearBases:
    """What a year's months are charged at, per person, employer and type: the year's own
    base, and the latest earlier year's declared wage (for a year not declared yet)."""

    this_year: dict[Triple, tuple[Decimal, int | None, bool]]
    earlier: dict[Triple, tuple[int, Decimal]]

    @classmethod
    def load(cls, bases: QuerySet[ContributionBase], year: int) -> YearBases:
        this_year: dict[Triple, tuple[Decimal, int | None, bool]] = {}
        earlier: dict[Triple, tuple[int, Decimal]] = {}
        rows = bases.filter(year__lte=year).values_list(
            "person_id", "employer_id", "insurance_type", "year", "base", "declared_wage", "limits_id", "provisional"
        )
        for person_id, employer_id, itype, row_year, base, wage, limits_id, provisional in rows:
            key = (person_id, employer_id, itype)
            if row_year == year:
                this_year[key] = (base, limits_id, provisional)
            elif key not in earlier or earlier[key][0] < row_year:
                earlier[key] = (row_year, wage)
        return cls(this_year, earlier)

    def priced(self, key: Triple, limits: Limits | None) -> tuple[Decimal, int | None, bool] | None:
        before = self.earlier.get(key)
        return month_base(self.this_year.get(key), before[1] if before else None, limits)


# --- PostgreSQL: one statement per chunk -----------------------------------------------------

LINE_COLUMNS = (
    "person_id, employer_id, month, insurance_type, kind, base, employer_amount, personal_amount, "
    "transaction_id, limits_id, rate_id, injury_rate_id, provisional, voided_by_id"
)


# The base of each row of a CTE `source` (person_id, employer_id, insurance_type) in the year
# passed twice as parameters, with the CTE `lim` of the year's limits: month_base in SQL.
BASED = """
        SELECT d.*,
               -- GREATEST and LEAST skip NULLs in PostgreSQL: no earlier wage must stay no base
               COALESCE(
                   cur.base,
                   CASE WHEN prev.declared_wage IS NOT NULL AND lim.itype IS NOT NULL
                        THEN ROUND(LEAST(GREATEST(prev.declared_wage, lim.floor), lim.ceiling), 2) END
               ) AS base,
               CASE WHEN cur.base IS NOT NULL THEN cur.limits_id ELSE lim.limits_id END AS limits_id,
               CASE WHEN cur.base IS NOT NULL THEN cur.provisional ELSE lim.provisional END AS provisional
        FROM {source} d
        LEFT JOIN lim ON lim.itype = d.insurance_type
        LEFT JOIN register_contributionbase cur
               ON cur.person_id = d.person_id AND cur.employer_id = d.employer_id
              AND cur.insurance_type = d.insurance_type AND cur.year = %s
        LEFT JOIN LATERAL (
            SELECT b.declared_wage FROM register_contributionbase b
            WHERE b.person_id = d.person_id AND b.employer_id = d.employer_id
              AND b.insurance_type = d.insurance_type AND b.year < %s
            ORDER BY b.year DESC LIMIT 1
        ) prev ON cur.base IS NULL
    """


def _chunk_sql(month: dt.date, first: int, last: int, pricing: Pricing) -> tuple[int, int]:
    lim_rows = [(t, lim.floor, lim.ceiling, lim.row_id, lim.provisional) for t, lim in pricing.limits.items()]
    rate_rows = [
        (itype, risk, flt, pair.employer, pair.personal, pair.rate_id, pair.injury_rate_id)
        for (itype, risk, flt), pair in pricing.rates.items()
    ]
    if not lim_rows:
        lim_rows = [("", Decimal(0), Decimal(0), None, False)]
    if not rate_rows:
        rate_rows = [("", 0, 0, Decimal(0), Decimal(0), None, None)]
    sql = f"""
    WITH lim(itype, floor, ceiling, limits_id, provisional) AS (
        SELECT * FROM unnest(%s::varchar[], %s::numeric[], %s::numeric[], %s::bigint[], %s::boolean[])
    ),
    rt(itype, risk_class, float_percent, er, pr, rate_id, injury_rate_id) AS (
        SELECT * FROM unnest(%s::varchar[], %s::int[], %s::int[], %s::numeric[], %s::numeric[], %s::bigint[],
                             %s::bigint[])
    ),
    due AS (
        SELECT r.person_id, r.employer_id, r.insurance_type, e.risk_class, e.injury_float_percent
        FROM register_relation r JOIN employers_employer e ON e.id = r.employer_id
        WHERE r.employer_id BETWEEN %s AND %s AND r.start_month <= %s AND (r.end_month IS NULL OR r.end_month > %s)
    ),
    based AS ({BASED.format(source="due")}),
    priced AS (
        SELECT b.*, rt.er, rt.pr, rt.rate_id, rt.injury_rate_id
        FROM based b
        LEFT JOIN rt ON rt.itype = b.insurance_type
              AND (b.insurance_type <> 'injury'
                   OR (rt.risk_class = b.risk_class AND rt.float_percent = b.injury_float_percent))
    ),
    ins AS (
        INSERT INTO register_contributionline ({LINE_COLUMNS})
        SELECT p.person_id, p.employer_id, %s, p.insurance_type, %s, p.base,
               ROUND(p.base * p.er, 2), ROUND(p.base * p.pr, 2), NULL, p.limits_id, p.rate_id, p.injury_rate_id,
               p.provisional, NULL
        FROM priced p WHERE p.base IS NOT NULL AND p.er IS NOT NULL
        ON CONFLICT (person_id, employer_id, month, insurance_type)
            WHERE voided_by_id IS NULL AND NOT (kind = 'adjustment') DO NOTHING
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM priced WHERE base IS NULL OR er IS NULL)
    """
    columns = list(zip(*lim_rows, strict=True))
    rate_columns = list(zip(*rate_rows, strict=True))
    params: list = [
        *[list(c) for c in columns],
        *[list(c) for c in rate_columns],
        first,
        last,
        month,
        month,
        month.year,
        month.year,
        month,
        LineKind.REGULAR.value,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        written, skipped = cursor.fetchone()
    return int(written), int(skipped)


# --- elsewhere: the same rule in Python, per chunk -------------------------------------------


def _chunk_python(month: dt.date, first: int, last: int, pricing: Pricing) -> tuple[int, int]:
    due = list(
        Relation.objects.filter(contributing_in(month), employer_id__gte=first, employer_id__lte=last).values_list(
            "person_id", "employer_id", "insurance_type", "employer__risk_class", "employer__injury_float_percent"
        )
    )
    if not due:
        return 0, 0
    bases = YearBases.load(ContributionBase.objects.filter(employer_id__gte=first, employer_id__lte=last), month.year)
    charged = set(
        ContributionLine.objects.filter(
            employer_id__gte=first, employer_id__lte=last, month=month, voided_by__isnull=True
        ).values_list("person_id", "employer_id", "insurance_type")
    )
    lines, skipped = [], 0
    for person_id, employer_id, itype, risk_class, float_percent in due:
        key = (person_id, employer_id, itype)
        priced = bases.priced(key, pricing.limits.get(itype))
        rate = pricing.rate(itype, risk_class, float_percent)
        if priced is None or rate is None:
            skipped += 1
            continue
        if key in charged:
            continue
        line_base, line_limits, line_provisional = priced
        lines.append(
            ContributionLine(
                person_id=person_id,
                employer_id=employer_id,
                month=month,
                insurance_type=itype,
                kind=LineKind.REGULAR,
                base=line_base,
                employer_amount=fen(line_base * rate.employer),
                personal_amount=fen(line_base * rate.personal),
                limits_id=line_limits,
                rate_id=rate.rate_id,
                injury_rate_id=rate.injury_rate_id,
                provisional=line_provisional,
            )
        )
        charged.add(key)
    ContributionLine.objects.bulk_create(lines, batch_size=2000, ignore_conflicts=True)
    return len(lines), skipped
