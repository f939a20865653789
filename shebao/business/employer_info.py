"""单位信息变更: an employer changes its own details (DOMAIN §5).

One item, no person: its data are the employer's new values, the form starting with the
current ones. 联系人, 联系电话, 电子邮箱 and 单位地址 are audited automatically (formats) and take
effect at once, for VIP and ordinary employers alike. The refund account (开户银行, 银行账号,
户名) and what the business licence says (单位名称, 统一社会信用代码) go to a clerk of the
employer's office even for a VIP employer, with the scans that prove them (the bank's account
proof, the licence). Each changed value is recorded when it takes effect
(`employers.EmployerChange`: field, old, new, when, the transaction and its operator), shown
on the employer's 单位信息 page. One employer has one open change at a time (a declaration key).
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from shebao.business.common import BANK_ACCOUNT, bank_account_digits
from shebao.core.identity import check_uscc, clean_text, uscc_issue_params
from shebao.employers.models import Employer, EmployerChange
from shebao.params.services import ParamSnapshot
from shebao.workflow.fields import FieldSpec, RowResult, normalise_row
from shebao.workflow.registry import AuditContext, BusinessType, Locking, Names, Section, register
from shebao.workflow.rules import E, Issue, Rule, has_errors, refusal

CODE = "employer_info"

FIELDS = [
    FieldSpec("contact_name", gettext_noop("联系人"), "text", True, max_length=50),
    FieldSpec(
        "contact_phone",
        gettext_noop("联系电话"),
        "text",
        True,
        max_length=40,
        help=gettext_noop("11 位手机号或带区号的固定电话，如 027-85551234"),
    ),
    FieldSpec(
        "email",
        gettext_noop("电子邮箱"),
        "text",
        False,
        max_length=100,
        help=gettext_noop("用于接收业务通知，如 hr@example.com"),
    ),
    FieldSpec("address", gettext_noop("单位地址"), "text", True, max_length=200),
    FieldSpec("bank_name", gettext_noop("开户银行"), "text", False, max_length=100),
    FieldSpec(
        "bank_account",
        gettext_noop("银行账号"),
        "text",
        False,
        max_length=40,
        help=gettext_noop("退费退至该账户；8 至 30 位数字，可含空格"),
    ),
    FieldSpec(
        "account_name",
        gettext_noop("户名"),
        "text",
        False,
        max_length=200,
        help=gettext_noop("须与单位名称一致"),
    ),
    FieldSpec("employer_name", gettext_noop("单位名称"), "text", True, max_length=200),
    FieldSpec(
        "credit_code",
        gettext_noop("统一社会信用代码"),
        "text",
        True,
        max_length=40,
        help=gettext_noop("18 位，与营业执照一致"),
    ),
]
F = {spec.name: spec for spec in FIELDS}

# The form's field → the Employer's field.
MODEL_FIELD = {spec.name: spec.name for spec in FIELDS} | {"employer_name": "name"}
CONTACT = ("contact_name", "contact_phone", "email", "address")
BANK = ("bank_name", "bank_account", "account_name")
LICENCE = ("employer_name", "credit_code")

LICENCE_SCAN = gettext_noop("营业执照（副本）扫描件")
BANK_SCAN = gettext_noop("开户银行出具的银行账户证明（开户许可证或基本存款账户信息）")

# What the clerk sees beside the new values: the values they replace, as at 保存.
REVIEW_FIELDS = [
    FieldSpec(f"was_{name}", msgid, "text")
    for name, msgid in (
        ("bank_name", gettext_noop("原开户银行")),
        ("bank_account", gettext_noop("原银行账号")),
        ("account_name", gettext_noop("原户名")),
        ("employer_name", gettext_noop("原单位名称")),
        ("credit_code", gettext_noop("原统一社会信用代码")),
    )
]

RULES = [
    Rule(
        "EMPLOYER_PHONE_FORMAT",
        E,
        gettext_noop("「联系电话」应为 11 位手机号或带区号的固定电话，如 13800000000 或 027-85551234。"),
    ),
    Rule("EMPLOYER_EMAIL_FORMAT", E, gettext_noop("「电子邮箱」格式不正确，应如 hr@example.com。")),
    Rule(
        "EMPLOYER_CREDIT_CODE_FORMAT",
        E,
        gettext_noop(
            "「统一社会信用代码」应为 18 位：第 1 位登记管理部门代码（{authorities}），第 3–8 位行政区划代码，"
            "不含字母 I、O、Z、S、V。"
        ),
    ),
    Rule("EMPLOYER_CREDIT_CODE_CHECKSUM", E, gettext_noop("「统一社会信用代码」校验位不正确，请与营业执照核对。")),
    Rule(
        "EMPLOYER_CREDIT_CODE_TAKEN",
        E,
        gettext_noop("该统一社会信用代码已登记为其他单位，不能变更为此代码。如有疑问，请联系经办机构。"),
    ),
    Rule("EMPLOYER_BANK_ACCOUNT_FORMAT", E, gettext_noop("「银行账号」应为 8 至 30 位数字。")),
    Rule(
        "EMPLOYER_BANK_INCOMPLETE",
        E,
        gettext_noop("「开户银行」「银行账号」「户名」须同时填写，请填写「{label}」。"),
    ),
    Rule(
        "EMPLOYER_ACCOUNT_NAME_MISMATCH",
        E,
        gettext_noop("「户名」须与单位名称一致（{name}）：退费只能退至本单位的账户。"),
    ),
    Rule(
        "EMPLOYER_INFO_UNCHANGED",
        E,
        gettext_noop("所填信息与当前单位信息相同，没有需要变更的内容。请修改要变更的项目后再保存。"),
    ),
]

PHONE = re.compile(r"1\d{10}|0\d{2,3}-?\d{7,8}(-\d{1,6})?|\d{7,8}")


def current_values(employer: Any) -> dict[str, str]:
    """The employer's details as the form's values."""
    return {name: str(getattr(employer, field) or "") for name, field in MODEL_FIELD.items()}


def changed_fields(employer: Any, data: dict[str, Any]) -> list[str]:
    """The form fields whose new value differs from the employer's, in declaration order."""
    now = current_values(employer)
    return [name for name in MODEL_FIELD if (data.get(name) or "") != now[name]]


@register
class EmployerInfo(BusinessType):
    code = CODE
    names = Names(title=gettext_noop("单位信息变更"), result_query=gettext_noop("单位信息变更审核结果查询"))
    fields = FIELDS
    review_fields = REVIEW_FIELDS
    rules = RULES
    sections = [
        Section(gettext_noop("联系信息"), CONTACT),
        Section(gettext_noop("退费账户（须经办机构审核）"), BANK),
        Section(gettext_noop("营业执照信息（须经办机构审核）"), LICENCE),
    ]
    materials = [LICENCE_SCAN, BANK_SCAN]
    locking = Locking.DECLARATION
    edits_employer = True

    def initial(self, employer: Any) -> dict[str, str]:
        return current_values(employer) if employer is not None else {}

    def declaration_key(self, header: dict, data: dict, employer_id: int | None = None) -> str | None:
        """One open change per employer."""
        return f"{CODE}:{employer_id}" if employer_id else None

    def check_row(self, raw: dict, params: ParamSnapshot, employer: object = None) -> RowResult:
        result = normalise_row(self.fields, raw)
        data = result.data
        ok = lambda name: bool(data.get(name)) and not result.field_has_issue(name)  # noqa: E731
        if ok("contact_phone"):
            data["contact_phone"] = phone = clean_text(data["contact_phone"]).replace("－", "-")
            if not PHONE.fullmatch(phone):
                result.add("EMPLOYER_PHONE_FORMAT", F["contact_phone"])
        if ok("email"):
            data["email"] = email = data["email"].replace(" ", "")
            try:
                validate_email(email)
            except ValidationError:
                result.add("EMPLOYER_EMAIL_FORMAT", F["email"])
        if ok("credit_code"):
            data["credit_code"], error = check_uscc(data["credit_code"])
            if error == "USCC_FORMAT":
                result.add("EMPLOYER_CREDIT_CODE_FORMAT", F["credit_code"], **uscc_issue_params())
            elif error:
                result.add("EMPLOYER_CREDIT_CODE_CHECKSUM", F["credit_code"])
        if ok("bank_account"):
            data["bank_account"] = account = bank_account_digits(data["bank_account"])
            if not BANK_ACCOUNT.fullmatch(account):
                result.add("EMPLOYER_BANK_ACCOUNT_FORMAT", F["bank_account"])
        if any(data.get(name) for name in BANK):
            for name in BANK:
                if not data.get(name) and not result.field_has_issue(name):
                    result.add("EMPLOYER_BANK_INCOMPLETE", F[name])
        if isinstance(employer, Employer):
            self._check_against(result, employer)
        return result

    def _check_against(self, result: RowResult, employer: Employer) -> None:
        """The rules that read the employer: the account's holder, the code, a change at all."""
        data = result.data
        account_name = data.get("account_name", "")
        new_name = data.get("employer_name", "")
        holder_ok = account_name in (new_name, employer.name)
        if account_name and not result.field_has_issue("account_name") and not holder_ok:
            result.add("EMPLOYER_ACCOUNT_NAME_MISMATCH", F["account_name"], name=new_name or employer.name)
        code = data.get("credit_code", "")
        if (
            code
            and not result.field_has_issue("credit_code")
            and code != employer.credit_code
            and Employer.objects.filter(credit_code=code).exclude(pk=employer.pk).exists()
        ):
            result.add("EMPLOYER_CREDIT_CODE_TAKEN", F["credit_code"])
        if not has_errors(result.issues) and not changed_fields(employer, data):
            result.add("EMPLOYER_INFO_UNCHANGED")
        for spec in REVIEW_FIELDS:
            data[spec.name] = str(getattr(employer, MODEL_FIELD[spec.name.removeprefix("was_")]) or "")

    # The audit runs `check_row` again with the employer as it is then (another change may
    # have taken effect since 保存): no register rules of its own.

    def _changes(self, tx, items) -> set[str]:
        employer = Employer.objects.get(pk=tx.employer_id)
        return {name for item in items for name in changed_fields(employer, item.data)}

    def review_reasons(self, tx, items, ctx: AuditContext) -> list[str]:
        """The refund account and the licence's details: a clerk, even for a VIP employer."""
        changes = self._changes(tx, items)
        reasons = []
        if changes & set(BANK):
            reasons.append(_("变更开户银行、银行账号或户名（退费账户），须经经办机构审核"))
        if changes & set(LICENCE):
            reasons.append(_("变更单位名称或统一社会信用代码，须经经办机构核对营业执照"))
        return reasons

    def required_materials(self, tx, items) -> list[str]:
        changes = self._changes(tx, items)
        needed = []
        if changes & set(LICENCE):
            needed.append(LICENCE_SCAN)
        if changes & set(BANK):
            needed.append(BANK_SCAN)
        return needed

    def apply(self, tx, items, ctx: AuditContext) -> None:
        """The new values, and a record of each one changed."""
        employer = Employer.objects.select_for_update().get(pk=tx.employer_id)
        now = timezone.now()
        records: list[EmployerChange] = []
        for item in items:
            for name in changed_fields(employer, item.data):
                field = MODEL_FIELD[name]
                old, new = str(getattr(employer, field) or ""), item.data.get(name) or ""
                setattr(employer, field, new)
                records.append(
                    EmployerChange(
                        employer=employer,
                        field=field,
                        old_value=old,
                        new_value=new,
                        changed_at=now,
                        transaction=tx,
                        operator_id=tx.operator_id,
                    )
                )
        if records:
            # The code was checked at the save and the audit; another employer may have taken
            # it since (its change approved meanwhile, or approved at this moment). The unique
            # index stops the save, and the approval is refused with the rule's message,
            # nothing of it applied.
            try:
                with transaction.atomic():
                    employer.save(update_fields=[*{r.field for r in records}, "updated_at"])
            except IntegrityError:
                if Employer.objects.filter(credit_code=employer.credit_code).exclude(pk=employer.pk).exists():
                    raise refusal(Issue("EMPLOYER_CREDIT_CODE_TAKEN", "credit_code")) from None
                raise
            EmployerChange.objects.bulk_create(records)

    def summary(self, data: dict) -> str:
        return str(data.get("employer_name", ""))
