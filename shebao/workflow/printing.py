"""What a business type prints: the declaration of its form (申报表), columns and rows.

A business type declares a `PrintForm`; shebao.exports renders any of them, as PDF and as a
spreadsheet, page by page. Values are display strings, except money, which stays
``Decimal`` (summed per page and in total, written to spreadsheets as numbers). Labels are
Chinese source texts (gettext msgids) shown through gettext.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext

from shebao.core.choices import ALL_INSURANCE, InsuranceType


@dataclass(frozen=True)
class Column:
    key: str
    msgid: str
    width: int  # relative width (PDF: mm on A4 landscape; xlsx: characters)
    group_msgid: str = ""  # a shared upper header (e.g. 追溯补缴), PDF only
    sub_msgid: str = ""  # the lower header under the group
    money: bool = False

    @property
    def label(self) -> str:
        return gettext(self.msgid)

    @property
    def group(self) -> str:
        return gettext(self.group_msgid) if self.group_msgid else ""

    @property
    def sub_label(self) -> str:
        return gettext(self.sub_msgid) if self.sub_msgid else ""


# An item as the form reads it: row number, name, ID number and the row's data.
RowFunction = Callable[[Any, int], dict[str, Any]]


@dataclass(frozen=True)
class PrintForm:
    title_msgid: str
    columns: tuple[Column, ...]
    row: RowFunction
    wage_key: str = ""  # a money column summed per page and in total (申报工资合计)
    # Other money columns summed per page and in the document's total row (e.g. the bases of
    # 社会保险缴费工资申报表); the grand total of a form printed in parts names the wage only.
    totalled: tuple[str, ...] = ()

    @property
    def summed(self) -> tuple[str, ...]:
        """Every summed column: the wage first."""
        return tuple(key for key in (self.wage_key, *self.totalled) if key)

    @property
    def title(self) -> str:
        return gettext(self.title_msgid)

    @property
    def has_wage(self) -> bool:
        return bool(self.wage_key)

    @property
    def header_groups(self) -> list[tuple[str, int, list[Column]]]:
        """Upper header cells: (label, colspan, columns) in order, for a two-row thead."""
        groups: list[tuple[str, int, list[Column]]] = []
        for col in self.columns:
            if col.group_msgid and groups and groups[-1][2][-1].group_msgid == col.group_msgid:
                label, span, cols = groups[-1]
                groups[-1] = (label, span + 1, [*cols, col])
            else:
                groups.append((col.group or col.label, 1, [col]))
        return groups

    @property
    def two_row_header(self) -> bool:
        return any(col.group_msgid for col in self.columns)


# --- helpers for the row functions of business types -------------------------------------------


def money(value: object) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value).replace(",", "")).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return None


def choice_label(choices: Any, code: str) -> str:
    try:
        return str(choices(code).label)
    except ValueError:
        return code


def insurance_labels(codes: str, *, blank_means_all: bool = False) -> str:
    values = [c for c in (codes or "").replace("，", ",").replace("、", ",").split(",") if c.strip()]
    if not values and blank_means_all:
        values = list(ALL_INSURANCE)
    return "、".join(choice_label(InsuranceType, c.strip()) for c in values)


def seq_name_id(item: Any, seq: int) -> dict[str, Any]:
    """The columns every person form starts with: 序号, 姓名, 证件号码."""
    data = item.data or {}
    return {
        "seq": str(seq),
        "name": item.name or data.get("name", ""),
        "id_number": item.id_number or data.get("id_number", ""),
    }
