"""增员(续保): enrolment and resumption of an employee (DOMAIN §5, §6, §8)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from shebao.business.common import id_fields, insurance_text, reason_text, sex_text
from shebao.core import bulk, clock
from shebao.core.choices import ALL_INSURANCE, IdType, InsuranceType, Sex, YesNo
from shebao.core.months import (
    add_months,
    anniversary,
    current_month,
    format_month,
    month_range,
    month_start,
    months_between,
)
from shebao.core.pinyin import name_sort_key
from shebao.params.services import ParamSnapshot
from shebao.register.choices import TERMINATING_REASONS, EmploymentForm, Hukou, PersonIdentity, SuspendReason
from shebao.register.contributions import Line, base_rows, compute_lines, upsert_bases
from shebao.register.models import ContributionBase, ContributionLine, LineKind, Person, Relation, RelationStatus
from shebao.register.pension import paid_months
from shebao.workflow.fields import (
    FIRST_DATE,
    LAST_DATE,
    FieldSpec,
    RowResult,
    as_date,
    as_money,
    as_month,
    normalise_row,
)
from shebao.workflow.printing import Column, PrintForm, choice_label, insurance_labels, money, seq_name_id
from shebao.workflow.registry import (
    AuditContext,
    BusinessType,
    Locking,
    Names,
    Photo,
    Preview,
    PreviewColumn,
    PreviewNote,
    PreviewTable,
    Section,
    register,
)
from shebao.workflow.rules import E, Issue, Rule, W, plain_list

FIELDS = [
    *id_fields(),
    FieldSpec(
        "sex",
        gettext_noop("性别"),
        "choice",
        False,
        Sex,
        help=gettext_noop("居民身份证可不填，按号码自动确定"),
        example="男",
    ),
    FieldSpec(
        "birth_date",
        gettext_noop("出生日期"),
        "date",
        False,
        text_format=True,
        help=gettext_noop("居民身份证可不填，按号码自动确定"),
        template_help=gettext_noop("居民身份证可不填；格式 2000-01-31"),
        example="1990-03-07",
    ),
    FieldSpec("ethnicity", gettext_noop("民族"), "text", False, max_length=20, in_template=False),
    FieldSpec("hukou", gettext_noop("户口性质"), "choice", True, Hukou),
    FieldSpec(
        "identity",
        gettext_noop("个人身份"),
        "choice",
        True,
        PersonIdentity,
        help=gettext_noop("决定女职工的法定退休年龄"),
    ),
    FieldSpec("employment_form", gettext_noop("用工形式"), "choice", True, EmploymentForm),
    FieldSpec("first_work_date", gettext_noop("参加工作日期"), "date", True, text_format=True),
    FieldSpec(
        "start_month",
        gettext_noop("参保起始年月"),
        "month",
        True,
        text_format=True,
        help=gettext_noop("开始缴费的月份，最晚为当前月份"),
        template_help=gettext_noop("格式 2025-03"),
    ),
    FieldSpec("wage", gettext_noop("申报月工资"), "money", True, help=gettext_noop("单位：元，最多两位小数")),
    FieldSpec(
        "insurance_types",
        gettext_noop("参保险种"),
        "insurance",
        False,
        InsuranceType,
        help=gettext_noop("不勾选表示参加全部险种"),
        template_help=gettext_noop("养老、医疗、失业、工伤、生育，用顿号分隔；留空表示全部"),
    ),
    FieldSpec("phone", gettext_noop("联系电话"), "phone", True, text_format=True),
    FieldSpec("address", gettext_noop("联系地址"), "text", False, max_length=200, example="武汉市江岸区沿江大道1号"),
    FieldSpec("make_card", gettext_noop("是否制卡"), "bool", False, YesNo, default=YesNo.NO.value),
    FieldSpec(
        "backpay_from",
        gettext_noop("补缴起始年月"),
        "month",
        False,
        text_format=True,
        help=gettext_noop("需追溯补缴时填写，补缴至参保起始年月的上一个月"),
        example="",
    ),
    FieldSpec("backpay_base", gettext_noop("补缴基数"), "money", False, example=""),
    # Last, so that the batch template's new column is at its end (a file without it still
    # imports: 否); the form shows it after 参保险种 (SECTION_FIELDS).
    FieldSpec(
        "delay_agreement",
        gettext_noop("弹性延迟退休协议"),
        "bool",
        False,
        YesNo,
        default=YesNo.NO.value,
        help=gettext_noop(
            "已达法定退休年龄、在法定退休年龄前已签订弹性延迟退休书面协议的选择“是”（最长延迟 36 个月），"
            "须上传协议由经办机构审核；其他人员选择“否”"
        ),
        template_help=gettext_noop("是 / 否，可不填（默认否）；已签订弹性延迟退休书面协议、已达法定退休年龄的填“是”"),
        example="否",
    ),
]
F = {spec.name: spec for spec in FIELDS}

# The form's 个人信息录入: every field but the back payment's, the agreement after 参保险种.
SECTION_FIELDS = tuple(
    name
    for spec in FIELDS
    if not spec.name.startswith("backpay_") and spec.name != "delay_agreement"
    for name in ((spec.name, "delay_agreement") if spec.name == "insurance_types" else (spec.name,))
)

# 弹性延迟退休: at most this many months after the statutory retirement month (国务院关于渐进式
# 延迟法定退休年龄的办法, 2024: 最长不超过三年).
DELAY_MAX_MONTHS = 36
DELAY_MATERIAL = gettext_noop("弹性延迟退休书面协议（须在法定退休年龄前签订）")

RULES = [
    # Rules that need only the row (and parameters).
    Rule("AGE_UNDER_MIN", E, gettext_noop("「参保起始年月」时该人员未满 {min_age} 周岁（出生于 {birth}），不能参保。")),
    Rule(
        "AGE_OVER_RETIREMENT",
        E,
        gettext_noop(
            "该人员已于 {retire} 达到法定退休年龄，不能参加养老、医疗、失业、生育保险；如仅参加工伤保险，"
            "请只选择“工伤”。"
        ),
    ),
    Rule("AGE_OVER_RETIREMENT_INJURY", W, gettext_noop("该人员已于 {retire} 达到法定退休年龄，仅参加工伤保险。")),
    Rule(
        "AGE_OVER_RETIREMENT_CHECK",
        W,
        gettext_noop(
            "该人员已于 {retire} 达到法定退休年龄：提交审批后将按参保登记核对其累计缴费月数，不足最低缴费年限的"
            "可延长缴费；已满最低缴费年限或没有养老保险缴费记录的不能参加养老、医疗、失业、生育保险（可只选择“工伤”）。"
            "已签订弹性延迟退休书面协议的，请在「弹性延迟退休协议」选择“是”。"
        ),
    ),
    Rule(
        "AGE_EXTENDED_CONTRIBUTION",
        W,
        gettext_noop(
            "该人员已于 {retire} 达到法定退休年龄，累计缴费 {paid} 个月，不足最低缴费年限 {minimum} 个月，"
            "可延长缴费至满最低缴费年限（尚差 {short} 个月）；满最低缴费年限后请及时办理退休。"
        ),
    ),
    Rule(
        "AGE_DELAY_AGREEMENT",
        W,
        gettext_noop(
            "该人员已于 {retire} 达到法定退休年龄，按弹性延迟退休增员（最晚延迟至 {latest}）："
            "弹性延迟退休书面协议须在法定退休年龄前签订，请上传协议，由经办机构审核。"
        ),
    ),
    Rule(
        "AGE_OVER_DELAY_LIMIT",
        E,
        gettext_noop(
            "弹性延迟退休最长延迟 {months} 个月：该人员的法定退休年月为 {retire}，「参保起始年月」最晚为 {latest}。"
            "累计缴费不足最低缴费年限需延长缴费的，请在「弹性延迟退休协议」选择“否”。"
        ),
    ),
    Rule(
        "DELAY_AGREEMENT_NOT_NEEDED",
        W,
        gettext_noop(
            "该人员的法定退休年月为 {retire}，「参保起始年月」未超过该月，按正常增员办理："
            "「弹性延迟退休协议」选择“是”不起作用，无需提交协议。"
        ),
    ),
    Rule("START_IN_FUTURE", E, gettext_noop("「参保起始年月」不能晚于当前月份 {current}。")),
    Rule(
        "START_TOO_OLD",
        E,
        gettext_noop(
            "「参保起始年月」早于当前月份超过 {months} 个月，请改为近 {months} 个月内；"
            "更早的月份请填写「追溯补缴」（补缴起始年月、补缴基数）。"
        ),
    ),
    Rule("START_BEFORE_WORK", E, gettext_noop("「参保起始年月」不能早于「参加工作日期」{work}。")),
    Rule("WORK_BEFORE_MIN_AGE", E, gettext_noop("「参加工作日期」早于该人员年满 {min_age} 周岁的日期，请核对。")),
    Rule("BACKPAY_AFTER_START", E, gettext_noop("「补缴起始年月」须早于「参保起始年月」{start}。")),
    Rule("BACKPAY_INCOMPLETE", E, gettext_noop("「追溯补缴」须同时填写补缴起始年月和补缴基数。")),
    Rule(
        "BACKPAY_BEFORE_WORK_AGE",
        E,
        gettext_noop("「补缴起始年月」{month} 时该人员未满 {min_age} 周岁或尚未参加工作，请核对。"),
    ),
    Rule("BACKPAY_AFTER_RETIREMENT", E, gettext_noop("「补缴起始年月」之后的 {month} 已达法定退休年龄，不能补缴。")),
    Rule(
        "BACKPAY_OVERLAP",
        E,
        gettext_noop("{month} 的{insurance}已有缴费记录，补缴月份不能重叠，请调整「补缴起始年月」。"),
    ),
    Rule(
        "INJURY_BACKPAY_EXCLUDED",
        W,
        gettext_noop(
            "工伤保险不能追溯补缴（不能覆盖已发生的事故）：补缴只含其他险种，工伤保险自「参保起始年月」起参保。"
        ),
    ),
    Rule(
        "INJURY_BACKPAY_NOT_ALLOWED",
        E,
        gettext_noop(
            "工伤保险不能追溯补缴（不能覆盖已发生的事故）：仅参加工伤保险时请清空「补缴起始年月」和「补缴基数」。"
        ),
    ),
    Rule("PHOTO_REQUIRED", E, gettext_noop("选择“是否制卡”为“是”时须上传照片，请点击「直接上传」。")),
    Rule("ALREADY_CONTRIBUTING_HERE", E, gettext_noop("该人员已在本单位参加{insurance}并正常缴费，无需增员。")),
    Rule(
        "CONTRIBUTING_ELSEWHERE",
        E,
        gettext_noop("该人员正在其他单位参加{insurance}，须由原单位办理减员后才能增员。"),
    ),
    Rule("TERMINATED", E, gettext_noop("该人员的参保关系已因{reason}终止，不能增员。")),
    Rule(
        "TERMINATED_RETIRED",
        E,
        gettext_noop("该人员已退休，退休后再就业只能参加工伤保险：请在「参保险种」中只选择“工伤”。"),
    ),
    Rule(
        "START_OVERLAP",
        E,
        gettext_noop("该人员{insurance}在 {month} 仍有参保记录（至 {end} 停保），「参保起始年月」不能早于 {end}。"),
    ),
]


def insurance_list(data: dict) -> list[str]:
    """The insurance codes of a row. A value that failed its check (INSURANCE_TYPES) is kept as
    typed, "养老、工商", and names no code: later rules see no type rather than a typo."""
    return [v for v in (data.get("insurance_types") or "").split(",") if v in ALL_INSURANCE]


# What a start month after the statutory retirement month means (the month itself is still a
# contributing month: the pension starts the month after).
PAST_INJURY = "injury"  # 工伤 only: allowed at any age (AGE_OVER_RETIREMENT_INJURY)
PAST_DELAY = "delay"  # 弹性延迟退休 within DELAY_MAX_MONTHS: a warning, a clerk, the agreement
PAST_DELAY_LIMIT = "over_delay"  # 弹性延迟退休 beyond DELAY_MAX_MONTHS: an error
PAST_EXTEND = "extend"  # no agreement: the audit counts the paid months (延长缴费 or refused)


def statutory_month(params: ParamSnapshot, *, sex: str, identity: str, birth: dt.date | None) -> dt.date | None:
    """The statutory retirement month of a row's person (None: not known)."""
    if birth is None or sex not in ("1", "2") or not FIRST_DATE <= birth <= LAST_DATE:
        return None
    return params.retirement_month(sex=sex, identity=identity, birth_date=birth)


def past_retirement(retire: dt.date | None, start: dt.date | None, types: list[str], agreement: bool) -> str | None:
    """Which case a row is in when its start month is after the statutory month (PAST_*);
    None when it is not, or either month or the insurance types are not known."""
    if not retire or not start or not types or start <= retire:
        return None
    if types == ["injury"]:
        return PAST_INJURY
    if agreement:
        return PAST_DELAY if start <= add_months(retire, DELAY_MAX_MONTHS) else PAST_DELAY_LIMIT
    return PAST_EXTEND


def stored_past_retirement(data: dict, params: ParamSnapshot) -> tuple[str, dt.date] | None:
    """past_retirement of a stored row (its normalised data), with the statutory month."""
    start = as_month(data.get("start_month") or "")
    retire = statutory_month(
        params,
        sex=data.get("sex") or "",
        identity=data.get("identity") or "",
        birth=as_date(data.get("birth_date") or ""),
    )
    case = past_retirement(retire, start, insurance_list(data), data.get("delay_agreement") == YesNo.YES)
    return (case, retire) if case and retire else None


def uses_delay_agreement(data: dict, params: ParamSnapshot) -> bool:
    """Whether a stored row is enrolled as 弹性延迟退休 (the agreement counts: a clerk checks it)."""
    found = stored_past_retirement(data, params)
    return found is not None and found[0] == PAST_DELAY


def backpay_months(data: dict) -> list[dt.date]:
    start, since = as_month(data.get("start_month", "")), as_month(data.get("backpay_from", ""))
    if not start or not since or since >= start:
        return []
    return month_range(since, start)


def _check_against_limits(
    result: RowResult, spec: FieldSpec, amount: Decimal, year: int, limits, params, now: dt.date
) -> bool:
    """A wage or base against a year's limits: a warning and clamped (an error by parameter).
    True when it is outside them."""
    common = {"wage": str(amount), "year": year, "floor": str(limits.floor), "ceiling": str(limits.ceiling)}
    if limits.floor <= amount <= limits.ceiling:
        return False
    if params.setting_int("wage_out_of_range_is_error", now) == 1:
        result.add("WAGE_OUT_OF_RANGE", spec, **common)
    elif amount < limits.floor:
        result.add("WAGE_BELOW_FLOOR", spec, **common)
    else:
        result.add("WAGE_ABOVE_CEILING", spec, **common)
    return True


def retroactive_months(data: dict, now: dt.date) -> list[dt.date]:
    """Every month before the current one that the enrolment creates contributions for: the
    back payment (补缴起始年月 up to the start) and a backdated start month up to now."""
    start = as_month(data.get("start_month", ""))
    if not start:
        return []
    since = as_month(data.get("backpay_from", ""))
    first = since if since and since < start else start
    return month_range(first, now)


def backpay_types(types: list[str], params: ParamSnapshot, now: dt.date) -> list[str]:
    """The insurance types a back payment covers: work injury only where the parameter allows."""
    if params.setting_int("injury_backpay_allowed", now) == 1:
        return types
    return [t for t in types if t != "injury"]


def _backpay_table(params: ParamSnapshot, data: dict, employer) -> PreviewTable:
    preview = backpay_preview(params, data, employer)
    return PreviewTable(
        rows=[
            {
                "month": line.month.strftime("%Y-%m"),
                "insurance": str(InsuranceType(line.insurance_type).label),
                "base": str(line.base),
                "employer": str(line.employer_amount),
                "personal": str(line.personal_amount),
            }
            for line in preview["lines"]
        ],
        totals={"employer": str(preview["total_employer"]), "personal": str(preview["total_personal"])},
        notes={"surcharge": str(preview["surcharge"])},
    )


BACKPAY_PREVIEW = Preview(
    key="backpay",
    title=gettext_noop("追溯月份应缴金额（补缴及追溯参保的月份，按月、按险种）"),
    columns=(
        PreviewColumn("month", gettext_noop("费款所属期")),
        PreviewColumn("insurance", gettext_noop("险种")),
        PreviewColumn("base", gettext_noop("缴费基数"), numeric=True),
        PreviewColumn("employer", gettext_noop("单位应缴"), numeric=True),
        PreviewColumn("personal", gettext_noop("个人应缴"), numeric=True),
    ),
    totalled=("employer", "personal"),
    notes=(PreviewNote("surcharge", gettext_noop("滞纳金（估算，实际以缴费日计算）："), gettext_noop("元")),),
    compute=_backpay_table,
    needs=("backpay_from", "backpay_base", "start_month"),
)


def _print_row(item, seq: int) -> dict:
    data = item.data or {}
    return {
        **seq_name_id(item, seq),
        "sex": choice_label(Sex, data["sex"]) if data.get("sex") else "",
        "birth_date": data.get("birth_date", ""),
        "start_month": data.get("start_month", ""),
        "wage": money(data.get("wage")),
        "insurance_types": insurance_labels(data.get("insurance_types", ""), blank_means_all=True),
        "phone": data.get("phone", ""),
        "backpay_from": data.get("backpay_from", ""),
        "backpay_base": money(data.get("backpay_base")) if data.get("backpay_from") else None,
    }


PRINT_FORM = PrintForm(
    title_msgid=gettext_noop("企业参保人员增员表"),
    wage_key="wage",
    row=_print_row,
    columns=(
        Column("seq", gettext_noop("序号"), 8),
        Column("name", gettext_noop("姓名"), 20),
        Column("id_number", gettext_noop("证件号码"), 36),
        Column("sex", gettext_noop("性别"), 8),
        Column("birth_date", gettext_noop("出生日期"), 18),
        Column("start_month", gettext_noop("参保起始年月"), 18),
        Column("wage", gettext_noop("申报月工资"), 18, money=True),
        Column("insurance_types", gettext_noop("参保险种"), 46),
        Column("phone", gettext_noop("联系电话"), 24),
        Column(
            "backpay_from",
            gettext_noop("追溯补缴起始年月"),
            16,
            group_msgid=gettext_noop("追溯补缴"),
            sub_msgid=gettext_noop("起始年月"),
        ),
        Column(
            "backpay_base",
            gettext_noop("追溯补缴基数"),
            18,
            group_msgid=gettext_noop("追溯补缴"),
            sub_msgid=gettext_noop("补缴基数"),
            money=True,
        ),
    ),
)


@register
class Enrol(BusinessType):
    code = "enrol"
    names = Names(
        title=gettext_noop("增员(续保)"),
        result_query=gettext_noop("批量增员审核结果查询"),
        single_export=gettext_noop("单个增员导出"),
        batch_export=gettext_noop("批量增员导出"),
    )
    fields = FIELDS
    rules = RULES
    sections = [
        Section(gettext_noop("个人信息录入"), SECTION_FIELDS),
        Section(gettext_noop("追溯补缴"), ("backpay_from", "backpay_base"), preview="backpay"),
    ]
    previews = [BACKPAY_PREVIEW]
    print_form = PRINT_FORM
    materials = [
        gettext_noop("《企业参保人员增员表》（打印件，加盖单位公章）"),
        gettext_noop("参保人员居民身份证复印件"),
        gettext_noop("劳动合同复印件"),
        gettext_noop("经办人居民身份证原件"),
    ]
    photo = Photo(
        title=gettext_noop("照片（制作社会保障卡）"),
        missing=gettext_noop("尚未上传照片。选择“是否制卡”为“是”时须上传。"),
    )
    batch = True
    review_for_ordinary = True
    locking = Locking.PERSON
    windowed = True
    resumes = True

    def prefill(self, person: Person, employer) -> dict[str, str]:
        """续保: the person's registered details, the insurance types suspended here, this
        month as 参保起始年月 and the wage last declared here (all editable on the form)."""
        suspended = set(
            Relation.objects.filter(person=person, employer=employer, status=RelationStatus.SUSPENDED).values_list(
                "insurance_type", flat=True
            )
        )
        wage = (
            ContributionBase.objects.filter(person=person, employer=employer)
            .order_by("-year")
            .values_list("declared_wage", flat=True)
            .first()
        )
        iso = lambda day: day.isoformat() if day else ""  # noqa: E731
        return {
            "id_type": person.id_type,
            "id_number": person.id_number,
            "name": person.name,
            "sex": person.sex,
            "birth_date": iso(person.birth_date),
            "ethnicity": person.ethnicity,
            "hukou": person.hukou,
            "identity": person.identity,
            "employment_form": person.employment_form,
            "first_work_date": iso(person.first_work_date),
            "start_month": format_month(clock.current_month()),
            "wage": f"{wage:.2f}" if wage is not None else "",
            "insurance_types": ",".join(t for t in ALL_INSURANCE if t in suspended),
            "phone": person.phone,
            "address": person.address,
            "make_card": YesNo.NO.value,
            "delay_agreement": YesNo.NO.value,
        }

    def check_row(self, raw: dict, params: ParamSnapshot, employer: object = None) -> RowResult:
        result = normalise_row(self.fields, raw)
        data = result.data
        derived_sex, derived_birth = result.derived.get("sex", ""), result.derived.get("birth_date", "")
        if data.get("id_type") == IdType.RESIDENT and derived_birth:
            if data.get("sex") and data["sex"] != derived_sex and not result.field_has_issue("sex"):
                result.add(
                    "SEX_MISMATCH",
                    F["sex"],
                    expected=sex_text(derived_sex),
                )
            if (
                data.get("birth_date")
                and data["birth_date"] != derived_birth
                and not result.field_has_issue("birth_date")
            ):
                result.add("BIRTH_MISMATCH", F["birth_date"], expected=derived_birth)
            data["sex"], data["birth_date"] = derived_sex, derived_birth
        elif data.get("id_type") and data.get("id_type") != IdType.RESIDENT:
            for name in ("sex", "birth_date"):
                if not data.get(name) and not result.field_has_issue(name):
                    result.add("REQUIRED", F[name])
        self._check_dates(result, params)
        self._check_parameters(result, params, employer)
        return result

    def _check_parameters(self, result: RowResult, params: ParamSnapshot, employer: object = None) -> None:
        """Rates and limits for every month the enrolment will compute lines for (DOMAIN §7).

        A month with no rate in force is an error (NO_RATE: an administrator must add one).
        A year without base limits of its own is not: the latest published year's limits
        apply provisionally, and LIMITS_PROVISIONAL says which (re-based when published).
        """
        data = result.data
        ok = lambda name: data.get(name) and not result.field_has_issue(name)  # noqa: E731
        start = as_month(data["start_month"]) if ok("start_month") else None
        types = insurance_list(data) if not result.field_has_issue("insurance_types") else []
        if not start or not types:
            return
        since = as_month(data["backpay_from"]) if ok("backpay_from") else None
        first = since if since and since < start else start
        last = max(start, clock.current_month())  # regular lines run from the start to this month
        # A rate row applies from its month on, so a rate in force at the first month is in
        # force at every later one.
        risk_class = getattr(employer, "risk_class", None) or 1
        float_percent = getattr(employer, "injury_float_percent", None) or 100
        for itype in types:
            if params.rate(itype, first, risk_class, float_percent) is None:
                result.add(
                    "NO_RATE", F["insurance_types"], month=format_month(first), insurance=insurance_text([itype])
                )
        # Provisional limits, one issue per year whose limits are borrowed from the same year.
        borrowed: dict[int, tuple] = {}
        for year in range(first.year, last.year + 1):
            for itype in types:
                limits = params.base_limits(year, itype)
                if limits is None:
                    if itype != types[0] and not any(i.code == "NO_BASE_LIMITS" for i in result.issues):
                        result.add("NO_BASE_LIMITS", F["insurance_types"], year=year)
                elif limits.provisional:
                    years, _limits = borrowed.setdefault(limits.row_year, ([], limits))
                    if year not in years:
                        years.append(year)
        for row_year, (years, limits) in sorted(borrowed.items()):
            spec = F["wage"] if years[-1] >= start.year else F["backpay_base"]
            result.add(
                "LIMITS_PROVISIONAL",
                spec,
                years=plain_list(years),
                used=row_year,
                floor=str(limits.floor),
                ceiling=str(limits.ceiling),
            )

    def _check_dates(self, result: RowResult, params: ParamSnapshot) -> None:
        data = result.data
        ok = lambda name: data.get(name) and not result.field_has_issue(name)  # noqa: E731
        birth = as_date(data["birth_date"]) if ok("birth_date") else None
        start = as_month(data["start_month"]) if ok("start_month") else None
        work = as_date(data["first_work_date"]) if ok("first_work_date") else None
        now = current_month()
        min_age = params.setting_int("min_work_age", now)
        if start:
            if start > now:
                result.add("START_IN_FUTURE", F["start_month"], current=format_month(now))
            # The start month itself may lie at most `back` months back; months before it are
            # a back payment (追溯补缴), which the review threshold and the surcharge count.
            back = params.setting_int("backdate_months", now)
            if months_between(start, now) > back:
                result.add("START_TOO_OLD", F["start_month"], months=back)
        if birth and start and add_months(month_start(birth), min_age * 12) > start:
            result.add("AGE_UNDER_MIN", F["start_month"], min_age=min_age, birth=birth.isoformat())
        # By day: someone who turns 16 on 31 December has not yet on 1 December.
        if birth and work and work < anniversary(birth, min_age):
            result.add("WORK_BEFORE_MIN_AGE", F["first_work_date"], min_age=min_age)
        if work and start and start < month_start(work):
            result.add("START_BEFORE_WORK", F["start_month"], work=work.isoformat())
        types = insurance_list(data)
        retire = statutory_month(params, sex=data.get("sex") or "", identity=data.get("identity") or "", birth=birth)
        self._check_retirement(result, retire, start, types)
        # Declared wage against the start year's limits: a warning, the base is clamped.
        wage = as_money(data["wage"]) if ok("wage") else None
        if wage and start and types:
            limits = params.base_limits(start.year, types[0])
            if limits is None:
                result.add("NO_BASE_LIMITS", F["wage"], year=start.year)
            else:
                _check_against_limits(result, F["wage"], wage, start.year, limits, params, now)
        # 追溯补缴: both fields or neither; the months before the start, within working age.
        has_from, has_base = bool(data.get("backpay_from")), bool(data.get("backpay_base"))
        if has_from != has_base:
            result.add("BACKPAY_INCOMPLETE", F["backpay_from"] if not has_from else F["backpay_base"])
        since = as_month(data["backpay_from"]) if ok("backpay_from") else None
        if since and start:
            if since >= start:
                result.add("BACKPAY_AFTER_START", F["backpay_from"], start=format_month(start))
            else:
                floor_month = add_months(month_start(birth), min_age * 12) if birth else None
                if (floor_month and since < floor_month) or (work and since < month_start(work)):
                    result.add("BACKPAY_BEFORE_WORK_AGE", F["backpay_from"], month=format_month(since), min_age=min_age)
                if retire and add_months(retire, 1) < start:
                    # Months after the retirement month, before the start: past retirement.
                    result.add(
                        "BACKPAY_AFTER_RETIREMENT",
                        F["backpay_from"],
                        month=format_month(max(since, add_months(retire, 1))),
                    )
                if has_base and "injury" in types and params.setting_int("injury_backpay_allowed", now) != 1:
                    # Work injury cannot be bought for accidents that already happened.
                    code = "INJURY_BACKPAY_NOT_ALLOWED" if types == ["injury"] else "INJURY_BACKPAY_EXCLUDED"
                    result.add(code, F["backpay_from"])
                backpay_base = as_money(data["backpay_base"]) if ok("backpay_base") else None
                for year in sorted({m.year for m in month_range(since, start)}):
                    limits = params.base_limits(year, types[0]) if types else None
                    if types and limits is None:
                        result.add("NO_BASE_LIMITS", F["backpay_from"], year=year)
                        break
                    if (
                        limits is not None
                        and backpay_base
                        and _check_against_limits(result, F["backpay_base"], backpay_base, year, limits, params, now)
                    ):
                        break  # one warning for the base, naming the first year it is clamped in

    def _check_retirement(
        self, result: RowResult, retire: dt.date | None, start: dt.date | None, types: list[str]
    ) -> None:
        """A start month after the statutory retirement month (the month itself is still a
        contributing month). 工伤 only: a warning. With a 弹性延迟退休 agreement: a warning up
        to DELAY_MAX_MONTHS after it, an error later. Without: the audit decides from the
        paid months on the register (延长缴费 or AGE_OVER_RETIREMENT); a warning says so now."""
        data = result.data
        agreement = data.get("delay_agreement") == YesNo.YES and not result.field_has_issue("delay_agreement")
        case = past_retirement(retire, start, types, agreement)
        if retire is None or start is None:
            return
        shown = format_month(retire)
        latest = format_month(add_months(retire, DELAY_MAX_MONTHS))
        if case == PAST_INJURY:
            result.add("AGE_OVER_RETIREMENT_INJURY", F["insurance_types"], retire=shown)
        elif case == PAST_DELAY:
            result.add("AGE_DELAY_AGREEMENT", F["delay_agreement"], retire=shown, latest=latest)
        elif case == PAST_DELAY_LIMIT:
            result.add("AGE_OVER_DELAY_LIMIT", F["start_month"], retire=shown, latest=latest, months=DELAY_MAX_MONTHS)
        elif case == PAST_EXTEND:
            result.add("AGE_OVER_RETIREMENT_CHECK", F["insurance_types"], retire=shown)
        elif agreement and start <= retire:
            result.add("DELAY_AGREEMENT_NOT_NEEDED", F["delay_agreement"], retire=shown)

    # --- audit: rules that need the register --------------------------------------------
    def audit(self, tx, items, ctx: AuditContext) -> dict[int, list[Issue]]:
        keys = {item.id_key for item in items if item.id_key}
        persons = {p.id_key: p for p in Person.objects.filter(id_key__in=keys)}
        relations: dict[int, list[Relation]] = defaultdict(list)
        for rel in Relation.objects.filter(person__in=persons.values()).order_by("start_month", "id"):
            relations[rel.person_id].append(rel)
        paid: dict[int, set[tuple[str, dt.date]]] = defaultdict(set)
        need_lines = [persons[i.id_key].pk for i in items if i.id_key in persons and i.data.get("backpay_from")]
        if need_lines:
            for pid, itype, month in ContributionLine.objects.filter(
                person_id__in=need_lines, voided_by__isnull=True
            ).values_list("person_id", "insurance_type", "month"):
                paid[pid].add((itype, month))
        # Past the statutory month without a 弹性延迟 agreement: the paid pension months at any
        # employer decide (延长缴费), fetched for those rows only, in bulk.
        past: dict[int, dt.date] = {}
        for item in items:
            found = stored_past_retirement(item.data, ctx.params)
            if found is not None and found[0] == PAST_EXTEND:
                past[item.pk] = found[1]
        pension_ids = sorted({persons[i.id_key].pk for i in items if i.pk in past and i.id_key in persons})
        pension_months = paid_months(pension_ids, "pension", current_month()) if pension_ids else {}
        out: dict[int, list[Issue]] = {}
        for item in items:
            issues: list[Issue] = []
            data = item.data
            # One rule for single entry and batch rows (a batch row's photo comes from the zip
            # of photos or from 直接上传 on its row of the import screen).
            if data.get("make_card") == YesNo.YES and not item.photo:
                issues.append(Issue("PHOTO_REQUIRED", "photo"))
            person = persons.get(item.id_key)
            if item.pk in past:
                months = len(pension_months.get(person.pk, ())) if person is not None else 0
                issues.append(self._extended_contribution(data, past[item.pk], months, ctx.params))
            if person is not None:
                issues += self._register_issues(tx, item, person, relations[person.pk], paid[person.pk])
            out[item.pk] = issues
        return out

    def _extended_contribution(self, data: dict, retire: dt.date, months: int, params: ParamSnapshot) -> Issue:
        """延长缴费: past the statutory month without an agreement, a person with paid pension
        months short of the minimum of the start month's year may go on contributing; anyone
        else (not on the register, no pension month, the minimum reached, no minimum table)
        is past retirement as ever."""
        start = as_month(data.get("start_month") or "")
        minimum = params.minimum_contribution_months(start.year) if start else None
        if months > 0 and minimum is not None and months < minimum:
            return Issue(
                "AGE_EXTENDED_CONTRIBUTION",
                "insurance_types",
                {"retire": format_month(retire), "paid": months, "minimum": minimum, "short": minimum - months},
            )
        return Issue("AGE_OVER_RETIREMENT", "insurance_types", {"retire": format_month(retire)})

    def _register_issues(self, tx, item, person: Person, rels: list[Relation], paid: set) -> list[Issue]:
        issues: list[Issue] = []
        data = item.data
        if person.name != data.get("name"):
            # The registered name is never shown: the number may be another employer's employee.
            issues.append(Issue("PERSON_MISMATCH", "name", {"name": data.get("name", "")}))
        terminated = [r for r in rels if r.status == RelationStatus.TERMINATED and r.end_reason in TERMINATING_REASONS]
        # A retiree may be re-employed for work injury only (DOMAIN §5b); death ends everything.
        retired = bool(terminated) and all(r.end_reason == SuspendReason.RETIRE for r in terminated)
        if terminated and not (retired and insurance_list(data) == ["injury"]):
            if retired:
                issues.append(Issue("TERMINATED_RETIRED", "insurance_types"))
            else:
                issues.append(Issue("TERMINATED", "id_number", {"reason": reason_text(terminated[-1].end_reason)}))
            return issues
        start = as_month(data.get("start_month", ""))
        # One message per rule and row: the insurance types a problem concerns are named
        # together ("已在本单位参加养老、医疗…"), never one message per type.
        found: dict[tuple, list[str]] = defaultdict(list)
        for itype in insurance_list(data):
            for rel in rels:
                if rel.insurance_type != itype:
                    continue
                if rel.status == RelationStatus.CONTRIBUTING:
                    if rel.employer_id == tx.employer_id:
                        found[("ALREADY_CONTRIBUTING_HERE", "insurance_types")].append(itype)
                    elif itype != "injury":
                        found[("CONTRIBUTING_ELSEWHERE", "insurance_types")].append(itype)
                elif start and rel.end_month and rel.end_month > start:
                    # A suspended period that runs past the start month: no month paid twice.
                    key = (
                        "START_OVERLAP",
                        "start_month",
                        ("month", format_month(start)),
                        ("end", format_month(rel.end_month)),
                    )
                    found[key].append(itype)
            for month in backpay_months(data):
                if (itype, month) in paid:
                    found[("BACKPAY_OVERLAP", "backpay_from", ("month", format_month(month)))].append(itype)
                    break
        for (code, field, *extra), types in found.items():
            params = {"insurance": insurance_text(dict.fromkeys(types)), **dict(extra)}
            issues.append(Issue(code, field, params))
        return issues

    def review_reasons(self, tx, items, ctx: AuditContext) -> list[str]:
        now = current_month()
        limit = ctx.params.setting_int("review_backpay_months", now)
        reasons: list[str] = []
        if any(len(retroactive_months(item.data, now)) > limit for item in items):
            reasons.append(_("追溯缴费（补缴及追溯参保的月份）超过 %(limit)s 个月") % {"limit": limit})
        if any(uses_delay_agreement(item.data, ctx.params) for item in items):
            reasons.append(_("已达法定退休年龄按弹性延迟退休增员，须经经办机构审核弹性延迟退休书面协议"))
        return reasons

    # Only rows with the agreement can require its scan (the pages ask on every view of a batch).
    materials_rows = Q(data__delay_agreement=YesNo.YES.value)

    def required_materials(self, tx, items) -> list[str]:
        """The 弹性延迟退休 agreement, when a row is enrolled past the statutory month with it."""
        params = ParamSnapshot.load()
        return [DELAY_MATERIAL] if any(uses_delay_agreement(item.data, params) for item in items) else []

    # --- effect on the register ---------------------------------------------------------
    def apply(self, tx, items, ctx: AuditContext) -> None:
        """Register effect for a chunk of rows: bulk writes only, a constant number of queries.

        New persons, relations and contribution lines go in as plain rows (COPY on
        PostgreSQL, bulk_create elsewhere: shebao.core.bulk); bases are upserted.
        """
        employer = tx.employer
        now = clock.current_month()
        stamp = clock.now()
        persons = {p.id_key: p for p in Person.objects.filter(id_key__in=[item.id_key for item in items])}
        new_persons, changed_persons = {}, []
        for item in items:
            fields = _person_fields(item)
            person = persons.get(item.id_key)
            if person is None:
                new_persons[item.id_key] = fields
            else:
                for key, value in fields.items():
                    setattr(person, key, value)
                person.updated_at = stamp
                changed_persons.append(person)
        person_ids = {key: p.pk for key, p in persons.items()}
        if new_persons:
            bulk.insert_rows(
                Person,
                ["id_key", *PERSON_FIELDS, "created_at", "updated_at"],
                [(key, *(fields[f] for f in PERSON_FIELDS), stamp, stamp) for key, fields in new_persons.items()],
            )
            person_ids.update(Person.objects.filter(id_key__in=list(new_persons)).values_list("id_key", "id"))
        if changed_persons:
            # Keep a stored photo unless this enrolment brings a new one.
            with_photo = [p for p in changed_persons if p.photo is not None]
            without = [p for p in changed_persons if p.photo is None]
            update = [f for f in PERSON_FIELDS if f != "photo"] + ["updated_at"]
            Person.objects.bulk_update(without, update, batch_size=1000)
            Person.objects.bulk_update(with_photo, update + ["photo"], batch_size=1000)
        relations, lines, bases = [], [], []
        for item in items:
            data, person_id = item.data, person_ids[item.id_key]
            start = as_month(data["start_month"])
            wage = as_money(data["wage"])
            # Only rows that passed their checks are applied: both are required fields.
            assert start is not None and wage is not None, "an applied row has its start month and wage"
            types = insurance_list(data)
            for itype in types:
                relations.append(
                    (person_id, employer.pk, itype, RelationStatus.CONTRIBUTING.value, start, "", tx.pk, stamp, stamp)
                )
            # One base per insurance type, each clamped to that type's limits of the year.
            bases += base_rows(
                ctx.params,
                person_id=person_id,
                employer_id=employer.pk,
                year=start.year,
                insurance_types=types,
                wage=wage,
                transaction_id=tx.pk,
                stamp=stamp,
            )
            regular = compute_lines(
                ctx.params,
                months=month_range(start, add_months(now, 1)),
                insurance_types=types,
                wage=wage,
                risk_class=employer.risk_class,
                float_percent=employer.injury_float_percent,
            )
            lines += _line_rows(regular, person_id, employer, tx, LineKind.REGULAR)
            months = backpay_months(data)
            if months:
                backpay_base = as_money(data["backpay_base"])
                # Back-payment months without a base fail their check (BACKPAY_INCOMPLETE).
                assert backpay_base is not None, "an applied back payment has its base"
                back = compute_lines(
                    ctx.params,
                    months=months,
                    insurance_types=backpay_types(types, ctx.params, now),
                    wage=backpay_base,
                    risk_class=employer.risk_class,
                    float_percent=employer.injury_float_percent,
                )
                lines += _line_rows(back, person_id, employer, tx, LineKind.BACKPAY)
        upsert_bases(bases)
        bulk.insert_rows(Relation, RELATION_COLUMNS, relations, batch_size=2000)
        bulk.insert_rows(ContributionLine, LINE_COLUMNS, lines, batch_size=2000)

    def summary(self, data: dict) -> str:
        return f"{data.get('start_month', '')} {data.get('wage', '')}"


PERSON_FIELDS = [
    "id_type",
    "id_number",
    "name",
    "name_key",
    "sex",
    "birth_date",
    "ethnicity",
    "hukou",
    "identity",
    "employment_form",
    "first_work_date",
    "phone",
    "address",
    "photo",
]


def _person_fields(item) -> dict:
    data = item.data
    return {
        "id_type": data["id_type"],
        "id_number": data["id_number"],
        "name": data["name"],
        "name_key": name_sort_key(data["name"]),
        "sex": data["sex"],
        "birth_date": as_date(data["birth_date"]),
        "ethnicity": data.get("ethnicity", ""),
        "hukou": data.get("hukou", ""),
        "identity": data.get("identity", ""),
        "employment_form": data.get("employment_form", ""),
        "first_work_date": as_date(data.get("first_work_date", "")),
        "phone": data.get("phone", ""),
        "address": data.get("address", ""),
        "photo": bytes(item.photo) if item.photo else None,
    }


RELATION_COLUMNS = [
    "person_id",
    "employer_id",
    "insurance_type",
    "status",
    "start_month",
    "end_reason",
    "started_by_id",
    "created_at",
    "updated_at",
]
LINE_COLUMNS = [
    "person_id",
    "employer_id",
    "month",
    "insurance_type",
    "kind",
    "base",
    "employer_amount",
    "personal_amount",
    "transaction_id",
    "limits_id",
    "rate_id",
    "injury_rate_id",
    "provisional",
]


def _line_rows(lines: list[Line], person_id: int, employer, tx, kind: str) -> list[tuple]:
    """ContributionLine rows in LINE_COLUMNS order."""
    return [
        (
            person_id,
            employer.pk,
            line.month,
            line.insurance_type,
            kind,
            line.base,
            line.employer_amount,
            line.personal_amount,
            tx.pk,
            line.limits_id,
            line.rate_id,
            line.injury_rate_id,
            line.provisional,
        )
        for line in lines
    ]


def backpay_preview(params: ParamSnapshot, data: dict, employer, today: dt.date | None = None) -> dict:
    """The amounts a back payment will create, per month and insurance type, before saving."""
    from shebao.register.contributions import surcharge_estimate

    now = current_month()
    types = insurance_list(data)
    common = {"risk_class": employer.risk_class, "float_percent": employer.injury_float_percent}
    lines: list[Line] = []
    months, base = backpay_months(data), as_money(data.get("backpay_base", ""))
    if months and base:
        lines += compute_lines(
            params, months=months, insurance_types=backpay_types(types, params, now), wage=base, **common
        )
    # A backdated start month is paid late as well: its months up to now carry a surcharge too.
    start, wage = as_month(data.get("start_month", "")), as_money(data.get("wage", ""))
    if start and wage and start < now:
        lines += compute_lines(params, months=month_range(start, now), insurance_types=types, wage=wage, **common)
    return {
        "lines": lines,
        "total_employer": sum((line.employer_amount for line in lines), Decimal(0)),
        "total_personal": sum((line.personal_amount for line in lines), Decimal(0)),
        "surcharge": surcharge_estimate(params, lines, today or clock.today()),
    }
