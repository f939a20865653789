"""Contribution arithmetic: clamp a declared wage, compute monthly lines. Pure functions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from shebao.core import bulk
from shebao.core.money import fen
from shebao.params.services import Limits, ParamSnapshot


@dataclass(frozen=True)
class Line:
    month: dt.date
    insurance_type: str
    base: Decimal
    employer_amount: Decimal
    personal_amount: Decimal
    # The parameter rows the line was computed from, so that a year computed on provisional
    # limits can be re-based when its own limits are published.
    limits_id: int | None = None
    rate_id: int | None = None
    injury_rate_id: int | None = None
    provisional: bool = False


def clamp(wage: Decimal, floor: Decimal, ceiling: Decimal) -> Decimal:
    return min(max(wage, floor), ceiling)


def base_for(limits: Limits | None, wage: Decimal) -> Decimal:
    """The contribution base of a declared wage: clamped to the limits, the wage itself without any."""
    return fen(clamp(wage, limits.floor, limits.ceiling)) if limits is not None else fen(wage)


BASE_COLUMNS = [
    "person_id",
    "employer_id",
    "year",
    "insurance_type",
    "declared_wage",
    "base",
    "transaction_id",
    "limits_id",
    "provisional",
    "carried_over",
    "created_at",
    "updated_at",
]


def base_rows(
    params: ParamSnapshot,
    *,
    person_id: int,
    employer_id: int,
    year: int,
    insurance_types: Iterable[str],
    wage: Decimal,
    transaction_id: int | None,
    stamp: dt.datetime,
    carried_over: bool = False,
) -> list[tuple]:
    """A person's bases of a year, one per insurance type (BASE_COLUMNS order): the declared
    wage clamped to that type's limits of the year, with the limits row and whether it was
    another year's."""
    rows = []
    for itype in insurance_types:
        limits = params.base_limits(year, itype)
        rows.append(
            (
                person_id,
                employer_id,
                year,
                itype,
                wage,
                base_for(limits, wage),
                transaction_id,
                limits.row_id if limits else None,
                bool(limits and limits.provisional),
                carried_over,
                stamp,
                stamp,
            )
        )
    return rows


def upsert_bases(rows: list[tuple]) -> None:
    """Write bases (BASE_COLUMNS rows); a person's base of a year and type already there is replaced."""
    from shebao.register.models import ContributionBase

    bulk.upsert_rows(
        ContributionBase,
        BASE_COLUMNS,
        rows,
        unique_fields=["person_id", "employer_id", "year", "insurance_type"],
        update_fields=[
            "declared_wage",
            "base",
            "transaction_id",
            "limits_id",
            "provisional",
            "carried_over",
            "updated_at",
        ],
    )


def compute_lines(
    params: ParamSnapshot,
    *,
    months: list[dt.date],
    insurance_types: list[str],
    wage: Decimal,
    risk_class: int,
    float_percent: int,
) -> list[Line]:
    """One line per month and insurance type, each with that month's year's clamp and rates.

    A year without limits of its own uses the latest published year's, and its lines say so
    (``provisional``). Months or types without any limits or rate in force are skipped; the
    row rules report them (NO_BASE_LIMITS, NO_RATE) before anything is applied.
    """
    out = []
    for month in months:
        for itype in insurance_types:
            limits = params.base_limits(month.year, itype)
            rate = params.rate(itype, month, risk_class, float_percent)
            if limits is None or rate is None:
                continue
            base = fen(clamp(wage, limits.floor, limits.ceiling))
            out.append(
                Line(
                    month,
                    itype,
                    base,
                    fen(base * rate.employer),
                    fen(base * rate.personal),
                    limits.row_id,
                    rate.rate_id,
                    rate.injury_rate_id,
                    limits.provisional,
                )
            )
    return out


def surcharge_estimate(params: ParamSnapshot, lines: list[Line], today: dt.date) -> Decimal:
    """Late-payment surcharge as of today: daily rate × days since the month after each line."""
    daily = params.setting("surcharge_daily_rate", today)
    total = Decimal(0)
    for line in lines:
        due = dt.date(line.month.year + (line.month.month // 12), line.month.month % 12 + 1, 15)
        days = (today - due).days
        if days > 0:
            total += (line.employer_amount + line.personal_amount) * daily * days
    return fen(total)
