"""The pension estimate (测算) by the national formula, from the register and the parameters
(DOMAIN §5b, §7). An estimate: the pension office's own computation decides.

- 缴费年限 = (paid months + deemed months) ÷ 12.
- 本人指数化月平均缴费工资 = 计发基数 × the average contribution index, the index of a paid month
  being its base ÷ that year's average wage (the base-limits table, pension).
- 基础养老金 = (计发基数 + 本人指数化月平均缴费工资) ÷ 2 × 缴费年限 × 1 %.
- 个人账户养老金 = the personal account ÷ 计发月数 (by age in completed years at the retirement
  month). The account is the personal pension contributions with interest: at the end of
  each year the balance earns the year's rate and that year's own contributions earn
  rate × 1.083 ÷ 2 (contributions come in through the year); in the retirement year both
  earn pro rata, months of the year up to the retirement month ÷ 12. The balance is rounded
  to fen at each year's end.
- 过渡性养老金 = 计发基数 × 视同缴费指数 × deemed years × the province's coefficient.
- 计发基数 is that of the retirement month's year (the latest earlier one, provisionally,
  while it is not published). Each item is rounded to fen half-up; the total is their sum.

The register's lines are what is due; months from the month after the last line through
the retirement month, while the person contributes, are projected at the last base and that
month's personal rate (``projected_months``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from shebao.core.money import fen
from shebao.core.months import add_months, month_start, months_between
from shebao.params.services import ParamSnapshot

PENSION = "pension"
INTEREST_WEIGHT = Decimal("1.083")


@dataclass(frozen=True)
class PaidMonth:
    """A month of pension on the register: its base (the latest line's: an adjustment carries
    the new base) and the personal contributions of all its lines."""

    month: dt.date
    base: Decimal
    personal: Decimal


@dataclass
class Estimate:
    retire_month: dt.date
    pension_start: dt.date
    age_years: int
    paid_months: int
    deemed_months: int
    projected_months: int = 0
    years: Decimal = Decimal(0)
    pension_base: Decimal = Decimal(0)
    pension_base_year: int = 0
    average_index: Decimal = Decimal(0)
    indexed_wage: Decimal = Decimal(0)
    balance: Decimal = Decimal(0)
    payout_months: int = 0
    basic: Decimal = Decimal(0)
    account: Decimal = Decimal(0)
    transition: Decimal = Decimal(0)
    # Years whose interest rate is another year's (not published yet).
    borrowed_interest: list[int] = field(default_factory=list)
    # What could not be found (a parameter table is empty): the estimate is then not given.
    missing: list[str] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return self.basic + self.account + self.transition

    @property
    def provisional_base(self) -> bool:
        return self.pension_base_year != self.retire_month.year

    def as_basis(self) -> dict[str, object]:
        """The figures behind the amounts, as JSON (the retiree record keeps them)."""
        return {
            "retire_month": self.retire_month.isoformat(),
            "age_years": self.age_years,
            "paid_months": self.paid_months,
            "projected_months": self.projected_months,
            "deemed_months": self.deemed_months,
            "years": str(self.years.quantize(Decimal("0.01"))),
            "pension_base": str(self.pension_base),
            "pension_base_year": self.pension_base_year,
            "average_index": str(self.average_index.quantize(Decimal("0.0001"))),
            "indexed_wage": str(self.indexed_wage),
            "balance": str(self.balance),
            "payout_months": self.payout_months,
            "borrowed_interest": self.borrowed_interest,
        }


def age_in_years(birth_date: dt.date, month: dt.date) -> int:
    """Completed years at a month (the birth month counts as reached)."""
    return months_between(month_start(birth_date), month_start(month)) // 12


def estimate(
    history: list[PaidMonth],
    *,
    retire_month: dt.date,
    birth_date: dt.date,
    deemed_months: int,
    params: ParamSnapshot,
    project_from: dt.date | None = None,
) -> Estimate:
    """The estimate for a person whose pension months are `history` (any order, months after
    the retirement month ignored). `project_from`: the first month the person contributes
    without a line yet (None: nothing projected)."""
    retire_month = month_start(retire_month)
    months = sorted((m for m in history if m.month <= retire_month), key=lambda m: m.month)
    if project_from is not None and months:
        last = months[-1]
        start = max(month_start(project_from), add_months(last.month, 1))
        projected = []
        month = start
        while month <= retire_month:
            rate = params.rate(PENSION, month)
            projected.append(PaidMonth(month, last.base, fen(last.base * rate.personal) if rate else Decimal(0)))
            month = add_months(month, 1)
        months += projected
    else:
        projected = []
    deemed = max(int(deemed_months or 0), 0)
    out = Estimate(
        retire_month=retire_month,
        pension_start=add_months(retire_month, 1),
        age_years=age_in_years(birth_date, retire_month),
        paid_months=len(months) - len(projected),
        deemed_months=deemed,
        projected_months=len(projected),
    )
    base_row = params.pension_base(retire_month.year)
    payout = params.payout_months(out.age_years)
    if base_row is None:
        out.missing.append("pension_base")
    if payout is None:
        out.missing.append("payout_months")
    if out.missing:
        return out
    assert base_row is not None and payout is not None
    b = base_row.amount
    out.pension_base, out.pension_base_year, out.payout_months = b, base_row.year, payout
    out.years = Decimal(len(months) + deemed) / Decimal(12)
    indices = []
    for m in months:
        limits = params.base_limits(m.month.year, PENSION)
        if limits is not None and limits.average > 0:
            indices.append(m.base / limits.average)
    out.average_index = sum(indices, Decimal(0)) / len(indices) if indices else Decimal(0)
    out.indexed_wage = fen(b * out.average_index)
    out.basic = fen((b + b * out.average_index) / 2 * out.years / 100)
    out.balance = account_balance(months, retire_month, params, out.borrowed_interest)
    out.account = fen(out.balance / payout)
    index = params.setting("deemed_index", retire_month)
    coefficient = params.setting("transition_coefficient", retire_month)
    out.transition = fen(b * index * Decimal(deemed) / Decimal(12) * coefficient)
    return out


def account_balance(
    months: list[PaidMonth], retire_month: dt.date, params: ParamSnapshot, borrowed: list[int] | None = None
) -> Decimal:
    """The personal account at the retirement month (see the module's docstring)."""
    if not months:
        return Decimal(0)
    by_year: dict[int, Decimal] = defaultdict(Decimal)
    for m in months:
        by_year[m.month.year] += m.personal
    balance = Decimal(0)
    for year in range(min(by_year), retire_month.year + 1):
        found = params.account_interest(year)
        rate = found[0] if found else Decimal(0)
        if found and found[1] != year and borrowed is not None:
            borrowed.append(year)
        share = Decimal(retire_month.month) / Decimal(12) if year == retire_month.year else Decimal(1)
        own = by_year.get(year, Decimal(0))
        balance = fen(balance * (1 + rate * share) + own * (1 + rate * INTEREST_WEIGHT / 2 * share))
    return balance


def pension_histories(person_ids: list[int], upto: dt.date) -> dict[int, list[PaidMonth]]:
    """The pension months of persons on the register up to a month, at every employer: one
    query per thousand persons."""
    from shebao.register.models import ContributionLine

    latest: dict[tuple[int, dt.date], tuple[int, Decimal]] = {}
    personal: dict[tuple[int, dt.date], Decimal] = defaultdict(Decimal)
    for start in range(0, len(person_ids), 1000):
        rows = ContributionLine.objects.filter(
            person_id__in=person_ids[start : start + 1000],
            insurance_type=PENSION,
            voided_by__isnull=True,
            month__lte=upto,
        ).values_list("person_id", "month", "id", "base", "personal_amount")
        for pid, month, line_id, base, amount in rows.iterator(chunk_size=5000):
            key = (pid, month)
            personal[key] += amount
            if key not in latest or latest[key][0] < line_id:
                latest[key] = (line_id, base)
    out: dict[int, list[PaidMonth]] = defaultdict(list)
    for (pid, month), (_, base) in latest.items():
        out[pid].append(PaidMonth(month, base, personal[(pid, month)]))
    return out


def paid_months(person_ids: list[int], insurance_type: str, upto: dt.date) -> dict[int, set[dt.date]]:
    """The distinct months with a line of an insurance type, per person, up to a month."""
    from shebao.register.models import ContributionLine

    out: dict[int, set[dt.date]] = defaultdict(set)
    for start in range(0, len(person_ids), 1000):
        rows = (
            ContributionLine.objects.filter(
                person_id__in=person_ids[start : start + 1000],
                insurance_type=insurance_type,
                voided_by__isnull=True,
                month__lte=upto,
            )
            .values_list("person_id", "month")
            .distinct()
        )
        for pid, month in rows.iterator(chunk_size=5000):
            out[pid].add(month)
    return out
