"""Contribution arithmetic: clamp a declared wage, compute monthly lines. Pure functions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from shebao.core.money import fen
from shebao.params.services import ParamSnapshot


@dataclass(frozen=True)
class Line:
    month: dt.date
    insurance_type: str
    base: Decimal
    employer_amount: Decimal
    personal_amount: Decimal


def clamp(wage: Decimal, floor: Decimal, ceiling: Decimal) -> Decimal:
    return min(max(wage, floor), ceiling)


def clamped_base(params: ParamSnapshot, year: int, insurance_type: str, wage: Decimal) -> Decimal | None:
    limits = params.base_limits(year, insurance_type)
    if limits is None:
        return None
    return fen(clamp(wage, limits.floor, limits.ceiling))


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

    Months or types without published parameters are skipped; the row rules report them.
    """
    out = []
    for month in months:
        for itype in insurance_types:
            base = clamped_base(params, month.year, itype, wage)
            rate = params.rate(itype, month, risk_class, float_percent)
            if base is None or rate is None:
                continue
            out.append(Line(month, itype, base, fen(base * rate.employer), fen(base * rate.personal)))
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
