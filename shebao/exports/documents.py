"""The printed forms, row by row, page by page.

Each business type declares its form (shebao.workflow.printing.PrintForm: columns and a
function that turns an item into one row of values). The PDF and the spreadsheet are both
built from these rows, so they always agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext_noop

from shebao.core import clock
from shebao.workflow import registry
from shebao.workflow.models import AuditStatus, Item, ItemStatus, State, Transaction
from shebao.workflow.printing import PrintForm

ROWS_PER_PAGE = 25  # persons per printed page (A4 landscape); each page has a subtotal row


@dataclass
class Page:
    number: int
    rows: list[dict]
    persons: int = 0
    wage: Decimal = Decimal("0.00")
    sums: dict[str, Decimal] = field(default_factory=dict)  # the form's `totalled` columns


def form_for(tx: Transaction) -> PrintForm | None:
    """The printed form the transaction's business type declares (None: it prints none)."""
    business = registry.find(tx.business_type)
    return business.print_form if business else None


@dataclass(frozen=True)
class Listing:
    """Which persons a printed form lists: it follows the transaction (gettext msgids)."""

    key: str
    name: str  # printed under the title
    persons: str  # the count's label
    all_persons: str  # the same, over every part of a form printed in parts


# Before submitting (and while the audit runs): the application, every imported row.
APPLICATION = Listing(
    "a", gettext_noop("申报名单（全部导入成功的人员）"), gettext_noop("申报人数"), gettext_noop("全部申报人数")
)
# Awaiting a clerk: what the employer brings to the office, the rows the audit passed.
SUBMITTED = Listing(
    "s", gettext_noop("报送名单（自动审核通过的人员）"), gettext_noop("报送人数"), gettext_noop("全部报送人数")
)
# Finished: the persons who took effect.
FINISHED = Listing(
    "f", gettext_noop("办结名单（已生效的人员）"), gettext_noop("生效人数"), gettext_noop("全部生效人数")
)


def listing_of(tx: Transaction) -> Listing:
    if tx.state == State.FINISHED:
        return FINISHED
    if tx.state == State.REVIEW:
        return SUBMITTED
    return APPLICATION


def printable_items(tx: Transaction):
    """The persons the transaction's form lists now (listing_of), in file order."""
    items = Item.objects.filter(transaction=tx, status=ItemStatus.IMPORTED)
    listing = listing_of(tx)
    if listing is FINISHED:
        items = items.filter(applied=True)
    elif listing is SUBMITTED:
        items = items.filter(audit_status=AuditStatus.PASSED)
    return items.order_by("row_no", "id").only("id", "row_no", "name", "id_number", "data")


def iter_rows(form: PrintForm, items: Iterable[Item], *, first_seq: int = 1) -> Iterator[dict]:
    for seq, item in enumerate(items, start=first_seq):
        yield form.row(item, seq)


def paginate(form: PrintForm, rows: Iterable[dict], per_page: int | None = None) -> Iterator[Page]:
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
        for key in form.totalled:
            if row.get(key) is not None:
                page.sums[key] = page.sums.get(key, Decimal("0.00")) + row[key]
    if page.rows or page.number == 1:
        yield page


@dataclass
class Totals:
    persons: int = 0
    wage: Decimal = Decimal("0.00")
    sums: dict[str, Decimal] = field(default_factory=dict)

    def add(self, page: Page) -> None:
        self.persons += page.persons
        self.wage += page.wage
        for key, value in page.sums.items():
            self.sums[key] = self.sums.get(key, Decimal("0.00")) + value

    def of(self, key: str, form: PrintForm) -> Decimal | None:
        """A summed column's total (None: the column holds no amount)."""
        return self.wage if key == form.wage_key else self.sums.get(key)


def page_sums(page: Page) -> Totals:
    """A page's sums, as a total of that page alone."""
    sums = Totals()
    sums.add(page)
    return sums


def summed_span(form: PrintForm) -> int:
    """The columns before the first summed one: the subtotal's label spans them."""
    keys = set(form.summed)
    return next((n for n, col in enumerate(form.columns) if col.key in keys), len(form.columns))


def print_date() -> dt.date:
    return clock.today()


def filename(form: PrintForm, tx: Transaction, ext: str, part: int | None = None) -> str:
    suffix = f"-{part:02d}" if part else ""
    return f"{form.title}-{tx.serial or tx.pk}{suffix}.{ext}"
