"""退休人员待遇申报: the employer declares the retirement of an employee, so that the pension
starts (DOMAIN §5b, §6, §7).

退休年月 is the month the person retires, still a contributing month; from the next month
every relation of the person at this employer ends (终止, reason 03) and the pension starts.
Who may retire when:
- 正常退休: at the statutory retirement month (the 2025 reform's delay, in the parameters).
  A person short of the minimum contribution months then may keep contributing (延长缴费)
  and retire as 正常退休 in any later month once the minimum is reached.
- 弹性提前退休: at most 36 months before the statutory month, never before the original
  age (60 / 55 / 50), and only with the minimum contribution months.
- 弹性延迟退休: at most 36 months after the statutory month.
- 特殊工种提前退休 / 病退: from their own ages (men 55 / women 45, men 50 / women 45), before
  the statutory month; special jobs need at least 8 years of them.
The minimum contribution months by year of retirement count the distinct months with a
pension line on the register (at every employer), the months still to come here up to 退休年月,
and the deemed months (视同缴费), which may not overlap them.

正常退休 is audited automatically for every employer; every other kind, deemed months and a
backdated 退休年月 go to a clerk, with the materials (scans) the kind needs attached.
The audit records the estimate (测算, ``shebao.register.pension``) on the row; the approval
writes the retiree record with its benefit items from it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from shebao.business.common import BANK_ACCOUNT, bank_account_digits, check_registered_names, id_fields
from shebao.core import bulk, clock
from shebao.core.identity import clean_text, id_key
from shebao.core.months import add_months, format_month, month_range, month_start, months_between
from shebao.params.services import ParamSnapshot
from shebao.register import endings, pension
from shebao.register.choices import BenefitItem, RetirementKind, SuspendReason
from shebao.register.models import Person, Relation, RelationStatus, Retiree, RetireeBenefit
from shebao.workflow.fields import FieldSpec, RowResult, as_month, normalise_row, zh_label
from shebao.workflow.models import Item
from shebao.workflow.printing import Column, PrintForm, choice_label, money, seq_name_id
from shebao.workflow.registry import (
    AuditContext,
    BusinessType,
    Locking,
    Names,
    Preview,
    PreviewColumn,
    PreviewNote,
    PreviewTable,
    Section,
    register,
)
from shebao.workflow.rules import E, Issue, Rule, W, text

CODE = "retiree_benefit"
FLEX_MONTHS = 36  # 弹性提前 / 弹性延迟: at most this many months before / after the statutory month
AHEAD_MONTHS = 3  # 退休年月 may be declared at most this many months ahead
MAX_DEEMED = 600
# Ages (years) from which a kind may retire, by sex code (1 male, 2 female): the long-standing
# rules for special jobs (国发〔1978〕104号) and for sickness (完全丧失劳动能力).
KIND_AGES = {
    RetirementKind.SPECIAL_JOB.value: {"1": 55, "2": 45},
    RetirementKind.SICK.value: {"1": 50, "2": 45},
}
SPECIAL_JOB_MIN_YEARS = Decimal(8)
# The materials a kind (or deemed months) needs attached when it goes to a clerk.
MATERIALS = {
    RetirementKind.FLEXIBLE_EARLY.value: gettext_noop("职工本人弹性提前退休书面申请"),
    RetirementKind.FLEXIBLE_DELAY.value: gettext_noop("弹性延迟退休书面协议（须在法定退休年龄前签订）"),
    RetirementKind.SPECIAL_JOB.value: gettext_noop("从事特殊工种岗位及年限的证明材料（档案记载、审批表）"),
    RetirementKind.SICK.value: gettext_noop("劳动能力鉴定委员会出具的完全丧失劳动能力鉴定结论"),
}
DEEMED_MATERIAL = gettext_noop("视同缴费年限认定材料（人事档案、招工录用审批表等）")

FIELDS = [
    *id_fields(name_help=gettext_noop("须与参保登记的姓名一致")),
    FieldSpec(
        "kind",
        gettext_noop("退休类别"),
        "choice",
        True,
        RetirementKind,
        default=RetirementKind.NORMAL.value,
        help=gettext_noop("正常退休以外的类别须上传相应材料，由经办机构审核"),
        template_help=gettext_noop("填写代码或名称，如 01 或 正常退休"),
    ),
    FieldSpec(
        "retire_month",
        gettext_noop("退休年月"),
        "month",
        True,
        text_format=True,
        help=gettext_noop("退休当月仍为缴费月份，次月起领取养老金"),
        template_help=gettext_noop("格式 2026-05；退休当月仍缴费，次月起领取养老金"),
    ),
    FieldSpec(
        "deemed_months",
        gettext_noop("视同缴费月数"),
        "text",
        False,
        default="0",
        max_length=10,
        help=gettext_noop("经认定的视同缴费年限折算的月数，须上传认定材料"),
        template_help=gettext_noop("整数月数，没有填 0"),
        example="0",
    ),
    FieldSpec(
        "special_years",
        gettext_noop("特殊工种年限"),
        "text",
        False,
        max_length=10,
        help=gettext_noop("特殊工种提前退休时填写，单位为年"),
        template_help=gettext_noop("特殊工种提前退休时填写，单位为年，如 10"),
        example="",
    ),
    FieldSpec("bank", gettext_noop("养老金发放银行"), "text", True, max_length=60, example="中国工商银行武汉江岸支行"),
    FieldSpec(
        "account",
        gettext_noop("银行账号"),
        "text",
        True,
        max_length=40,
        text_format=True,
        help=gettext_noop("须为本人名下的银行账户"),
        template_help=gettext_noop("本人名下银行账户，8 至 30 位数字；请将该列设为文本格式"),
        example="6222020200012345678",
    ),
    FieldSpec("phone", gettext_noop("联系电话"), "phone", True, text_format=True),
]
F = {spec.name: spec for spec in FIELDS}

RULES = [
    Rule("RETIRE_DEEMED_FORMAT", E, gettext_noop("「视同缴费月数」须为 0 到 {max} 之间的整数月数。")),
    Rule("RETIRE_SPECIAL_FORMAT", E, gettext_noop("「特殊工种年限」须为 0 到 50 之间的年数，最多一位小数。")),
    Rule("RETIRE_SPECIAL_REQUIRED", E, gettext_noop("退休类别为“特殊工种提前退休”时须填写「特殊工种年限」。")),
    Rule(
        "RETIRE_SPECIAL_SHORT",
        E,
        gettext_noop(
            "特殊工种提前退休须累计从事特殊工种满 {minimum} 年（高空和特别繁重体力劳动满 10 年、"
            "井下和高温作业满 9 年），填写的「特殊工种年限」为 {years} 年。"
        ),
    ),
    Rule("RETIRE_ACCOUNT_FORMAT", E, gettext_noop("「银行账号」须为 8 到 30 位数字，请核对。")),
    Rule("RETIRE_MONTH_TOO_FAR", E, gettext_noop("「退休年月」不能晚于 {latest}：最多提前 {months} 个月申报。")),
    Rule(
        "RETIRE_NOT_CONTRIBUTING",
        E,
        gettext_noop("该人员未在本单位参加养老保险，不能申报退休；已在本单位因退休减员的人员除外。"),
    ),
    Rule("RETIRE_ALREADY_RETIRED", E, gettext_noop("该人员已办理退休，不能重复申报。")),
    Rule(
        "RETIRE_MONTH_NOT_LAST",
        E,
        gettext_noop("该人员已于 {stop} 因退休在本单位停保，「退休年月」应为其最后缴费月份 {last}。"),
    ),
    Rule(
        "RETIRE_NO_STATUTORY",
        E,
        gettext_noop("无法确定该人员的法定退休年月（缺少出生日期、性别或法定退休年龄参数），请联系经办机构。"),
    ),
    Rule(
        "RETIRE_NORMAL_EARLY",
        E,
        gettext_noop(
            "正常退休的「退休年月」不能早于法定退休年月 {statutory}；提前退休请选择“弹性提前退休”等相应的退休类别。"
        ),
    ),
    Rule(
        "RETIRE_NORMAL_LATE",
        E,
        gettext_noop(
            "该人员 {statutory} 达到法定退休年龄时已满最低缴费年限，正常退休的「退休年月」应为 {statutory}；"
            "推迟退休请选择“弹性延迟退休”。"
        ),
    ),
    Rule("RETIRE_EARLY_NOT_BEFORE", E, gettext_noop("弹性提前退休的「退休年月」须早于法定退休年月 {statutory}。")),
    Rule(
        "RETIRE_EARLY_TOO_EARLY",
        E,
        gettext_noop(
            "弹性提前退休最多提前 {months} 个月，且不能早于原法定退休年龄 {age} 周岁：「退休年月」不能早于 {earliest}。"
        ),
    ),
    Rule("RETIRE_DELAY_NOT_AFTER", E, gettext_noop("弹性延迟退休的「退休年月」须晚于法定退休年月 {statutory}。")),
    Rule(
        "RETIRE_DELAY_TOO_LATE",
        E,
        gettext_noop("弹性延迟退休最多延迟 {months} 个月：「退休年月」不能晚于 {latest}。"),
    ),
    Rule(
        "RETIRE_KIND_TOO_YOUNG",
        E,
        gettext_noop("{kind}须年满 {age} 周岁：「退休年月」不能早于 {earliest}。"),
    ),
    Rule(
        "RETIRE_KIND_NOT_BEFORE",
        E,
        gettext_noop("{kind}的「退休年月」须早于法定退休年月 {statutory}；到达法定退休年龄的请选择“正常退休”。"),
    ),
    Rule(
        "RETIRE_SHORT_OF_MINIMUM",
        E,
        gettext_noop(
            "截至「退休年月」累计缴费 {months} 个月（含视同缴费 {deemed} 个月），不足 {year} 年退休所需的最低缴费年限 "
            "{minimum} 个月，尚差 {short} 个月：可在本单位继续缴费（延长缴费），满最低缴费年限后再申报。"
        ),
    ),
    Rule(
        "RETIRE_DEEMED_OVERLAP",
        E,
        gettext_noop(
            "「视同缴费月数」{deemed} 个月超过参加工作至首次实际缴费之间的 {available} 个月："
            "视同缴费期间不能与实际缴费月份重叠。"
        ),
    ),
    Rule(
        "RETIRE_MEDICAL_SHORT",
        W,
        gettext_noop(
            "医疗保险累计缴费 {months} 个月，不足退休人员享受医疗保险待遇所需的 {minimum} 年（{required} 个月）："
            "须一次性补缴 {short} 个月的医疗保险费后，方可享受退休人员医疗保险待遇。"
        ),
    ),
    Rule(
        "RETIRE_ESTIMATE_UNAVAILABLE",
        W,
        gettext_noop("尚未设置养老金计发基数或计发月数，暂不能测算养老金，由经办机构核定待遇。"),
    ),
]


# --- the row's own values --------------------------------------------------------------------


def deemed_months(value: object) -> int | None:
    """视同缴费月数 as a whole number of months (None: not one)."""
    text = clean_text(value)
    if text == "":
        return 0
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite() or number != number.to_integral_value() or not 0 <= number <= MAX_DEEMED:
        return None
    return int(number)


def special_years(value: object) -> Decimal | None:
    """特殊工种年限 in years, at most one decimal (None: not one)."""
    text = clean_text(value)
    if not re.fullmatch(r"\d{1,2}(\.\d+)?", text):
        return None
    number = Decimal(text)
    if number > 50 or number != number.quantize(Decimal("0.1")):
        return None
    return number.quantize(Decimal("0.1"))


# --- what the register says about a person -------------------------------------------------------


@dataclass
class Facts:
    """One person, as the rules, the estimate and the effect need them."""

    person: Person
    relations: list[Relation]  # at this employer
    retired: bool
    pension_months: set[dt.date] = field(default_factory=set)
    medical_months: set[dt.date] = field(default_factory=set)
    history: list[pension.PaidMonth] = field(default_factory=list)

    @property
    def contributing_pension(self) -> Relation | None:
        return next(
            (r for r in self.relations if r.insurance_type == "pension" and r.status == RelationStatus.CONTRIBUTING),
            None,
        )

    @property
    def stopped_for_retirement(self) -> dt.date | None:
        """The 停保年月 of a pension relation here terminated for 03 退休 (no benefit yet)."""
        ended = [
            r.end_month
            for r in self.relations
            if r.insurance_type == "pension"
            and r.status == RelationStatus.TERMINATED
            and r.end_reason == SuspendReason.RETIRE
            and r.end_month
        ]
        return max(ended) if ended else None


def gather(employer_id: int, keys: list[str], *, with_lines: bool = True, upto: dt.date | None = None) -> dict:
    """Facts per id_key for the persons the register knows: a constant number of queries per
    thousand persons."""
    persons = {}
    for start in range(0, len(keys), 1000):
        persons.update({p.id_key: p for p in Person.objects.filter(id_key__in=keys[start : start + 1000])})
    ids = [p.pk for p in persons.values()]
    relations: dict[int, list[Relation]] = defaultdict(list)
    retired: set[int] = set()
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        for rel in Relation.objects.filter(person_id__in=chunk, employer_id=employer_id).order_by("start_month", "id"):
            relations[rel.person_id].append(rel)
        retired.update(Retiree.objects.filter(person_id__in=chunk).values_list("person_id", flat=True))
    out = {key: Facts(p, relations[p.pk], p.pk in retired) for key, p in persons.items()}
    if with_lines and ids:
        last = upto or add_months(clock.current_month(), AHEAD_MONTHS)
        histories = pension.pension_histories(ids, last)
        medical = pension.paid_months(ids, "medical", last)
        for facts in out.values():
            facts.history = histories.get(facts.person.pk, [])
            facts.pension_months = {m.month for m in facts.history}
            facts.medical_months = medical.get(facts.person.pk, set())
    return out


@dataclass
class Reckoning:
    """The months a row's person counts at its 退休年月."""

    statutory: dt.date
    original: dt.date
    original_age: int
    paid: int  # distinct pension months on the register up to 退休年月, plus those still to come here
    deemed: int
    minimum: int | None
    available_for_deemed: int
    medical: int

    @property
    def counted(self) -> int:
        return self.paid + self.deemed


def future_months(facts: Facts, retire: dt.date) -> set[dt.date]:
    """Months still to come up to 退休年月 while the person contributes to pension here."""
    rel = facts.contributing_pension
    if rel is None:
        return set()
    return {m for m in month_range(max(clock.current_month(), rel.start_month), add_months(retire, 1))}


def reckon(facts: Facts, retire: dt.date, deemed: int, params: ParamSnapshot) -> Reckoning | None:
    person = facts.person
    months = params.retirement_months(sex=person.sex, identity=person.identity, birth_date=person.birth_date)
    if months is None:
        return None
    original, statutory, age = months
    future = future_months(facts, retire)
    pension_months = {m for m in facts.pension_months if m <= retire} | future
    medical_months = {m for m in facts.medical_months if m <= retire}
    if any(r.insurance_type == "medical" and r.status == RelationStatus.CONTRIBUTING for r in facts.relations):
        medical_months |= future
    min_age = params.setting_int("min_work_age", retire)
    work_from = add_months(month_start(person.birth_date), min_age * 12)
    if person.first_work_date:
        work_from = max(work_from, month_start(person.first_work_date))
    first_paid = min(pension_months) if pension_months else add_months(retire, 1)
    return Reckoning(
        statutory=statutory,
        original=original,
        original_age=age,
        paid=len(pension_months),
        deemed=deemed,
        minimum=params.minimum_contribution_months(retire.year),
        available_for_deemed=max(months_between(work_from, first_paid), 0),
        medical=len(medical_months) + deemed,
    )


def eligibility(facts: Facts, data: dict, params: ParamSnapshot) -> tuple[list[Issue], Reckoning | None]:
    """The register rules of one row (see the module's docstring)."""
    issues: list[Issue] = []
    retire = as_month(data.get("retire_month", ""))
    deemed = deemed_months(data.get("deemed_months", "0"))
    if facts.retired:
        return [Issue("RETIRE_ALREADY_RETIRED", "id_number")], None
    stopped = facts.stopped_for_retirement
    if facts.contributing_pension is None and stopped is None:
        return [Issue("RETIRE_NOT_CONTRIBUTING", "id_number")], None
    if retire is None or deemed is None:
        return issues, None
    if facts.contributing_pension is None and stopped is not None and retire != add_months(stopped, -1):
        issues.append(
            Issue(
                "RETIRE_MONTH_NOT_LAST",
                "retire_month",
                {"stop": format_month(stopped), "last": format_month(add_months(stopped, -1))},
            )
        )
    r = reckon(facts, retire, deemed, params)
    if r is None:
        issues.append(Issue("RETIRE_NO_STATUTORY", "retire_month"))
        return issues, None
    statutory = {"statutory": format_month(r.statutory)}
    kind = data.get("kind", "")
    short = r.minimum is not None and r.counted < r.minimum
    if kind == RetirementKind.NORMAL:
        if retire < r.statutory:
            issues.append(Issue("RETIRE_NORMAL_EARLY", "retire_month", statutory))
        elif retire > r.statutory and r.minimum is not None:
            # 延长缴费: later than the statutory month only while short of the minimum there.
            at_statutory = reckon(facts, r.statutory, deemed, params)
            if at_statutory is not None and at_statutory.counted >= r.minimum:
                issues.append(Issue("RETIRE_NORMAL_LATE", "retire_month", statutory))
    elif kind == RetirementKind.FLEXIBLE_EARLY:
        earliest = max(add_months(r.statutory, -FLEX_MONTHS), r.original)
        if retire >= r.statutory:
            issues.append(Issue("RETIRE_EARLY_NOT_BEFORE", "retire_month", statutory))
        elif retire < earliest:
            issues.append(
                Issue(
                    "RETIRE_EARLY_TOO_EARLY",
                    "retire_month",
                    {"months": FLEX_MONTHS, "age": r.original_age, "earliest": format_month(earliest)},
                )
            )
    elif kind == RetirementKind.FLEXIBLE_DELAY:
        latest = add_months(r.statutory, FLEX_MONTHS)
        if retire <= r.statutory:
            issues.append(Issue("RETIRE_DELAY_NOT_AFTER", "retire_month", statutory))
        elif retire > latest:
            issues.append(
                Issue("RETIRE_DELAY_TOO_LATE", "retire_month", {"months": FLEX_MONTHS, "latest": format_month(latest)})
            )
    elif kind in KIND_AGES:
        age = KIND_AGES[kind].get(facts.person.sex)
        if age is not None:
            earliest = add_months(month_start(facts.person.birth_date), age * 12)
            if retire < earliest:
                issues.append(
                    Issue(
                        "RETIRE_KIND_TOO_YOUNG",
                        "retire_month",
                        {"kind": _kind_text(kind), "age": age, "earliest": format_month(earliest)},
                    )
                )
        if retire >= r.statutory:
            issues.append(Issue("RETIRE_KIND_NOT_BEFORE", "retire_month", {"kind": _kind_text(kind), **statutory}))
    if deemed > r.available_for_deemed:
        issues.append(
            Issue("RETIRE_DEEMED_OVERLAP", "deemed_months", {"deemed": deemed, "available": r.available_for_deemed})
        )
    if short and r.minimum is not None:
        issues.append(
            Issue(
                "RETIRE_SHORT_OF_MINIMUM",
                "retire_month",
                {
                    "months": r.counted,
                    "deemed": r.deemed,
                    "year": retire.year,
                    "minimum": r.minimum,
                    "short": r.minimum - r.counted,
                },
            )
        )
    medical_years = params.setting_int(
        "medical_min_years_male" if facts.person.sex == "1" else "medical_min_years_female", retire
    )
    if medical_years and r.medical < medical_years * 12:
        issues.append(
            Issue(
                "RETIRE_MEDICAL_SHORT",
                "retire_month",
                {
                    "months": r.medical,
                    "minimum": medical_years,
                    "required": medical_years * 12,
                    "short": medical_years * 12 - r.medical,
                },
            )
        )
    return issues, r


def _kind_text(kind: str) -> dict:
    return text(zh_label(RetirementKind, kind))


def estimate_for(facts: Facts, data: dict, params: ParamSnapshot) -> pension.Estimate | None:
    retire = as_month(data.get("retire_month", ""))
    deemed = deemed_months(data.get("deemed_months", "0"))
    if retire is None or deemed is None:
        return None
    rel = facts.contributing_pension
    return pension.estimate(
        facts.history,
        retire_month=retire,
        birth_date=facts.person.birth_date,
        deemed_months=deemed,
        params=params,
        project_from=max(clock.current_month(), rel.start_month) if rel else None,
    )


# Every key `figures` writes: an audit replaces all of them, so that a row audited again
# never keeps an earlier audit's estimate (or its basis) beside this one's.
FIGURE_KEYS = (
    "statutory_month",
    "counted_months",
    "minimum_months",
    "estimate_basic",
    "estimate_account",
    "estimate_transition",
    "estimate_total",
    "estimate_basis",
)


def figures(est: pension.Estimate | None, r: Reckoning | None) -> dict[str, str]:
    """What the audit records on a row: the statutory month, the months counted and the estimate."""
    out: dict[str, str] = {}
    if r is not None:
        out["statutory_month"] = format_month(r.statutory)
        out["counted_months"] = str(r.counted)
        out["minimum_months"] = "" if r.minimum is None else str(r.minimum)
    if est is not None and not est.missing:
        out.update(
            {
                "estimate_basic": f"{est.basic:.2f}",
                "estimate_account": f"{est.account:.2f}",
                "estimate_transition": f"{est.transition:.2f}",
                "estimate_total": f"{est.total:.2f}",
                "estimate_basis": est.as_basis(),  # type: ignore[dict-item]
            }
        )
    return out


# --- the single form's estimate ------------------------------------------------------------------


def _estimate_table(params: ParamSnapshot, data: dict, employer) -> PreviewTable:
    """Before saving (测算): the monthly pension by item, for a person of this employer."""
    employer_id = getattr(employer, "pk", None)
    key = data.get("id_key") or ""
    if not key and data.get("id_number"):
        key = id_key(data.get("id_type", ""), data["id_number"])
    if not isinstance(employer_id, int) or not key:
        return PreviewTable(rows=[])
    facts = gather(employer_id, [key]).get(key)
    if facts is None or facts.retired or (facts.contributing_pension is None and not facts.stopped_for_retirement):
        return PreviewTable(rows=[])
    est = estimate_for(facts, data, params)
    retire = as_month(data.get("retire_month", ""))
    deemed = deemed_months(data.get("deemed_months", "0"))
    r = reckon(facts, retire, deemed, params) if retire and deemed is not None else None
    if est is None or est.missing:
        return PreviewTable(rows=[])
    start = format_month(est.pension_start)
    rows = [
        {"item": str(BenefitItem.BASIC.label), "amount": f"{est.basic:.2f}", "start": start},
        {"item": str(BenefitItem.ACCOUNT.label), "amount": f"{est.account:.2f}", "start": start},
        {"item": str(BenefitItem.TRANSITION.label), "amount": f"{est.transition:.2f}", "start": start},
    ]
    notes = {
        "statutory": format_month(r.statutory) if r else "",
        "years": f"{est.years:.2f}",
        "months": _("实际缴费 %(paid)s 个月（其中预计 %(projected)s 个月）、视同缴费 %(deemed)s 个月")
        % {
            "paid": est.paid_months + est.projected_months,
            "projected": est.projected_months,
            "deemed": est.deemed_months,
        },
        "base": _("%(amount)s 元") % {"amount": f"{est.pension_base:.2f}"}
        + ("" if not est.provisional_base else _("（暂按 %(year)s 年度）") % {"year": est.pension_base_year}),
        "index": f"{est.average_index:.4f}",
        "balance": f"{est.balance:.2f}",
        "payout": str(est.payout_months),
    }
    return PreviewTable(rows=rows, totals={"amount": f"{est.total:.2f}"}, notes=notes)


ESTIMATE_PREVIEW = Preview(
    key="estimate",
    title=gettext_noop("养老金测算（估算，以社会保险经办机构核定为准）"),
    columns=(
        PreviewColumn("item", gettext_noop("待遇项目")),
        PreviewColumn("amount", gettext_noop("月标准(元)"), numeric=True),
        PreviewColumn("start", gettext_noop("起始年月")),
    ),
    totalled=("amount",),
    total_title=gettext_noop("月养老金合计"),
    compute=_estimate_table,
    needs=("id_number", "retire_month", "deemed_months"),
    notes=(
        PreviewNote("statutory", gettext_noop("法定退休年月：")),
        PreviewNote("months", gettext_noop("缴费月数：")),
        PreviewNote("years", gettext_noop("缴费年限："), gettext_noop("年")),
        PreviewNote("base", gettext_noop("计发基数：")),
        PreviewNote("index", gettext_noop("平均缴费指数：")),
        PreviewNote("balance", gettext_noop("个人账户储存额："), gettext_noop("元")),
        PreviewNote("payout", gettext_noop("计发月数："), gettext_noop("个月")),
    ),
)


# --- the printed form: 退休人员待遇申报表 ----------------------------------------------------------


def _print_row(item, seq: int) -> dict:
    data = item.data or {}
    kind = data.get("kind", "")
    return {
        **seq_name_id(item, seq),
        "kind": f"{kind} {choice_label(RetirementKind, kind)}" if kind else "",
        "retire_month": data.get("retire_month", ""),
        "deemed_months": data.get("deemed_months", ""),
        "special_years": data.get("special_years", ""),
        "bank": data.get("bank", ""),
        "account": data.get("account", ""),
        "phone": data.get("phone", ""),
        "estimate_total": money(data.get("estimate_total")),
    }


PRINT_FORM = PrintForm(
    title_msgid=gettext_noop("退休人员待遇申报表"),
    row=_print_row,
    totalled=("estimate_total",),
    columns=(
        Column("seq", gettext_noop("序号"), 8),
        Column("name", gettext_noop("姓名"), 18),
        Column("id_number", gettext_noop("证件号码"), 34),
        Column("kind", gettext_noop("退休类别"), 26),
        Column("retire_month", gettext_noop("退休年月"), 15),
        Column("deemed_months", gettext_noop("视同缴费月数"), 13),
        Column("special_years", gettext_noop("特殊工种年限"), 13),
        Column("bank", gettext_noop("养老金发放银行"), 36),
        Column("account", gettext_noop("银行账号"), 34),
        Column("phone", gettext_noop("联系电话"), 22),
        Column("estimate_total", gettext_noop("测算月养老金"), 18, money=True),
    ),
)

REVIEW_FIELDS = [
    FieldSpec("statutory_month", gettext_noop("法定退休年月"), "text", in_template=False),
    FieldSpec("counted_months", gettext_noop("累计缴费月数"), "text", in_template=False),
    FieldSpec("minimum_months", gettext_noop("最低缴费月数"), "text", in_template=False),
    FieldSpec("estimate_basic", gettext_noop("基础养老金"), "text", in_template=False),
    FieldSpec("estimate_account", gettext_noop("个人账户养老金"), "text", in_template=False),
    FieldSpec("estimate_transition", gettext_noop("过渡性养老金"), "text", in_template=False),
    FieldSpec("estimate_total", gettext_noop("测算月养老金"), "text", in_template=False),
]


@register
class RetireeBenefitDeclaration(BusinessType):
    code = CODE
    names = Names(
        title=gettext_noop("退休人员待遇申报"),
        result_query=gettext_noop("退休人员待遇申报审核结果查询"),
        single_export=gettext_noop("导出申报表"),
        batch_export=gettext_noop("导出申报表"),
    )
    fields = FIELDS
    review_fields = REVIEW_FIELDS
    rules = RULES
    sections = [
        Section(gettext_noop("人员信息"), ("id_type", "id_number", "name", "phone")),
        Section(
            gettext_noop("退休信息"), ("kind", "retire_month", "deemed_months", "special_years"), preview="estimate"
        ),
        Section(gettext_noop("养老金发放账户"), ("bank", "account")),
    ]
    previews = [ESTIMATE_PREVIEW]
    print_form = PRINT_FORM
    materials = [
        gettext_noop("《退休人员待遇申报表》（打印件，加盖单位公章）"),
        gettext_noop("本人居民身份证复印件"),
        gettext_noop("养老金发放银行账户（本人名下）复印件"),
    ]
    batch = True
    review_for_ordinary = False
    locking = Locking.PERSON
    picks_person = True

    # --- rows -------------------------------------------------------------------------------------
    def check_row(self, raw: dict, params: ParamSnapshot, employer: object = None) -> RowResult:
        result = normalise_row(self.fields, raw)
        data = result.data
        deemed = deemed_months(data.get("deemed_months", "0"))
        if deemed is None:
            result.add("RETIRE_DEEMED_FORMAT", F["deemed_months"], max=MAX_DEEMED)
        else:
            data["deemed_months"] = str(deemed)
        years = None
        if data.get("special_years"):
            years = special_years(data["special_years"])
            if years is None:
                result.add("RETIRE_SPECIAL_FORMAT", F["special_years"])
            else:
                data["special_years"] = str(years)
        kind = data.get("kind", "") if not result.field_has_issue("kind") else ""
        if kind == RetirementKind.SPECIAL_JOB and not result.field_has_issue("special_years"):
            if years is None:
                result.add("RETIRE_SPECIAL_REQUIRED", F["special_years"])
            elif years < SPECIAL_JOB_MIN_YEARS:
                result.add(
                    "RETIRE_SPECIAL_SHORT", F["special_years"], minimum=int(SPECIAL_JOB_MIN_YEARS), years=str(years)
                )
        if data.get("account") and not result.field_has_issue("account"):
            data["account"] = account = bank_account_digits(data["account"])
            if not BANK_ACCOUNT.fullmatch(account):
                result.add("RETIRE_ACCOUNT_FORMAT", F["account"])
        retire = as_month(data.get("retire_month", "")) if not result.field_has_issue("retire_month") else None
        if retire is not None:
            latest = add_months(clock.current_month(), AHEAD_MONTHS)
            if retire > latest:
                result.add("RETIRE_MONTH_TOO_FAR", F["retire_month"], latest=format_month(latest), months=AHEAD_MONTHS)
        return result

    def check_known_rows(self, results: list[RowResult], employer: object) -> None:
        check_registered_names(results, employer)

    # --- audit ------------------------------------------------------------------------------------
    def audit(self, tx, items, ctx: AuditContext) -> dict[int, list[Issue]]:
        facts = gather(tx.employer_id, [item.id_key for item in items if item.id_key])
        out: dict[int, list[Issue]] = {}
        changed: list[Item] = []
        for item in items:
            person = facts.get(item.id_key)
            if person is None:
                out[item.pk] = [Issue("RETIRE_NOT_CONTRIBUTING", "id_number")]
                continue
            issues: list[Issue] = []
            if person.person.name != item.data.get("name"):
                issues.append(Issue("PERSON_MISMATCH", "name", {"name": item.data.get("name", "")}))
            found, reckoning = eligibility(person, item.data, ctx.params)
            issues += found
            est = estimate_for(person, item.data, ctx.params) if reckoning is not None else None
            if est is not None and est.missing:
                issues.append(Issue("RETIRE_ESTIMATE_UNAVAILABLE", "retire_month"))
            data = {**{k: v for k, v in item.data.items() if k not in FIGURE_KEYS}, **figures(est, reckoning)}
            if data != item.data:
                item.data = data
                changed.append(item)
            out[item.pk] = issues
        bulk.update_rows(Item, ["data"], [(item.pk, item.data) for item in changed])
        return out

    def review_reasons(self, tx, items, ctx: AuditContext) -> list[str]:
        """Every kind but 正常退休, deemed months and a backdated 退休年月 go to a clerk (DOMAIN §5b)."""
        reasons = []
        kinds = {item.data.get("kind") for item in items} - {RetirementKind.NORMAL.value}
        if kinds:
            reasons.append(_("弹性提前、弹性延迟、特殊工种提前退休和病退须经经办机构审核"))
        if any((deemed_months(item.data.get("deemed_months", "0")) or 0) > 0 for item in items):
            reasons.append(_("申报了视同缴费月数，须经经办机构审核认定"))
        now = clock.current_month()
        if any((as_month(item.data.get("retire_month", "")) or now) < add_months(now, -1) for item in items):
            reasons.append(_("退休年月早于上月（补办退休），须经经办机构审核"))
        return reasons

    # Only these rows can require a scan (the pages ask on every view of a batch).
    materials_rows = ~Q(data__kind=RetirementKind.NORMAL.value) | ~Q(data__deemed_months="0")

    def required_materials(self, tx, items) -> list[str]:
        """The scans a clerk needs: per kind, and for deemed months."""
        wanted = [MATERIALS[k] for k in MATERIALS if any(item.data.get("kind") == k for item in items)]
        if any((deemed_months(item.data.get("deemed_months", "0")) or 0) > 0 for item in items):
            wanted.append(DEEMED_MATERIAL)
        return wanted

    # --- effect on the register ---------------------------------------------------------------------
    def apply(self, tx, items, ctx: AuditContext) -> None:
        # The audit recorded the estimate on the rows: the apply needs no contribution lines.
        facts = gather(tx.employer_id, [item.id_key for item in items if item.id_key], with_lines=False)
        now = clock.now()
        changed: list[Relation] = []
        retirees: list[Retiree] = []
        benefits: list[tuple[Retiree, dict]] = []
        ends: dict[dt.date, list[int]] = defaultdict(list)
        for item in items:
            person = facts.get(item.id_key)
            retire = as_month(item.data.get("retire_month", ""))
            if person is None or retire is None or person.retired:
                continue
            end = add_months(retire, 1)
            for rel in person.relations:
                if rel.status == RelationStatus.CONTRIBUTING:
                    rel.status, rel.end_month, rel.end_reason = RelationStatus.TERMINATED, end, SuspendReason.RETIRE
                    changed.append(rel)
            ends[end].append(person.person.pk)
            data = item.data
            years = special_years(data.get("special_years", "")) if data.get("special_years") else None
            retiree = Retiree(
                person=person.person,
                employer_id=tx.employer_id,
                transaction=tx,
                kind=data.get("kind", RetirementKind.NORMAL.value),
                retire_month=retire,
                pension_start=end,
                contribution_months=int(data.get("counted_months") or 0)
                - (deemed_months(data.get("deemed_months")) or 0),
                deemed_months=deemed_months(data.get("deemed_months", "0")) or 0,
                special_job_years=years,
                bank=data.get("bank", ""),
                account=data.get("account", ""),
                phone=data.get("phone", ""),
                basis=data.get("estimate_basis") or {},
                created_at=now,
                updated_at=now,
            )
            retirees.append(retiree)
            benefits.append((retiree, data))
        endings.end_relations(tx, changed)
        for end, person_ids in ends.items():
            endings.void_lines(tx, tx.employer_id, person_ids, end)
        Retiree.objects.bulk_create(retirees, batch_size=1000)
        items_out = []
        for retiree, data in benefits:
            for item_code, key in (
                (BenefitItem.BASIC, "estimate_basic"),
                (BenefitItem.ACCOUNT, "estimate_account"),
                (BenefitItem.TRANSITION, "estimate_transition"),
            ):
                amount = money(data.get(key))
                if amount is not None:
                    items_out.append(
                        RetireeBenefit(
                            retiree=retiree, item=item_code, monthly=amount, start_month=retiree.pension_start
                        )
                    )
        RetireeBenefit.objects.bulk_create(items_out, batch_size=2000)

    # --- what the pages ask of the type ---------------------------------------------------------------
    def prefill(self, person: Person, employer) -> dict[str, str]:
        """单个办理's search: the person picked, with the statutory month as 退休年月."""
        params = ParamSnapshot.load()
        statutory = params.retirement_month(sex=person.sex, identity=person.identity, birth_date=person.birth_date)
        return {
            "id_type": person.id_type,
            "id_number": person.id_number,
            "name": person.name,
            "phone": person.phone,
            "kind": RetirementKind.NORMAL.value,
            "retire_month": format_month(statutory) if statutory else "",
            "deemed_months": "0",
        }

    template_note = gettext_noop(
        "本模板已预填本单位 {first} 至 {last} 达到法定退休年龄的参保人员"
        "（退休类别为正常退休，退休年月为法定退休年月），"
        "请补充「养老金发放银行」「银行账号」；弹性提前、弹性延迟等其他退休类别请修改「退休类别」和「退休年月」，"
        "并在提交审批前上传相应材料。不申报的人员可删除该行。"
    )

    def template_rows(self, employer, params: ParamSnapshot) -> tuple[dict[str, str], list[dict[str, str]]]:
        """The template pre-filled with the persons contributing to pension here whose statutory
        month lies from last month to AHEAD_MONTHS ahead (the months a declaration is for)."""
        now = clock.current_month()
        first, last = add_months(now, -1), add_months(now, AHEAD_MONTHS)
        persons = (
            Person.objects.filter(
                relations__employer_id=employer.pk,
                relations__insurance_type="pension",
                relations__status=RelationStatus.CONTRIBUTING,
                retiree__isnull=True,
            )
            .only("id_type", "id_number", "name", "sex", "identity", "birth_date", "phone")
            .order_by("name_key", "id")
        )
        rows = []
        for person in persons.iterator(chunk_size=2000):
            statutory = params.retirement_month(sex=person.sex, identity=person.identity, birth_date=person.birth_date)
            if statutory is None or not first <= statutory <= last:
                continue
            rows.append(
                {
                    "id_type": person.id_type,
                    "id_number": person.id_number,
                    "name": person.name,
                    "kind": RetirementKind.NORMAL.value,
                    "retire_month": format_month(statutory),
                    "deemed_months": "0",
                    "phone": person.phone,
                }
            )
        return {"first": format_month(first), "last": format_month(last)}, rows

    def summary(self, data: dict) -> str:
        kind = data.get("kind", "")
        label = str(RetirementKind(kind).label) if kind in RetirementKind.values else kind
        return f"{data.get('retire_month', '')} {label}"
