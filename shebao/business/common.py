"""What several business types share: rules on persons, wages and parameters, and the
words their messages use. Not a business type itself."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext_noop, pgettext_lazy

from shebao.core.choices import ALL_INSURANCE, IdType, InsuranceType, Sex
from shebao.core.identity import clean_text, id_key
from shebao.register.choices import SuspendReason
from shebao.workflow.fields import FieldSpec, RowResult, zh_label
from shebao.workflow.rules import E, Issue, Rule, W, add_rules, text, texts

# pgettext contexts: the same Chinese word reads differently inside an English sentence.
INSURANCE_IN_SENTENCE = "insurance type in a sentence"
SEX_IN_SENTENCE = "sex in a sentence"

RULES = [
    Rule("SEX_MISMATCH", E, gettext_noop("「性别」与证件号码不一致：号码显示为{expected}。")),
    Rule("BIRTH_MISMATCH", E, gettext_noop("「出生日期」与证件号码不一致：号码显示为 {expected}。")),
    Rule(
        "PERSON_MISMATCH",
        E,
        gettext_noop("填写的「姓名」“{name}”与参保登记中该证件号码的姓名不一致，请核对姓名和证件号码。"),
    ),
    Rule(
        "WAGE_BELOW_FLOOR",
        W,
        gettext_noop("「{label}」{wage} 元低于 {year} 年缴费基数下限 {floor} 元，按下限 {floor} 元核定。"),
    ),
    Rule(
        "WAGE_ABOVE_CEILING",
        W,
        gettext_noop("「{label}」{wage} 元高于 {year} 年缴费基数上限 {ceiling} 元，按上限 {ceiling} 元核定。"),
    ),
    Rule(
        "WAGE_OUT_OF_RANGE",
        E,
        gettext_noop("「{label}」{wage} 元超出 {year} 年缴费基数范围 {floor}–{ceiling} 元，请核对。"),
    ),
    Rule(
        "NO_BASE_LIMITS",
        E,
        gettext_noop("{year} 年度缴费基数上下限尚未设置，也没有可暂按执行的往年标准，暂不能办理，请联系经办机构。"),
    ),
    Rule(
        "LIMITS_PROVISIONAL",
        W,
        gettext_noop(
            "{years} 年度缴费基数上下限尚未公布，暂按 {used} 年度标准（下限 {floor} 元、上限 {ceiling} 元）"
            "核定缴费基数；新标准公布后将重新核定，无需重新办理。"
        ),
    ),
    Rule("NO_RATE", E, gettext_noop("{month} 的{insurance}费率尚未设置，暂不能办理，请联系经办机构。")),
]
add_rules(RULES)

# The words messages put in sentences, marked for the catalogue (their English differs from
# the labels of the choices: "contributes to work injury", "which says male").
_WORDS = (
    pgettext_lazy("insurance type in a sentence", "养老"),
    pgettext_lazy("insurance type in a sentence", "医疗"),
    pgettext_lazy("insurance type in a sentence", "失业"),
    pgettext_lazy("insurance type in a sentence", "工伤"),
    pgettext_lazy("insurance type in a sentence", "生育"),
    pgettext_lazy("sex in a sentence", "男"),
    pgettext_lazy("sex in a sentence", "女"),
)


def insurance_text(codes: Iterable[str]) -> dict[str, Any]:
    """Insurance types as a message parameter: "养老、医疗" / "pension, medical"."""
    return texts((zh_label(InsuranceType, c) for c in codes if c in ALL_INSURANCE), INSURANCE_IN_SENTENCE)


def sex_text(code: str) -> dict[str, Any]:
    """A sex as a message parameter ("男" / "male")."""
    return text(zh_label(Sex, code), SEX_IN_SENTENCE)


def reason_text(code: str) -> dict[str, Any]:
    """A 减员原因 as a message parameter."""
    return text(zh_label(SuspendReason, code))


def bank_account_digits(value: object) -> str:
    """A bank account number as typed or pasted (groups of digits, full-width digits), with the
    spaces and hyphens banks print between groups taken out; the format rule checks the rest."""
    return re.sub(r"[\s-]", "", clean_text(value))


BANK_ACCOUNT = re.compile(r"[0-9]{8,30}")  # digits only, as banks issue them


def id_fields(*, name_help: str = "") -> list[FieldSpec]:
    """证件类型, 证件号码, 姓名: the first fields of every form that takes a person."""
    return [
        FieldSpec("id_type", gettext_noop("证件类型"), "id_type", True, IdType, default=IdType.RESIDENT.value),
        FieldSpec(
            "id_number",
            gettext_noop("证件号码"),
            "id_number",
            True,
            text_format=True,
            help=gettext_noop("18 位居民身份证号码，末位 X 大写"),
            template_help=gettext_noop("18 位居民身份证号码，末位 X 大写；请将该列设为文本格式"),
        ),
        FieldSpec("name", gettext_noop("姓名"), "name", True, max_length=50, help=name_help),
    ]


def check_registered_names(results: list[RowResult], employer: object) -> None:
    """The name of a person this employer has (or had) a relation with, checked at once:
    while typing, at save, at import. Another employer's person is left to the audit, and
    the registered name is never shown (PERSON_MISMATCH repeats the name typed)."""
    from shebao.register.models import Person

    wanted: dict[str, list[RowResult]] = defaultdict(list)
    for result in results:
        data = result.data
        if result.field_has_issue("id_number") or result.field_has_issue("name") or not data.get("id_number"):
            continue
        wanted[id_key(data.get("id_type", ""), data["id_number"])].append(result)
    employer_id = getattr(employer, "pk", None)
    if not wanted or not isinstance(employer_id, int):
        return
    keys = list(wanted)
    for start in range(0, len(keys), 1000):
        for key, name in (
            Person.objects.filter(id_key__in=keys[start : start + 1000], relations__employer_id=employer_id)
            .values_list("id_key", "name")
            .distinct()
        ):
            for result in wanted[key]:
                if result.data.get("name") != name:
                    result.issues.append(Issue("PERSON_MISMATCH", "name", {"name": result.data.get("name", "")}))
