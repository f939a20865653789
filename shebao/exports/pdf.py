"""The forms as PDF: an HTML template rendered by WeasyPrint with the Noto CJK font embedded.

Pages are explicit blocks of ROWS_PER_PAGE persons, each with its table header and a
subtotal row (the thead also repeats should a block ever overflow a page). A long table
costs WeasyPrint a lot of memory, so big batches are rendered in parts (services.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any, overload

from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from shebao.exports.barcodes import code128_svg
from shebao.exports.documents import Totals, iter_rows, listing_of, page_sums, paginate, print_date, summed_span
from shebao.workflow.models import Item, Transaction
from shebao.workflow.printing import PrintForm


@dataclass
class PartInfo:
    number: int
    total: int


@dataclass
class PrintedPage:
    """A page as the template prints it: its cells as text and its subtotal (the page's rows
    are not kept: a long table is held once, as text)."""

    persons: int
    wage_text: str
    cells: list[list[tuple[str, str]]]
    tail: list[tuple[str, str]]  # the subtotal row's cells after its label


@dataclass
class PrintedTotals:
    persons: int
    wage_text: str
    tail: list[tuple[str, str]]


def _money_text(value: Decimal | None) -> str:
    return "" if value is None else f"{value:,.2f}"


def _tail(form: PrintForm, sums: Totals) -> list[tuple[str, str]]:
    """The cells of a subtotal or total row after its label: each summed column's amount."""
    summed = set(form.summed)
    return [
        (_money_text(sums.of(col.key, form)), "money") if col.key in summed else ("", "")
        for col in form.columns[summed_span(form) :]
    ]


def _printed_totals(form: PrintForm, totals: Totals) -> PrintedTotals:
    return PrintedTotals(persons=totals.persons, wage_text=_money_text(totals.wage), tail=_tail(form, totals))


def _cells(form: PrintForm, row: dict) -> list[tuple[str, str]]:
    out = []
    for col in form.columns:
        value = row.get(col.key)
        if col.money:
            out.append((_money_text(value), "money"))
        elif col.key in ("seq", "sex"):
            out.append((value or "", "c"))
        else:
            out.append((value or "", ""))
    return out


def form_html(
    form: PrintForm,
    tx: Transaction,
    items: Iterable[Item],
    *,
    first_seq: int = 1,
    part: PartInfo | None = None,
    grand: Totals | None = None,
) -> str:
    totals = Totals()
    pages = []
    for page in paginate(form, iter_rows(form, items, first_seq=first_seq)):
        totals.add(page)
        cells = [_cells(form, row) for row in page.rows]
        tail = _tail(form, page_sums(page))
        pages.append(PrintedPage(persons=page.persons, wage_text=_money_text(page.wage), cells=cells, tail=tail))
    serial = tx.serial or str(tx.pk)
    prefix, mid, suffix = _("第 "), _(" 页 / 共 "), _(" 页")
    return render_to_string(
        "exports/form_pdf.html",
        {
            "form": form,
            "listing": listing_of(tx),
            "employer": tx.employer,
            "serial": serial,
            "barcode_svg": code128_svg(serial),
            "pages": pages,
            "totals": _printed_totals(form, totals),
            "grand": None if grand is None else _printed_totals(form, grand),
            "part": part,
            "printed": print_date().isoformat(),
            "subtotal_span": summed_span(form),
            "page_label_prefix": prefix.replace('"', ""),
            "page_label_mid": mid.replace('"', ""),
            "page_label_suffix": suffix.replace('"', ""),
        },
    )


# Where a PDF is written: a file name or a binary file; without one, its bytes are returned.
Target = str | os.PathLike[str] | IO[bytes]


@overload
def html_to_pdf(html: str, target: None = None) -> bytes: ...
@overload
def html_to_pdf(html: str, target: Target) -> None: ...
def html_to_pdf(html: str, target: Target | None = None) -> bytes | None:
    from weasyprint import HTML

    return HTML(string=html, base_url=None).write_pdf(target)


@overload
def form_pdf(form: PrintForm, tx: Transaction, items: Iterable[Item], target: None = None, **kwargs: Any) -> bytes: ...
@overload
def form_pdf(form: PrintForm, tx: Transaction, items: Iterable[Item], target: Target, **kwargs: Any) -> None: ...
def form_pdf(
    form: PrintForm, tx: Transaction, items: Iterable[Item], target: Target | None = None, **kwargs: Any
) -> bytes | None:
    return html_to_pdf(form_html(form, tx, items, **kwargs), target)
