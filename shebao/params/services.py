"""Reading parameters: one snapshot of the (small) tables, answering lookups by month."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection

from shebao.core import clock
from shebao.core.choices import InsuranceType
from shebao.core.months import add_months, month_start
from shebao.params.models import (
    SETTING_DEFAULTS,
    AccountInterest,
    BaseLimit,
    DeclarationWindow,
    InjuryRate,
    MinimumContribution,
    MinimumWage,
    ParamsVersion,
    PayoutMonths,
    PensionBase,
    Rate,
    RetirementCategory,
    RetirementRule,
    Setting,
)


@dataclass(frozen=True)
class Limits:
    """A year's contribution base limits, and the parameter row they come from.

    ``year`` is the year the limits were asked for, ``row_year`` the year of the row used:
    until a year's limits are published, the latest published year's apply provisionally
    (新的缴费基数上下限公布前，暂按上年度标准执行), and what is computed from them is marked so
    that the year can be re-based when its own limits are published.
    """

    floor: Decimal
    ceiling: Decimal
    average: Decimal
    row_id: int | None = None
    year: int = 0
    row_year: int = 0

    @property
    def provisional(self) -> bool:
        return self.year != self.row_year


@dataclass(frozen=True)
class RatePair:
    """Employer and personal rate, and the row in force they come from (a ``Rate``, or an
    ``InjuryRate`` for work injury)."""

    employer: Decimal
    personal: Decimal
    row_id: int | None = None
    injury: bool = False

    @property
    def rate_id(self) -> int | None:
        return None if self.injury else self.row_id

    @property
    def injury_rate_id(self) -> int | None:
        return self.row_id if self.injury else None


def _latest(rows: list, month: dt.date):
    """Rows are sorted by effective_from descending: the first one in force at `month`."""
    for row in rows:
        if row.effective_from <= month:
            return row
    return None


@dataclass
class ParamSnapshot:
    """All parameter rows, loaded once per request or job (a few hundred rows at most)."""

    limits: dict[tuple[int, str], list[BaseLimit]] = field(default_factory=dict)
    rates: dict[str, list[Rate]] = field(default_factory=dict)
    injury: dict[int, list[InjuryRate]] = field(default_factory=dict)
    retirement: dict[str, list[RetirementRule]] = field(default_factory=dict)
    settings: dict[str, list[Setting]] = field(default_factory=dict)
    minimum_wages: dict[int, list[MinimumWage]] = field(default_factory=dict)
    windows: dict[int, DeclarationWindow] = field(default_factory=dict)
    # Retirement (DOMAIN §7): by year of retirement, by age, by year.
    minimum_contributions: dict[int, int] = field(default_factory=dict)
    pension_bases: dict[int, PensionBase] = field(default_factory=dict)
    payout_table: dict[int, int] = field(default_factory=dict)
    interest: dict[int, Decimal] = field(default_factory=dict)
    # Answers already given: a snapshot never changes after load(), and a batch of 100,000
    # rows asks the same few questions for every row.
    _memo: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def load(cls) -> ParamSnapshot:
        """The parameters as they are now.

        Every single audit loads them; reading five tables each time cost more than the rest of
        a small audit. A process keeps the last snapshot and reuses it while the token of
        ParamsVersion, set anew by the database at every parameter write, is the one it read.
        """
        global _last
        signature = _signature()
        cached = _last
        if cached is not None and cached[0] == signature:
            return cached[1]
        snap = cls._read()
        _last = (signature, snap)
        return snap

    @classmethod
    def _read(cls) -> ParamSnapshot:
        snap = cls()
        for limit in BaseLimit.objects.order_by("-effective_from"):
            snap.limits.setdefault((limit.year, limit.insurance_type), []).append(limit)
        for rate in Rate.objects.order_by("-effective_from"):
            snap.rates.setdefault(rate.insurance_type, []).append(rate)
        for injury in InjuryRate.objects.order_by("-effective_from"):
            snap.injury.setdefault(injury.risk_class, []).append(injury)
        for rule in RetirementRule.objects.order_by("-effective_from"):
            snap.retirement.setdefault(rule.category, []).append(rule)
        for setting in Setting.objects.order_by("-effective_from"):
            snap.settings.setdefault(setting.key, []).append(setting)
        for wage in MinimumWage.objects.order_by("-effective_from"):
            snap.minimum_wages.setdefault(wage.tier, []).append(wage)
        snap.windows = {window.year: window for window in DeclarationWindow.objects.all()}
        snap.minimum_contributions = dict(MinimumContribution.objects.values_list("year", "months"))
        snap.pension_bases = {row.year: row for row in PensionBase.objects.all()}
        snap.payout_table = dict(PayoutMonths.objects.values_list("age", "months"))
        snap.interest = dict(AccountInterest.objects.values_list("year", "rate"))
        return snap

    def minimum_contribution_months(self, year: int) -> int | None:
        """The minimum contribution months of a year's retirees (None: the table is empty)."""
        if not self.minimum_contributions:
            return None
        earlier = [y for y in self.minimum_contributions if y <= year]
        return self.minimum_contributions[max(earlier) if earlier else min(self.minimum_contributions)]

    def pension_base(self, year: int) -> PensionBase | None:
        """The 计发基数 of a year's retirees: the year's own, or the latest earlier (provisional:
        its ``year`` differs); None when none is published up to that year."""
        earlier = [y for y in self.pension_bases if y <= year]
        return self.pension_bases[max(earlier)] if earlier else None

    def payout_months(self, age: int) -> int | None:
        """计发月数 at an age in completed years; an age outside the table takes its nearest end."""
        if not self.payout_table:
            return None
        ages = sorted(self.payout_table)
        return self.payout_table[min(max(age, ages[0]), ages[-1])]

    def account_interest(self, year: int) -> tuple[Decimal, int] | None:
        """(rate, the year of the row used) for a year: its own, else the nearest published
        (an earlier year first). None when the table is empty."""
        if year in self.interest:
            return self.interest[year], year
        if not self.interest:
            return None
        earlier = [y for y in self.interest if y < year]
        used = max(earlier) if earlier else min(self.interest)
        return self.interest[used], used

    def minimum_wage(self, tier: int, month: dt.date) -> Decimal | None:
        """The minimum monthly wage of an area tier in force in a month (None: none published)."""
        row = _latest(self.minimum_wages.get(tier, []), month_start(month))
        return row.monthly if row else None

    def declaration_window(self, year: int) -> DeclarationWindow | None:
        return self.windows.get(year)

    def setting(self, key: str, month: dt.date | None = None) -> Decimal:
        month = month_start(month or clock.today())
        memo = ("setting", key, month)
        if memo not in self._memo:
            row = _latest(self.settings.get(key, []), month)
            self._memo[memo] = row.value if row else SETTING_DEFAULTS[key]
        return self._memo[memo]

    def setting_int(self, key: str, month: dt.date | None = None) -> int:
        memo = ("setting_int", key, month_start(month or clock.today()))
        if memo not in self._memo:
            self._memo[memo] = int(self.setting(key, month))
        return self._memo[memo]

    def base_limits(self, year: int, insurance_type: str, as_of: dt.date | None = None) -> Limits | None:
        """The year's limits: the newest row in force (notices apply retroactively).

        A year without a row of its own takes the latest published year before it,
        provisionally (``Limits.provisional``); a year before every published one, the
        earliest published. None only when no year at all has limits for the insurance type.
        """
        memo = ("limits", year, insurance_type, as_of)
        if memo not in self._memo:
            self._memo[memo] = self._base_limits(year, insurance_type, as_of)
        return self._memo[memo]

    def _base_limits(self, year: int, insurance_type: str, as_of: dt.date | None) -> Limits | None:
        in_force = as_of or dt.date(9999, 12, 1)
        published = sorted(
            (y for (y, itype) in self.limits if itype == insurance_type), key=lambda y: (y > year, abs(y - year))
        )
        # The year itself first, then the years before it (the latest first), then after it.
        for candidate in published:
            row = _latest(self.limits[(candidate, insurance_type)], in_force)
            if row is not None:
                return Limits(row.floor, row.ceiling, row.average_wage, row.pk, year, candidate)
        return None

    def rate(
        self, insurance_type: str, month: dt.date, risk_class: int = 1, float_percent: int = 100
    ) -> RatePair | None:
        memo = ("rate", insurance_type, month, risk_class, float_percent)
        if memo not in self._memo:
            self._memo[memo] = self._rate(insurance_type, month, risk_class, float_percent)
        return self._memo[memo]

    def _rate(self, insurance_type: str, month: dt.date, risk_class: int, float_percent: int) -> RatePair | None:
        if insurance_type == "injury":
            row = _latest(self.injury.get(risk_class, []), month)
            if row is None:
                return None
            return RatePair(row.rate * Decimal(float_percent) / Decimal(100), Decimal(0), row.pk, injury=True)
        row = _latest(self.rates.get(insurance_type, []), month)
        return RatePair(row.employer_rate, row.personal_rate, row.pk) if row else None

    def retirement_month(self, *, sex: str, identity: str, birth_date: dt.date) -> dt.date | None:
        """First month at or past the statutory retirement age."""
        months = self.retirement_months(sex=sex, identity=identity, birth_date=birth_date)
        return months[1] if months else None

    def retirement_months(self, *, sex: str, identity: str, birth_date: dt.date) -> tuple[dt.date, dt.date, int] | None:
        """(the month the original age is reached, the statutory retirement month after the
        reform's delay, the original age in years); None without a rule."""
        if sex == "1":
            category = RetirementCategory.MALE
        elif identity == "cadre":
            category = RetirementCategory.FEMALE_CADRE
        else:
            category = RetirementCategory.FEMALE_WORKER
        birth_month = month_start(birth_date)
        memo = ("retirement", category, birth_month)
        if memo not in self._memo:
            self._memo[memo] = self._retirement_months(category, birth_month)
        return self._memo[memo]

    def _retirement_months(self, category: str, birth_month: dt.date) -> tuple[dt.date, dt.date, int] | None:
        rows = self.retirement.get(category, [])
        if not rows:
            return None
        # The rule in force when the person reaches the original age decides.
        row = rows[-1]
        for candidate in rows:
            if candidate.effective_from <= add_months(birth_month, candidate.original_age_years * 12):
                row = candidate
                break
        original = add_months(birth_month, row.original_age_years * 12)
        delay = 0
        if row.reform_start and row.cap_months:
            k = (original.year - row.reform_start.year) * 12 + original.month - row.reform_start.month
            if k >= 0:
                delay = min(row.cap_months, k // max(row.step_months, 1) + 1)
        return original, add_months(original, delay), row.original_age_years


@dataclass(frozen=True)
class InEffect:
    """Every parameter in force in one month, with the row it comes from (None: no row, so
    nothing is in force, or a setting keeps its default)."""

    month: dt.date
    limits: list[tuple[str, Limits | None, BaseLimit | None]]  # per insurance type
    rates: list[tuple[str, Rate | None]]  # per insurance type but work injury
    injury: list[tuple[int, InjuryRate | None]]  # per industry risk class 1-8
    retirement: list[tuple[str, RetirementRule | None, dt.date | None]]  # and the retirement month
    # of someone reaching the rule's original age in this month
    settings: list[tuple[str, Decimal, Setting | None]]


def in_effect(snapshot: ParamSnapshot, month: dt.date) -> InEffect:
    """What an administrator checks after a notice: the values in force in ``month``.

    The limits are the ones of the month's year as published by then (a year without its own
    limits shows the year used, provisionally); rates, risk classes, retirement rules and
    settings are the rows in force in the month, as every lookup of the snapshot takes them.
    """
    month = month_start(month)
    limits = []
    for itype in InsuranceType.values:
        found = snapshot.base_limits(month.year, itype, as_of=month)
        row = None
        if found is not None:
            row = next(r for r in snapshot.limits[(found.row_year, itype)] if r.pk == found.row_id)
        limits.append((itype, found, row))
    rates = [
        (itype, _latest(snapshot.rates.get(itype, []), month)) for itype in InsuranceType.values if itype != "injury"
    ]
    injury = [(risk, _latest(snapshot.injury.get(risk, []), month)) for risk in range(1, 9)]
    retirement = []
    for category in RetirementCategory.values:
        rule = _latest(snapshot.retirement.get(category, []), month)
        retires = None
        if rule is not None:
            born = add_months(month, -rule.original_age_years * 12)
            sex, identity = ("1", "") if category == RetirementCategory.MALE else ("2", _IDENTITY[category])
            retires = snapshot.retirement_month(sex=sex, identity=identity, birth_date=born)
        retirement.append((category, rule, retires))
    settings = [
        (key, snapshot.setting(key, month), _latest(snapshot.settings.get(key, []), month)) for key in SETTING_DEFAULTS
    ]
    return InEffect(month, limits, rates, injury, retirement, settings)


# The person identity (register.choices.PersonIdentity) retirement_month reads for a woman.
_IDENTITY: dict[str, str] = {RetirementCategory.FEMALE_CADRE: "cadre", RetirementCategory.FEMALE_WORKER: "worker"}


# (signature, snapshot) of the last load() in this process.
_last: tuple | None = None


def _signature() -> tuple:
    """The token of ParamsVersion, which triggers change with every parameter write: one
    primary-key read (it was a COUNT and two MAXes of every parameter table, the costliest
    query of a single audit). None while the row is missing (a test database just flushed):
    no cached snapshot is keyed by None but one read while it was missing, and any write
    to a parameter table sets the row again."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT token FROM {connection.ops.quote_name(ParamsVersion._meta.db_table)} WHERE id = 1")
        row = cursor.fetchone()
    return (connection.alias, connection.settings_dict["NAME"], row[0] if row else None)


@dataclass(frozen=True)
class Gap:
    """A parameter an administrator must add: business of that month cannot be computed.

    kind: "rate" (no Rate in force for the month), "injury_rate" (no InjuryRate in force for
    the risk classes in ``detail``), "limits" (no year at all has limits for the type) or
    "provisional" (the month's year has no limits yet: ``detail`` is the year used). All but
    "provisional" make enrolments of that month fail (NO_RATE, NO_BASE_LIMITS).
    """

    kind: str
    insurance_type: str
    month: dt.date
    detail: tuple = ()

    @property
    def is_error(self) -> bool:
        return self.kind != "provisional"


def parameter_gaps(snapshot: ParamSnapshot, months: list[dt.date]) -> list[Gap]:
    """What is missing for the given months (the current and next month on the admin pages)."""
    gaps: list[Gap] = []
    for month in months:
        for itype in InsuranceType.values:
            if itype == "injury":
                missing = tuple(c for c in range(1, 9) if _latest(snapshot.injury.get(c, []), month) is None)
                if missing:
                    gaps.append(Gap("injury_rate", itype, month, missing))
            elif _latest(snapshot.rates.get(itype, []), month) is None:
                gaps.append(Gap("rate", itype, month))
            limits = snapshot.base_limits(month.year, itype)
            if limits is None:
                gaps.append(Gap("limits", itype, month))
            elif limits.provisional:
                gaps.append(Gap("provisional", itype, month, (limits.row_year,)))
    return gaps
