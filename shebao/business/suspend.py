"""减员(暂停缴费): an employer stops contributing for an employee (DOMAIN §5, §6, §8).

停保年月 is the first month without contribution; the last contributing month is the one
before. Reasons 03 退休 and 04 死亡 terminate the relation (终止, no later 续保); every other
reason suspends it (暂停缴费), and the person may later be resumed by 增员(续保) here or at
another employer from 停保年月 on. The due contribution lines of the stopped months are
removed, so that a person who moves (减员 at A from month M, 增员 at B from M) has no month
paid twice and none missing.

停保险种 left blank (stored as all five) means "every insurance the person contributes to at
this employer": an employer stopping a person entirely need not know which types were
chosen at enrolment. A listed subset must name types the person contributes to here.
"""

from __future__ import annotations

from collections import defaultdict

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from shebao.business.common import check_registered_names, id_fields, insurance_text
from shebao.core import clock
from shebao.core.choices import ALL_INSURANCE, InsuranceType
from shebao.core.months import format_month
from shebao.params.services import ParamSnapshot
from shebao.register import endings
from shebao.register.choices import TERMINATING_REASONS, SuspendReason
from shebao.register.models import Person, Relation, RelationStatus
from shebao.workflow.fields import FieldSpec, RowResult, as_month, normalise_row
from shebao.workflow.printing import Column, PrintForm, choice_label, insurance_labels, seq_name_id
from shebao.workflow.registry import AuditContext, BusinessType, Locking, Names, register
from shebao.workflow.rules import E, Issue, Rule

FIELDS = [
    *id_fields(name_help=gettext_noop("须与参保登记的姓名一致")),
    FieldSpec(
        "stop_month",
        gettext_noop("停保年月"),
        "month",
        True,
        text_format=True,
        help=gettext_noop("第一个不缴费的月份；最后一个缴费月份为其上一个月，最晚为下月"),
        template_help=gettext_noop("第一个不缴费的月份，格式 2025-03；最后一个缴费月份为其上一个月，最晚为下月"),
    ),
    FieldSpec(
        "reason",
        gettext_noop("减员原因"),
        "choice",
        True,
        SuspendReason,
        help=gettext_noop("03 退休、04 死亡将终止参保关系，不能再续保"),
        template_help=gettext_noop("填写代码或名称，如 01 或 解除/终止劳动合同；03 退休、04 死亡将终止参保关系"),
    ),
    FieldSpec(
        "stop_types",
        gettext_noop("停保险种"),
        "insurance",
        False,
        InsuranceType,
        help=gettext_noop("不勾选表示该人员在本单位参加的全部险种"),
        template_help=gettext_noop("养老、医疗、失业、工伤、生育，用顿号分隔；留空表示该人员在本单位参加的全部险种"),
    ),
]
F = {spec.name: spec for spec in FIELDS}

REVIEW_REASONS = {SuspendReason.RETIRE.value, SuspendReason.DEATH.value}

RULES = [
    Rule("NOT_CONTRIBUTING_HERE", E, gettext_noop("该人员未在本单位参加{insurance}或已停保，不能减员。")),
    Rule("STOP_TOO_LATE", E, gettext_noop("「停保年月」不能晚于 {latest}。")),
    Rule("STOP_BEFORE_START", E, gettext_noop("「停保年月」{stop} 早于该人员在本单位的参保起始年月 {start}。")),
    Rule(
        "STOP_AT_START",
        E,
        gettext_noop(
            "「停保年月」{stop} 与该人员在本单位的参保起始年月相同：停保年月是第一个不缴费的月份，"
            "须晚于参保起始年月 {start}。如增员有误，请联系经办机构处理。"
        ),
    ),
    Rule("DEATH_ALL_TYPES", E, gettext_noop("减员原因为“04 死亡”时，「停保险种」须为全部险种，请留空「停保险种」。")),
]


def _print_row(item, seq: int) -> dict:
    data = item.data or {}
    reason = data.get("reason", "")
    return {
        **seq_name_id(item, seq),
        "stop_month": data.get("stop_month", ""),
        "reason": f"{reason} {choice_label(SuspendReason, reason)}" if reason else "",
        "stop_types": insurance_labels(data.get("stop_types", "")),
    }


PRINT_FORM = PrintForm(
    title_msgid=gettext_noop("在职职工减员申报表"),
    row=_print_row,
    columns=(
        Column("seq", gettext_noop("序号"), 12),
        Column("name", gettext_noop("姓名"), 30),
        Column("id_number", gettext_noop("证件号码"), 48),
        Column("stop_month", gettext_noop("停保年月"), 24),
        Column("reason", gettext_noop("减员原因"), 60),
        Column("stop_types", gettext_noop("停保险种"), 70),
    ),
)


def stop_types(data: dict) -> list[str]:
    """The insurance codes of a row; a value that failed its check names none."""
    return [v for v in (data.get("stop_types") or "").split(",") if v in ALL_INSURANCE]


def means_all(types: list[str]) -> bool:
    return set(types) >= set(ALL_INSURANCE)


def latest_stop_month():
    return clock.next_month()


@register
class Suspend(BusinessType):
    code = "suspend"
    names = Names(
        title=gettext_noop("减员(暂停缴费)"),
        result_query=gettext_noop("批量减员审核结果查询"),
        single_export=gettext_noop("单个减员导出"),
        batch_export=gettext_noop("批量减员导出"),
    )
    fields = FIELDS
    rules = RULES
    print_form = PRINT_FORM
    materials = [
        gettext_noop("《企业参保人员减员表》（打印件，加盖单位公章）"),
        gettext_noop("解除或终止劳动合同证明复印件"),
        gettext_noop("经办人居民身份证原件"),
    ]
    batch = True
    review_for_ordinary = True
    locking = Locking.PERSON
    windowed = True

    def check_row(self, raw: dict, params: ParamSnapshot, employer: object = None) -> RowResult:
        result = normalise_row(self.fields, raw)
        data = result.data
        stop = as_month(data.get("stop_month", "")) if not result.field_has_issue("stop_month") else None
        if stop:
            latest = latest_stop_month()
            if stop > latest:
                result.add("STOP_TOO_LATE", F["stop_month"], latest=format_month(latest))
        reason = data.get("reason", "") if not result.field_has_issue("reason") else ""
        types = stop_types(data) if not result.field_has_issue("stop_types") else []
        if reason == SuspendReason.DEATH and types and not means_all(types):
            result.add("DEATH_ALL_TYPES", F["stop_types"])
        return result

    def check_known_rows(self, results: list[RowResult], employer: object) -> None:
        check_registered_names(results, employer)

    # --- audit: rules that need the register --------------------------------------------
    def _prefetch(self, tx, items) -> tuple[dict[str, Person], dict[int, dict[str, Relation]]]:
        """Persons by id_key, and their contributing relations at this employer by type."""
        keys = {item.id_key for item in items if item.id_key}
        persons = {p.id_key: p for p in Person.objects.filter(id_key__in=keys)} if keys else {}
        contributing: dict[int, dict[str, Relation]] = defaultdict(dict)
        ids = [p.pk for p in persons.values()]
        for start in range(0, len(ids), 1000):
            for rel in Relation.objects.filter(
                person_id__in=ids[start : start + 1000], employer_id=tx.employer_id, status=RelationStatus.CONTRIBUTING
            ):
                contributing[rel.person_id][rel.insurance_type] = rel
        return persons, contributing

    def audit(self, tx, items, ctx: AuditContext) -> dict[int, list[Issue]]:
        persons, contributing = self._prefetch(tx, items)
        out: dict[int, list[Issue]] = {}
        for item in items:
            data = item.data
            person = persons.get(item.id_key)
            rels = contributing.get(person.pk, {}) if person else {}
            issues: list[Issue] = []
            if person is not None and person.name != data.get("name"):
                issues.append(Issue("PERSON_MISMATCH", "name", {"name": data.get("name", "")}))
            wanted = stop_types(data)
            if means_all(wanted):
                missing = [] if rels else list(ALL_INSURANCE)
            else:
                missing = [t for t in wanted if t not in rels]
            if missing:
                issues.append(Issue("NOT_CONTRIBUTING_HERE", "stop_types", {"insurance": insurance_text(missing)}))
            stop = as_month(data.get("stop_month", ""))
            if stop:
                seen = set()
                for itype in (t for t in ALL_INSURANCE if t in wanted and t in rels):
                    rel = rels[itype]
                    if stop > rel.start_month:
                        continue
                    code = "STOP_BEFORE_START" if stop < rel.start_month else "STOP_AT_START"
                    params = {"stop": format_month(stop), "start": format_month(rel.start_month)}
                    if (code, params["start"]) in seen:
                        continue
                    seen.add((code, params["start"]))
                    issues.append(Issue(code, "stop_month", params))
            out[item.pk] = issues
        return out

    def review_reasons(self, tx, items, ctx: AuditContext) -> list[str]:
        """03/04 and backdated suspensions go to a clerk even for a VIP employer (DOMAIN §2)."""
        now = clock.current_month()
        reasons = []
        if any(item.data.get("reason") in REVIEW_REASONS for item in items):
            reasons.append(_("减员原因为退休或死亡，须经经办机构审核"))
        if any((as_month(item.data.get("stop_month", "")) or now) < now for item in items):
            reasons.append(_("停保年月早于当前月份（补办减员），须经经办机构审核"))
        return reasons

    # --- effect on the register ---------------------------------------------------------
    def apply(self, tx, items, ctx: AuditContext) -> None:
        persons, contributing = self._prefetch(tx, items)
        changed: list[Relation] = []
        # Lines to remove, grouped so that a big batch needs few DELETE statements.
        stops: dict[tuple, list[int]] = defaultdict(list)
        for item in items:
            data = item.data
            person = persons.get(item.id_key)
            stop = as_month(data.get("stop_month", ""))
            if person is None or stop is None:
                continue
            reason = data.get("reason", "")
            status = RelationStatus.TERMINATED if reason in TERMINATING_REASONS else RelationStatus.SUSPENDED
            rels = contributing.get(person.pk, {})
            wanted = stop_types(data)
            types = [t for t in ALL_INSURANCE if t in rels and (means_all(wanted) or t in wanted)]
            for itype in types:
                rel = rels[itype]
                rel.status, rel.end_month, rel.end_reason = status, stop, reason
                changed.append(rel)
            if types:
                stops[(stop, tuple(types))].append(person.pk)
        endings.end_relations(tx, changed)
        for (stop, types), person_ids in stops.items():
            endings.void_lines(tx, tx.employer_id, person_ids, stop, types)

    def summary(self, data: dict) -> str:
        reason = data.get("reason", "")
        label = str(SuspendReason(reason).label) if reason in SuspendReason.values else reason
        return f"{data.get('stop_month', '')} {label}"
