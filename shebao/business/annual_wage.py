"""个人工资年度申报: the employer declares each person's past-year monthly average wage, and
the declared year's bases follow (DOMAIN §5a, §7).

申报年度 Y is the year the new base applies to. For every person contributing with it in Y
the employer declares 上年度月平均工资 (the past year's total pay there ÷ months worked there).
The base of Y per insurance type is that wage clamped to Y's floor and ceiling of the type,
from Y's base month (parameter ``base_from_month``, default January); months of Y whose lines
exist get adjustment lines (补差) through the one re-base engine (``register.rebase``). A
person whose relations here all start after the base month keeps the base of the enrolment
for Y: the row is accepted with a warning and changes nothing.

Declarations are accepted within Y's window (``params.DeclarationWindow``); when it closes,
``carry_over_job`` gives every person still undeclared the previous year's declared wage
re-clamped to Y's limits (沿用), recorded as carried over, with adjustments like a
declaration. One open declaration per employer, person and year (the declaration key).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from shebao.business.common import check_registered_names, id_fields
from shebao.core import bulk, clock
from shebao.core.choices import ALL_INSURANCE, InsuranceType
from shebao.core.identity import id_key
from shebao.core.money import fen
from shebao.core.months import format_month
from shebao.core.text import list_separator
from shebao.employers.models import Employer
from shebao.params.services import ParamSnapshot
from shebao.register import rebase
from shebao.register.choices import EmploymentForm
from shebao.register.contributions import base_for
from shebao.register.models import ContributionBase, Person, Relation
from shebao.workflow.fields import FieldSpec, RowResult, as_money, normalise_row, zh_label
from shebao.workflow.models import Item, ItemStatus, State, Transaction
from shebao.workflow.printing import Column, PrintForm, money, seq_name_id
from shebao.workflow.registry import (
    AuditContext,
    BusinessType,
    Locking,
    Names,
    Preview,
    PreviewColumn,
    PreviewTable,
    Section,
    register,
)
from shebao.workflow.rules import E, Issue, Rule, W

log = logging.getLogger(__name__)

CODE = "annual_wage"
FIRST_YEAR, LAST_YEAR = 2000, 2100

HEADER_FIELDS = [
    FieldSpec(
        "year",
        gettext_noop("申报年度"),
        "text",
        True,
        max_length=4,
        help=gettext_noop("新缴费基数适用的年度，如 2026；申报的是上一年度的月平均工资"),
    ),
]

FIELDS = [
    *id_fields(name_help=gettext_noop("须与参保登记的姓名一致")),
    FieldSpec(
        "wage",
        gettext_noop("上年度月平均工资"),
        "money",
        True,
        help=gettext_noop("上年度在本单位的工资总额 ÷ 在本单位工作的月数（含奖金、津贴、补贴、加班工资）"),
        template_help=gettext_noop(
            "上年度在本单位的工资总额 ÷ 实际工作月数，单位元，最多两位小数；上年度中途入职的按实际工作月数计算"
        ),
        example="6500.00",
    ),
]
F = {spec.name: spec for spec in FIELDS}
WAGE_LABEL = F["wage"]

RULES = [
    Rule("WAGE_YEAR_INVALID", E, gettext_noop("「申报年度」应为 {first} 至 {last} 之间的四位年份，如 2026。")),
    Rule(
        "WAGE_WINDOW_UNSET",
        E,
        gettext_noop("{year} 年度个人工资年度申报的受理期尚未公布，暂不能办理，请关注经办机构通知。"),
    ),
    Rule(
        "WAGE_WINDOW_NOT_OPEN",
        E,
        gettext_noop("{year} 年度个人工资年度申报的受理期为 {opens} 至 {closes}，尚未开始，请于 {opens} 起办理。"),
    ),
    Rule(
        "WAGE_WINDOW_CLOSED",
        E,
        gettext_noop(
            "{year} 年度个人工资年度申报的受理期为 {opens} 至 {closes}，已经截止；"
            "未申报的人员已沿用上年度申报工资，如需更正请联系经办机构。"
        ),
    ),
    Rule(
        "WAGE_BELOW_MINIMUM",
        W,
        gettext_noop("「上年度月平均工资」{wage} 元低于本地区最低工资标准 {minimum} 元，请核对。"),
    ),
    Rule(
        "WAGE_BELOW_MINIMUM_REFUSED",
        E,
        gettext_noop("「上年度月平均工资」{wage} 元低于本地区最低工资标准 {minimum} 元，不能申报，请核对。"),
    ),
    Rule(
        "WAGE_NOT_CONTRIBUTING",
        E,
        gettext_noop("该人员 {year} 年度未在本单位参保缴费，不能申报其工资；请核对证件号码，或先办理增员。"),
    ),
    Rule(
        "WAGE_ENROLLED_AFTER_BASE_MONTH",
        W,
        gettext_noop(
            "该人员 {start} 起在本单位参保，晚于 {year} 年度缴费基数起始月 {base_month}："
            "本年度沿用增员时核定的缴费基数，本行申报不改变其基数。"
        ),
    ),
]


# --- the declared year, its window and its base month ---------------------------------------


def declared_year(value: object) -> int | None:
    text = str(value or "").strip()
    if len(text) == 4 and text.isdigit() and FIRST_YEAR <= int(text) <= LAST_YEAR:
        return int(text)
    return None


def base_month(params: ParamSnapshot, year: int) -> dt.date:
    """The first month of the year the declared base applies to (1-12, default January)."""
    month = params.setting_int("base_from_month", dt.date(year, 1, 1))
    return dt.date(year, min(max(month, 1), 12), 1)


def window_issue(params: ParamSnapshot, year: int, today: dt.date) -> Issue | None:
    """Why the year's declarations are not accepted today (None: the window is open)."""
    window = params.declaration_window(year)
    if window is None:
        return Issue("WAGE_WINDOW_UNSET", "year", {"year": year})
    dates = {"year": year, "opens": window.opens.isoformat(), "closes": window.closes.isoformat()}
    if today < window.opens:
        return Issue("WAGE_WINDOW_NOT_OPEN", "year", dates)
    if today > window.closes:
        return Issue("WAGE_WINDOW_CLOSED", "year", dates)
    return None


def offered_year(params: ParamSnapshot, today: dt.date) -> int:
    """The year the pages offer first: the one whose window is open today, else this year."""
    open_years = [y for y, w in params.windows.items() if w.opens <= today <= w.closes]
    return max(open_years) if open_years else today.year


# --- what the register knows of a person at the employer ---------------------------------------


@dataclass
class Known:
    """A person of the employer for a declared year."""

    person: Person
    # The insurance types contributing here in some month of the year, with the earliest
    # start month of those relations.
    types: list[str] = field(default_factory=list)
    start: dt.date | None = None
    # The year's bases here per type, and the wage declared here for the latest earlier year.
    bases: dict[str, Decimal] = field(default_factory=dict)
    last_wage: Decimal | None = None

    def old_bases(self, params: ParamSnapshot, year: int) -> dict[str, Decimal | None]:
        """Per type, the base the year's months are charged on before this declaration: the
        year's base, or the last declared wage clamped to the year's limits."""
        out: dict[str, Decimal | None] = {}
        for itype in self.types:
            if itype in self.bases:
                out[itype] = self.bases[itype]
            elif self.last_wage is not None:
                out[itype] = base_for(params.base_limits(year, itype), self.last_wage)
            else:
                out[itype] = None
        return out

    def keeps_enrolment_base(self, params: ParamSnapshot, year: int) -> bool:
        return self.start is not None and self.start > base_month(params, year)


def in_year(year: int) -> Q:
    """Relations contributing in at least one month of the year (停保年月 is the first month
    without contribution)."""
    return Q(start_month__lte=dt.date(year, 12, 1)) & (Q(end_month__isnull=True) | Q(end_month__gt=dt.date(year, 1, 1)))


def known_persons(employer_id: int, year: int, id_keys: list[str]) -> dict[str, Known]:
    """The persons of these ID keys that have a relation at the employer, by ID key."""
    out: dict[str, Known] = {}
    for start in range(0, len(id_keys), 1000):
        chunk = id_keys[start : start + 1000]
        persons = {
            p.pk: p
            for p in Person.objects.filter(id_key__in=chunk, relations__employer_id=employer_id)
            .distinct()
            .only("id", "id_key", "name", "employment_form")
        }
        if not persons:
            continue
        known = {pk: Known(person) for pk, person in persons.items()}
        for person_id, itype, start_month in Relation.objects.filter(
            in_year(year), employer_id=employer_id, person_id__in=list(persons)
        ).values_list("person_id", "insurance_type", "start_month"):
            entry = known[person_id]
            if itype not in entry.types:
                entry.types.append(itype)
            entry.start = start_month if entry.start is None else min(entry.start, start_month)
        for entry in known.values():
            entry.types.sort(key=ALL_INSURANCE.index)
        for person_id, itype, base in ContributionBase.objects.filter(
            employer_id=employer_id, year=year, person_id__in=list(persons)
        ).values_list("person_id", "insurance_type", "base"):
            known[person_id].bases[itype] = base
        for person_id, wage in last_wages(employer_id, year, list(persons)).items():
            known[person_id].last_wage = wage
        out.update({entry.person.id_key: entry for entry in known.values()})
    return out


def last_wages(employer_id: int, year: int, person_ids: list[int]) -> dict[int, Decimal]:
    """Per person, the wage declared at the employer for the latest year before `year`."""
    latest = dict(
        ContributionBase.objects.filter(employer_id=employer_id, year__lt=year, person_id__in=person_ids)
        .values("person_id")
        .annotate(year=Max("year"))
        .values_list("person_id", "year")
    )
    out: dict[int, Decimal] = {}
    if latest:
        for person_id, y, wage in ContributionBase.objects.filter(
            employer_id=employer_id, person_id__in=list(latest), year__in=set(latest.values())
        ).values_list("person_id", "year", "declared_wage"):
            if latest[person_id] == y:
                out[person_id] = wage
    return out


def contributing_in_year(employer_id: int, year: int):
    """The persons contributing with the employer in some month of the year, in name order."""
    ids = Relation.objects.filter(in_year(year), employer_id=employer_id).values("person_id")
    return Person.objects.filter(pk__in=ids).order_by("name_key", "name", "id").defer("photo")


# --- the rows' figures: old and new base per insurance type -----------------------------------


def new_bases(params: ParamSnapshot, year: int, types: list[str], wage: Decimal) -> dict[str, Decimal]:
    return {itype: base_for(params.base_limits(year, itype), wage) for itype in types}


def figure_keys(itype: str) -> tuple[str, str]:
    return f"old_{itype}", f"new_{itype}"


def _amount(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def figures(params: ParamSnapshot, year: int, known: Known, wage: Decimal) -> dict[str, str]:
    """What the audit records on a row for the clerk and the printed form: the old and new
    base of every type the person contributes to here (kept old where the row changes none)."""
    old = known.old_bases(params, year)
    keeps = known.keeps_enrolment_base(params, year)
    new: dict[str, Decimal | None] = old if keeps else dict(new_bases(params, year, known.types, wage))
    out = {}
    for itype in known.types:
        old_key, new_key = figure_keys(itype)
        out[old_key], out[new_key] = _amount(old.get(itype)), _amount(new.get(itype))
    out["old_base"] = _summary(old)
    out["new_base"] = _summary(new)
    return out


def _summary(bases: dict[str, Decimal | None]) -> str:
    """One amount when every type has the same base, else one per type (养老 4498.00、…)."""
    values = {v for v in bases.values() if v is not None}
    if not values:
        return ""
    if len(values) == 1 and all(v is not None for v in bases.values()):
        return _amount(values.pop())
    return "、".join(f"{InsuranceType(t).label} {_amount(v)}" for t, v in bases.items() if v is not None)


# --- the single form's preview ---------------------------------------------------------------


def _change_table(params: ParamSnapshot, data: dict, employer) -> PreviewTable:
    """Before saving: per insurance type the old base, the new one and the monthly change of
    the employer's and the person's contribution."""
    year = declared_year(data.get("year"))
    wage = as_money(data.get("wage", ""))
    employer_id = getattr(employer, "pk", None)
    key = data.get("id_key") or ""
    if not key and data.get("id_number"):
        key = id_key(data.get("id_type", ""), data["id_number"])
    if year is None or wage is None or wage <= 0 or not isinstance(employer_id, int) or not key:
        return PreviewTable(rows=[])
    known = known_persons(employer_id, year, [key]).get(key)
    if known is None or not known.types:
        return PreviewTable(rows=[])
    month = base_month(params, year)
    if "new_base" in data:  # audited: the figures the audit recorded (the register has moved on since)
        old = {t: as_money(data.get(figure_keys(t)[0], "")) for t in known.types}
        new = {t: as_money(data.get(figure_keys(t)[1], "")) for t in known.types}
    else:
        old = known.old_bases(params, year)
        keeps = known.keeps_enrolment_base(params, year)
        new = old if keeps else dict(new_bases(params, year, known.types, wage))
    rows = []
    total_employer = total_personal = Decimal("0.00")
    for itype in known.types:
        rate = params.rate(itype, month, employer.risk_class, employer.injury_float_percent)
        before, after = old.get(itype), new.get(itype)
        employer_change = personal_change = None
        if rate is not None and after is not None:
            employer_change = fen(after * rate.employer) - (fen(before * rate.employer) if before is not None else 0)
            personal_change = fen(after * rate.personal) - (fen(before * rate.personal) if before is not None else 0)
            total_employer += employer_change
            total_personal += personal_change
        rows.append(
            {
                "insurance": str(InsuranceType(itype).label),
                "old": _amount(before),
                "new": _amount(after),
                "employer": _signed(employer_change),
                "personal": _signed(personal_change),
            }
        )
    return PreviewTable(rows=rows, totals={"employer": _signed(total_employer), "personal": _signed(total_personal)})


def _signed(value: Decimal | None) -> str:
    if value is None:
        return ""
    return f"+{value:.2f}" if value > 0 else f"{value:.2f}"


CHANGE_PREVIEW = Preview(
    key="change",
    title=gettext_noop("核定结果预览（按险种：原缴费基数、新缴费基数、每月应缴变化）"),
    columns=(
        PreviewColumn("insurance", gettext_noop("险种")),
        PreviewColumn("old", gettext_noop("原缴费基数"), numeric=True),
        PreviewColumn("new", gettext_noop("新缴费基数"), numeric=True),
        PreviewColumn("employer", gettext_noop("单位每月应缴变化"), numeric=True),
        PreviewColumn("personal", gettext_noop("个人每月应缴变化"), numeric=True),
    ),
    totalled=("employer", "personal"),
    compute=_change_table,
    needs=("year", "id_number", "wage"),
)


# --- the printed form: 社会保险缴费工资申报表 ------------------------------------------------


def _print_row(item, seq: int) -> dict:
    data = item.data or {}
    row = {**seq_name_id(item, seq), "wage": money(data.get("wage"))}
    for itype in ALL_INSURANCE:
        old_key, new_key = figure_keys(itype)
        row[old_key], row[new_key] = money(data.get(old_key)), money(data.get(new_key))
    return row


def _type_columns() -> tuple[Column, ...]:
    """Per insurance type, under its name: 原基数 and 新基数."""
    out: list[Column] = []
    for itype in ALL_INSURANCE:
        group = zh_label(InsuranceType, itype)
        old_key, new_key = figure_keys(itype)
        out.append(Column(old_key, OLD_BASE, 15, group_msgid=group, sub_msgid=gettext_noop("原基数"), money=True))
        out.append(Column(new_key, NEW_BASE, 15, group_msgid=group, sub_msgid=gettext_noop("新基数"), money=True))
    return tuple(out)


OLD_BASE, NEW_BASE = gettext_noop("原缴费基数"), gettext_noop("新缴费基数")


PRINT_FORM = PrintForm(
    title_msgid=gettext_noop("社会保险缴费工资申报表"),
    wage_key="wage",
    totalled=tuple(key for itype in ALL_INSURANCE for key in figure_keys(itype)),
    row=_print_row,
    columns=(
        Column("seq", gettext_noop("序号"), 8),
        Column("name", gettext_noop("姓名"), 18),
        Column("id_number", gettext_noop("证件号码"), 34),
        Column("wage", gettext_noop("上年度月平均工资"), 18, money=True),
        *_type_columns(),
    ),
)

REVIEW_FIELDS = [
    FieldSpec("old_base", gettext_noop("原缴费基数"), "text", in_template=False),
    FieldSpec("new_base", gettext_noop("新缴费基数"), "text", in_template=False),
]


@register
class AnnualWage(BusinessType):
    code = CODE
    names = Names(
        title=gettext_noop("个人工资年度申报"),
        result_query=gettext_noop("个人工资年度申报审核结果查询"),
        single_export=gettext_noop("导出申报表"),
        batch_export=gettext_noop("导出申报表"),
    )
    header_fields = HEADER_FIELDS
    fields = FIELDS
    review_fields = REVIEW_FIELDS
    rules = RULES
    sections = [Section(gettext_noop("申报工资"), tuple(f.name for f in FIELDS), preview="change")]
    previews = [CHANGE_PREVIEW]
    print_form = PRINT_FORM
    materials = [
        gettext_noop("《社会保险缴费工资申报表》（打印件，加盖单位公章）"),
        gettext_noop("上年度工资发放明细或个人所得税扣缴申报记录"),
        gettext_noop("经办人居民身份证原件"),
    ]
    batch = True
    review_for_ordinary = True
    locking = Locking.DECLARATION
    picks_person = True
    template_columns = [("current_base", gettext_noop("现缴费基数"))]
    template_note = gettext_noop(
        "本模板已预填本单位 {year} 年度参保缴费的人员及其现缴费基数，只需填写「上年度月平均工资」。"
        "上年度月平均工资 = 上年度在本单位的工资总额 ÷ 在本单位实际工作的月数：上年度中途入职的，"
        "按实际工作月数计算（如 7 月入职，工资总额除以 6）。不申报的人员可删除该行；"
        "受理期截止后仍未申报的人员沿用上年度申报工资。"
    )

    # --- header and rows ------------------------------------------------------------------
    def header_initial(self, params: ParamSnapshot) -> dict[str, str]:
        return {"year": str(offered_year(params, clock.today()))}

    def check_header(self, raw: dict, params: ParamSnapshot) -> RowResult:
        result = normalise_row(self.header_fields, raw)
        text = result.data.get("year", "")
        if text and not result.field_has_issue("year"):
            year = declared_year(text)
            if year is None:
                result.issues.append(Issue("WAGE_YEAR_INVALID", "year", {"first": FIRST_YEAR, "last": LAST_YEAR}))
            else:
                result.data["year"] = str(year)  # ２０２６ as 2026
                issue = window_issue(params, year, clock.today())
                if issue is not None:
                    result.issues.append(issue)
        return result

    def check_row(self, raw: dict, params: ParamSnapshot, employer: object = None) -> RowResult:
        result = normalise_row(self.fields, raw)
        year = declared_year(raw.get("year"))
        if year is not None:
            result.data["year"] = str(year)  # the preview, the audit and the printed form read it
        wage = as_money(result.data.get("wage", "")) if not result.field_has_issue("wage") else None
        if year is None or wage is None:
            return result
        seen: set[tuple] = set()
        for itype in ALL_INSURANCE:
            limits = params.base_limits(year, itype)
            if limits is None or (limits.floor, limits.ceiling) in seen:
                continue
            seen.add((limits.floor, limits.ceiling))
            common = {"wage": str(wage), "year": year, "floor": str(limits.floor), "ceiling": str(limits.ceiling)}
            if limits.floor <= wage <= limits.ceiling:
                continue
            if params.setting_int("wage_out_of_range_is_error", dt.date(year, 1, 1)) == 1:
                result.add("WAGE_OUT_OF_RANGE", WAGE_LABEL, **common)
            elif wage < limits.floor:
                result.add("WAGE_BELOW_FLOOR", WAGE_LABEL, **common)
            else:
                result.add("WAGE_ABOVE_CEILING", WAGE_LABEL, **common)
        return result

    def check_known_rows(self, results: list[RowResult], employer: object) -> None:
        check_registered_names(results, employer)

    def declaration_key(self, header: dict, data: dict, employer_id: int | None = None) -> str | None:
        """Employer, person and year: someone who changed employers is declared by both."""
        year = declared_year(header.get("year"))
        if year is None or not data.get("id_number"):
            return None
        return f"{CODE}:{year}:{employer_id or ''}:{id_key(data.get('id_type', ''), data['id_number'])}"

    # --- audit ------------------------------------------------------------------------------
    def audit(self, tx, items, ctx: AuditContext) -> dict[int, list[Issue]]:
        year = declared_year((tx.header or {}).get("year"))
        out: dict[int, list[Issue]] = {item.pk: [] for item in items}
        if year is None:
            for item in items:
                out[item.pk].append(Issue("WAGE_YEAR_INVALID", "year", {"first": FIRST_YEAR, "last": LAST_YEAR}))
            return out
        closed = window_issue(ctx.params, year, clock.today())
        known = known_persons(tx.employer_id, year, [item.id_key for item in items if item.id_key])
        minimum = ctx.params.minimum_wage(tx.employer.wage_tier, dt.date(year - 1, 12, 1))
        refuse_minimum = ctx.params.setting_int("minimum_wage_is_error", dt.date(year, 1, 1)) == 1
        first = format_month(base_month(ctx.params, year))
        changed: list[Item] = []
        for item in items:
            issues = out[item.pk]
            if closed is not None:
                issues.append(closed)
            person = known.get(item.id_key)
            wage = as_money(item.data.get("wage", ""))
            if person is not None and person.person.name != item.data.get("name"):
                issues.append(Issue("PERSON_MISMATCH", "name", {"name": item.data.get("name", "")}))
            if person is None or not person.types:
                issues.append(Issue("WAGE_NOT_CONTRIBUTING", "id_number", {"year": year}))
                continue
            if wage is None:
                continue
            if minimum is not None and wage < minimum and person.person.employment_form != EmploymentForm.PART_TIME:
                code = "WAGE_BELOW_MINIMUM_REFUSED" if refuse_minimum else "WAGE_BELOW_MINIMUM"
                issues.append(Issue(code, "wage", {"wage": str(wage), "minimum": str(minimum)}))
            if person.keeps_enrolment_base(ctx.params, year):
                issues.append(
                    Issue(
                        "WAGE_ENROLLED_AFTER_BASE_MONTH",
                        "wage",
                        {"start": format_month(person.start), "year": year, "base_month": first},
                    )
                )
            item.data = {**item.data, **figures(ctx.params, year, person, wage)}
            changed.append(item)
        bulk.update_rows(Item, ["data"], [(item.pk, item.data) for item in changed])
        return out

    # --- effect on the register -------------------------------------------------------------
    def apply(self, tx, items, ctx: AuditContext) -> None:
        year = declared_year((tx.header or {}).get("year"))
        if year is None:
            return
        known = known_persons(tx.employer_id, year, [item.id_key for item in items if item.id_key])
        wages: dict[int, Decimal] = {}
        for item in items:
            person = known.get(item.id_key)
            wage = as_money(item.data.get("wage", ""))
            if person is None or not person.types or wage is None or person.keeps_enrolment_base(ctx.params, year):
                continue
            wages[person.person.pk] = wage
        if wages:
            rebase.declare(
                tx=tx,
                employer=tx.employer,
                year=year,
                from_month=base_month(ctx.params, year),
                wages=wages,
                params=ctx.params,
            )

    # --- what the pages ask of the type -------------------------------------------------------
    def prefill(self, person: Person, employer) -> dict[str, str]:
        """单个办理's search: the person picked, with the year offered and no wage yet."""
        return {
            **self.header_initial(ParamSnapshot.load()),
            "id_type": person.id_type,
            "id_number": person.id_number,
            "name": person.name,
        }

    def template_rows(self, employer, params: ParamSnapshot) -> tuple[dict[str, str], list[dict[str, str]]]:
        """The template pre-filled: the persons contributing here in the offered year, with
        their current base (the 养老 one first) as a reading aid; the wage column is blank."""
        year = offered_year(params, clock.today())
        rows = []
        persons = contributing_in_year(employer.pk, year)
        for start in range(0, persons.count(), 2000):
            chunk = list(persons[start : start + 2000])
            known = known_persons(employer.pk, year, [p.id_key for p in chunk])
            for person in chunk:
                entry = known.get(person.id_key)
                old = entry.old_bases(params, year) if entry else {}
                current = next((v for v in old.values() if v is not None), None)
                rows.append(
                    {
                        "id_type": person.id_type,
                        "id_number": person.id_number,
                        "name": person.name,
                        "current_base": _amount(current),
                    }
                )
        return {"year": str(year)}, rows

    def submit_notes(self, tx: Transaction) -> list[str]:
        """At 提交审批: the persons contributing here in the year and in no declaration of it
        yet (employers declare in several batches): a warning, never a refusal."""
        year = declared_year((tx.header or {}).get("year"))
        if year is None:
            return []
        declared = (
            Item.objects.filter(
                transaction__employer_id=tx.employer_id,
                transaction__business_type=CODE,
                transaction__header__year=str(year),
                status=ItemStatus.IMPORTED,
            )
            .exclude(transaction__state=State.CANCELLED)
            .values("id_key")
        )
        missing = contributing_in_year(tx.employer_id, year).exclude(id_key__in=declared)
        count = missing.count()
        if not count:
            return []
        shown = list_separator().join(missing.values_list("name", flat=True)[:10])
        more = _("等") if count > 10 else ""
        return [
            _(
                "本单位 %(year)s 年度参保缴费的人员中尚有 %(n)d 人未申报：%(names)s%(more)s。"
                "可另行办理；受理期截止后仍未申报的人员沿用上年度申报工资。"
            )
            % {"year": year, "n": count, "names": shown, "more": more}
        ]

    def summary(self, data: dict) -> str:
        wage = data.get("wage", "")
        return f"{data.get('year', '')} {wage}".strip()


# --- 沿用: the window closed ------------------------------------------------------------------


def carry_over(year: int, params: ParamSnapshot | None = None) -> int:
    """Every person contributing in the year with an employer, with no base of the year there
    and a wage declared there for an earlier year, gets that wage re-clamped to the year's
    limits (沿用), recorded as carried over, with adjustments like a declaration; one database
    transaction per employer. Returns the persons carried over. Idempotent: a person carried
    over has a base of the year."""
    params = params or ParamSnapshot.load()
    from_month = base_month(params, year)
    employer_ids = (
        Relation.objects.filter(in_year(year)).values_list("employer_id", flat=True).distinct().order_by("employer_id")
    )
    carried = 0
    for employer_id in list(employer_ids):
        persons = (
            Relation.objects.filter(in_year(year), employer_id=employer_id, start_month__lte=from_month)
            .exclude(
                Exists(ContributionBase.objects.filter(person=OuterRef("person"), employer_id=employer_id, year=year))
            )
            .values_list("person_id", flat=True)
            .distinct()
        )
        ids = list(persons)
        if not ids:
            continue
        wages: dict[int, Decimal] = {}
        for start in range(0, len(ids), 1000):
            wages.update(last_wages(employer_id, year, ids[start : start + 1000]))
        if not wages:
            continue
        with transaction.atomic():
            employer = Employer.objects.get(pk=employer_id)
            rebase.declare(
                tx=None,
                employer=employer,
                year=year,
                from_month=from_month,
                wages=wages,
                params=params,
                carried_over=True,
            )
        carried += len(wages)
    return carried


def carry_over_job() -> str:
    """Daily: 沿用 for the years whose window has closed (this year and the last: a carried
    over person has a base of the year, so a run finds only who is still undeclared)."""
    params = ParamSnapshot.load()
    today = clock.today()
    done = []
    for year, window in sorted(params.windows.items()):
        if window.closes >= today or year < today.year - 1:
            continue
        n = carry_over(year, params)
        done.append(f"{year}: {n}")
        log.info("carry-over of %s: %s persons", year, n)
    return "; ".join(done) or "no closed declaration window"
