"""The printed forms: which business type prints what, row by row, page by page.

A form is a list of columns and a function that turns an item into one row of values.
Values are display strings, except money, which stays ``Decimal`` (summed per page and in
total, written to spreadsheets as numbers). The PDF and the spreadsheet are both built
from these rows, so they always agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext_lazy as _

from shebao.core import clock
from shebao.core.choices import ALL_INSURANCE, InsuranceType, Sex, SuspendReason
from shebao.workflow.models import Item, ItemStatus, Transaction

ROWS_PER_PAGE = 25  # persons per printed page (A4 landscape); each page has a subtotal row


@dataclass(frozen=True)
class Column:
    key: str
    label: object
    width: int  # relative width (PDF: mm on A4 landscape; xlsx: characters)
    group: object = None  # a shared upper header (e.g. 追溯补缴), PDF only
    sub_label: object = None  # the lower header under the group
    money: bool = False


@dataclass
class Page:
    number: int
    rows: list[dict]
    persons: int = 0
    wage: Decimal = Decimal("0.00")


@dataclass
class FormSpec:
    code: str
    title: object
    columns: list[Column]
    has_wage: bool
    wage_key: str = ""
    extra: dict = field(default_factory=dict)

    def row(self, item: Item, seq: int) -> dict:
        raise NotImplementedError

    @property
    def header_groups(self) -> list[tuple[object, int, list[Column]]]:
        """Upper header cells: (label, colspan, columns) in order, for a two-row thead."""
        groups: list[tuple[object, int, list[Column]]] = []
        for col in self.columns:
            if col.group and groups and groups[-1][0] == col.group:
                label, span, cols = groups[-1]
                groups[-1] = (label, span + 1, cols + [col])
            else:
                groups.append((col.group or col.label, 1, [col]))
        return groups

    @property
    def two_row_header(self) -> bool:
        return any(col.group for col in self.columns)


def _money(value: object) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value).replace(",", "")).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return None


def _label(choices, code: str) -> str:
    try:
        return str(choices(code).label)
    except ValueError:
        return code


def insurance_labels(codes: str, *, blank_means_all: bool = False) -> str:
    values = [c for c in (codes or "").replace("，", ",").replace("、", ",").split(",") if c.strip()]
    if not values and blank_means_all:
        values = list(ALL_INSURANCE)
    return "、".join(_label(InsuranceType, c.strip()) for c in values)


class EnrolForm(FormSpec):
    def row(self, item: Item, seq: int) -> dict:
        data = item.data or {}
        return {
            "seq": str(seq),
            "name": item.name or data.get("name", ""),
            "id_number": item.id_number or data.get("id_number", ""),
            "sex": _label(Sex, data["sex"]) if data.get("sex") else "",
            "birth_date": data.get("birth_date", ""),
            "start_month": data.get("start_month", ""),
            "wage": _money(data.get("wage")),
            "insurance_types": insurance_labels(data.get("insurance_types", ""), blank_means_all=True),
            "phone": data.get("phone", ""),
            "backpay_from": data.get("backpay_from", ""),
            "backpay_base": _money(data.get("backpay_base")) if data.get("backpay_from") else None,
        }


class SuspendForm(FormSpec):
    def row(self, item: Item, seq: int) -> dict:
        data = item.data or {}
        reason = data.get("reason", "")
        return {
            "seq": str(seq),
            "name": item.name or data.get("name", ""),
            "id_number": item.id_number or data.get("id_number", ""),
            "stop_month": data.get("stop_month", ""),
            "reason": f"{reason} {_label(SuspendReason, reason)}" if reason else "",
            "stop_types": insurance_labels(data.get("stop_types", "")),
        }


FORMS: dict[str, FormSpec] = {
    "enrol": EnrolForm(
        code="enrol",
        title=_("企业参保人员增员表"),
        has_wage=True,
        wage_key="wage",
        columns=[
            Column("seq", _("序号"), 8),
            Column("name", _("姓名"), 20),
            Column("id_number", _("证件号码"), 36),
            Column("sex", _("性别"), 8),
            Column("birth_date", _("出生日期"), 18),
            Column("start_month", _("参保起始年月"), 18),
            Column("wage", _("申报月工资"), 18, money=True),
            Column("insurance_types", _("参保险种"), 46),
            Column("phone", _("联系电话"), 24),
            Column("backpay_from", _("追溯补缴起始年月"), 16, group=_("追溯补缴"), sub_label=_("起始年月")),
            Column("backpay_base", _("追溯补缴基数"), 18, group=_("追溯补缴"), sub_label=_("补缴基数"), money=True),
        ],
    ),
    "suspend": SuspendForm(
        code="suspend",
        title=_("在职职工减员申报表"),
        has_wage=False,
        columns=[
            Column("seq", _("序号"), 12),
            Column("name", _("姓名"), 30),
            Column("id_number", _("证件号码"), 48),
            Column("stop_month", _("停保年月"), 24),
            Column("reason", _("减员原因"), 60),
            Column("stop_types", _("停保险种"), 70),
        ],
    ),
}


def form_for(tx: Transaction) -> FormSpec | None:
    return FORMS.get(tx.business_type)


def printable_items(tx: Transaction):
    """The persons of a transaction that a form lists: imported rows, in file order."""
    return (
        Item.objects.filter(transaction=tx, status=ItemStatus.IMPORTED)
        .order_by("row_no", "id")
        .only("id", "row_no", "name", "id_number", "data")
    )


def iter_rows(form: FormSpec, items: Iterable[Item], *, first_seq: int = 1) -> Iterator[dict]:
    for seq, item in enumerate(items, start=first_seq):
        yield form.row(item, seq)


def paginate(form: FormSpec, rows: Iterable[dict], per_page: int | None = None) -> Iterator[Page]:
    per_page = per_page or ROWS_PER_PAGE
    page = Page(1, [])
    for row in rows:
        if len(page.rows) == per_page:
            yield page
            page = Page(page.number + 1, [])
        page.rows.append(row)
        page.persons += 1
        if form.has_wage and row.get(form.wage_key) is not None:
            page.wage += row[form.wage_key]
    if page.rows or page.number == 1:
        yield page


@dataclass
class Totals:
    persons: int = 0
    wage: Decimal = Decimal("0.00")

    def add(self, page: Page) -> None:
        self.persons += page.persons
        self.wage += page.wage


def print_date() -> dt.date:
    return clock.today()


def filename(form: FormSpec, tx: Transaction, ext: str, part: int | None = None) -> str:
    suffix = f"-{part:02d}" if part else ""
    return f"{form.title}-{tx.serial or tx.pk}{suffix}.{ext}"
