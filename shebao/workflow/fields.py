"""Field specifications and row normalisation shared by forms, batch import and the API.

A business type declares its fields once; the same spec gives the form, the template
columns, the import mapping and the row-level checks.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import TextChoices
from django.utils.translation import gettext

from shebao.core.choices import ALL_INSURANCE, InsuranceType
from shebao.core.identity import check_id, check_name, clean_text
from shebao.core.money import fen, parse_money
from shebao.core.months import FULLWIDTH, format_month, parse_date, parse_month
from shebao.core.text import hidden_character, one_line
from shebao.workflow.rules import Issue, text, texts


@dataclass(frozen=True)
class FieldSpec:
    """One field of a business type. Its label and help are Chinese source texts (gettext
    msgids, marked with gettext_noop where they are declared) shown through gettext: `label`
    and `help_for()` answer in the reader's language; `msgid` is the Chinese, which the
    spreadsheet template (a Chinese document) uses as it is."""

    name: str
    msgid: str
    kind: str = "text"  # text, choice, insurance, month, date, money, id_type, id_number, name, phone, bool
    required: bool = False
    choices: type[TextChoices] | None = None
    max_length: int = 100
    # Help per context: under the form field, in the template's 填写说明, in the API's schema.
    # The template and the API say what the form says unless they say otherwise.
    help: str = ""
    default: str = ""
    in_template: bool = True
    text_format: bool = False  # template column formatted as text (IDs, dates)
    template_help: str | None = None
    api_help: str | None = None
    # The value of the template's example row (None: one the field's kind suggests; "" none).
    example: str | None = None

    @property
    def label(self) -> str:
        return gettext(self.msgid)

    def help_for(self, context: str = "form") -> str:
        """The help for "form", "template" or "api", in the reader's language."""
        msgid = {"template": self.template_help, "api": self.api_help}.get(context)
        msgid = self.help if msgid is None else msgid
        return gettext(msgid) if msgid else ""

    def help_msgid(self, context: str = "form") -> str:
        msgid = {"template": self.template_help, "api": self.api_help}.get(context)
        return self.help if msgid is None else msgid

    @property
    def label_param(self) -> dict:
        """The label as an issue parameter: translated when the message is shown."""
        return text(self.msgid)

    def choice_labels(self) -> list[str]:
        return [str(label) for _, label in self.choices.choices] if self.choices else []


@dataclass
class RowResult:
    data: dict[str, str] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    # What a valid resident ID says (sex "1"/"2", birth date ISO): for the business type to
    # compare with or fill in; never stored as row data.
    derived: dict[str, str] = field(default_factory=dict)

    def add(self, code: str, spec: FieldSpec | None = None, **params: object) -> None:
        if spec is not None:
            params.setdefault("label", spec.label_param)
        self.issues.append(Issue(code, spec.name if spec else "", params))

    def field_has_issue(self, name: str) -> bool:
        return any(i.field == name for i in self.issues)


@functools.cache
def _choice_labels(choices: type[TextChoices]) -> tuple[tuple[str, str, str], ...]:
    """(code, Chinese label, English label) per choice, computed once: switching the active
    language for every cell cost more than the rest of a batch row's checks together."""
    from django.utils import translation

    table = []
    for value, label in choices.choices:
        with translation.override("zh-hans"):
            zh = str(label)
        with translation.override("en"):
            en = str(label)
        table.append((value, zh, en))
    return tuple(table)


def zh_label(choices: type[TextChoices], code: str) -> str:
    """The Chinese label of a code (its gettext msgid), from the cached table; the code itself
    when it is not one of the choices."""
    return next((zh for value, zh, _en in _choice_labels(choices) if value == code), code)


def choice_value(spec: FieldSpec, raw: object) -> str | None:
    """Accept the stored code, the Chinese label or the English label."""
    assert spec.choices is not None
    text = str(raw).strip().translate(FULLWIDTH)
    if isinstance(raw, float) and raw.is_integer():
        text = str(int(raw))
    return _choice_of_text(spec.choices, text)


@functools.lru_cache(maxsize=4096)
def _choice_of_text(choices: type[TextChoices], text: str) -> str | None:
    """The code a (cleaned) text stands for. A file repeats a handful of values in every
    row: remembered, the same answer costs a lookup instead of a walk over the labels."""
    for value, zh, en in _choice_labels(choices):
        if text in (value, zh, en, f"{value} {zh}", f"{value}{zh}") or text.lower() == en.lower():
            return value
    # Two-digit codes typed as numbers lose their leading zero ("1" for "01"). Not "¹" or "١"
    # (digits int() refuses or reads otherwise), nor thousands of digits (int() refuses those).
    if text.isascii() and text.isdigit() and len(text) <= 18:
        for value, _label in choices.choices:
            if value.isdigit() and int(value) == int(text):
                return value
    return None


def parse_insurance(raw: object) -> tuple[list[str], str | None]:
    text = str(raw or "").strip()
    if not text:
        return list(ALL_INSURANCE), None
    values, bad = _insurance_of_text(text)
    return list(values), bad


@functools.lru_cache(maxsize=1024)
def _insurance_of_text(text: str) -> tuple[tuple[str, ...], str | None]:
    parts = [p.strip() for p in re.split(r"[、,，;；/\s]+", text) if p.strip()]
    values = []
    spec = FieldSpec("insurance_types", "参保险种", "choice", choices=InsuranceType)
    for part in parts:
        value = choice_value(spec, part.removesuffix("保险"))
        if value is None:
            return (), part
        if value not in values:
            values.append(value)
    return tuple(v for v in ALL_INSURANCE if v in values), None


# The dates and months a row can hold: a person's life and contributions. Outside them a date
# is not one the product can compute with (a birth in 9999 plus 16 years overflows the
# calendar; a back payment from year 1 would be 24,000 months), so it fails its own format
# check like any unreadable date. Text months were already limited to these years.
FIRST_DATE, LAST_DATE = dt.date(1900, 1, 1), dt.date(2200, 12, 31)


def raw_values(specs, values) -> dict[str, str]:
    """The values of these fields from a form's POST or a JSON object, as a row's raw values:
    one that is missing or null is empty; each is a stripped string."""
    return {spec.name: "" if values.get(spec.name) is None else str(values.get(spec.name)).strip() for spec in specs}


def normalise_row(specs: list[FieldSpec], raw: dict[str, object]) -> RowResult:
    """Format checks for one row. Derived checks (sex/birth vs ID) are the business type's."""
    result = RowResult()
    id_type = str(raw.get("id_type") or "").strip() or "01"
    for spec in specs:
        value = raw.get(spec.name)
        if value is None or (isinstance(value, str) and not value.strip()):
            value = spec.default
        if isinstance(value, str):
            # NUL never belongs in a value, and PostgreSQL cannot store it in text or JSON.
            value = value.replace("\x00", "").strip()
        if value in ("", None):
            if spec.required and spec.kind != "insurance":
                result.add("REQUIRED", spec)
            result.data[spec.name] = ",".join(ALL_INSURANCE) if spec.kind == "insurance" else ""
            continue
        kind = spec.kind
        if kind in ("choice", "id_type", "bool"):
            code = choice_value(spec, value)
            if code is None:
                result.add(
                    "CHOICE",
                    spec,
                    value=str(value),
                    choices=texts(zh for _code, zh, _en in _choice_labels(spec.choices)),
                )
                result.data[spec.name] = str(value)
            else:
                result.data[spec.name] = code
                if kind == "id_type":
                    id_type = code
        elif kind == "insurance":
            values, bad = parse_insurance(value)
            if bad:
                result.add("INSURANCE_TYPES", spec, value=bad)
                result.data[spec.name] = str(value)
            else:
                result.data[spec.name] = ",".join(values)
        elif kind == "month":
            month = parse_month(value)
            if month is None or not FIRST_DATE <= month <= LAST_DATE:
                result.add("MONTH_FORMAT", spec)
                result.data[spec.name] = str(value)
            else:
                result.data[spec.name] = format_month(month)
        elif kind == "date":
            date = parse_date(value)
            if date is None or not FIRST_DATE <= date <= LAST_DATE:
                result.add("DATE_FORMAT", spec)
                result.data[spec.name] = str(value)
            else:
                result.data[spec.name] = date.isoformat()
        elif kind == "money":
            amount = parse_money(value)
            # parse_money's amounts are finite: the exponent is a number, never the letter
            # of NaN or infinity.
            exponent = amount.as_tuple().exponent if amount is not None else 0
            assert isinstance(exponent, int)
            if amount is None or exponent < -2 and fen(amount) != amount:
                result.add("MONEY_FORMAT", spec)
                result.data[spec.name] = str(value)
            elif amount <= 0:
                result.add("MONEY_POSITIVE", spec)
                result.data[spec.name] = str(amount)
            else:
                result.data[spec.name] = str(fen(amount))
        elif kind == "id_number":
            check = check_id(id_type, value)
            result.data[spec.name] = check.normalized
            if check.error:
                result.add(check.error, spec)
            else:
                result.derived["sex"] = check.sex or ""
                result.derived["birth_date"] = check.birth_date.isoformat() if check.birth_date else ""
        elif kind == "name":
            name, error = check_name(value)
            result.data[spec.name] = name
            if error:
                result.add(error, spec)
        elif kind == "phone":
            phone = clean_text(value).replace("－", "-")
            if isinstance(value, float) and value.is_integer():
                phone = str(int(value))
            result.data[spec.name] = phone
            if not re.fullmatch(r"1\d{10}|0\d{2,3}-?\d{7,8}(-\d{1,6})?|\d{7,8}", phone):
                result.add("PHONE_FORMAT", spec)
        else:
            text = one_line(str(value)).strip()
            result.data[spec.name] = text
            if char := hidden_character(text):
                result.add("TEXT_CONTROL_CHARS", spec, char=char)
            elif len(text) > spec.max_length:
                result.add("TEXT_LENGTH", spec, max=spec.max_length)
    return result


def as_month(value: str) -> dt.date | None:
    return parse_month(value) if value else None


def as_date(value: str) -> dt.date | None:
    return parse_date(value) if value else None


def as_money(value: str) -> Decimal | None:
    return parse_money(value) if value else None
