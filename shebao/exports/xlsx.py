"""The forms as .xlsx (xlsxwriter, constant memory: a 100,000-person batch streams)."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterable

import xlsxwriter
from django.utils.translation import gettext as _

from shebao.core.cells import safe_cell
from shebao.exports.barcodes import code128_png
from shebao.exports.documents import Totals, iter_rows, listing_of, page_sums, paginate, print_date
from shebao.workflow.models import Item, Transaction
from shebao.workflow.printing import PrintForm

MAX_PAGE_BREAKS = 1023  # Excel's limit; later pages still get their subtotal rows


def write_form_xlsx(form: PrintForm, tx: Transaction, items: Iterable[Item], out) -> None:
    """Write the form of tx to `out` (a path or a binary file object)."""
    wb = xlsxwriter.Workbook(
        out,
        {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False},
    )
    ws = wb.add_worksheet(str(form.title)[:31])
    ncols = len(form.columns)
    last_col = ncols - 1
    f_title = wb.add_format({"bold": True, "font_size": 16, "align": "center", "valign": "vcenter"})
    f_info = wb.add_format({"font_size": 10, "valign": "vcenter"})
    f_listing = wb.add_format({"font_size": 11, "bold": True, "valign": "vcenter"})
    f_head = wb.add_format(
        {"bold": True, "border": 1, "align": "center", "valign": "vcenter", "text_wrap": True, "bg_color": "#EEEEEE"}
    )
    f_cell = wb.add_format({"border": 1, "valign": "vcenter", "num_format": "@"})
    f_money = wb.add_format({"border": 1, "valign": "vcenter", "num_format": "#,##0.00"})
    f_sub = wb.add_format({"border": 1, "italic": True, "bg_color": "#F7F7F7", "num_format": "@"})
    f_sub_money = wb.add_format({"border": 1, "italic": True, "bg_color": "#F7F7F7", "num_format": "#,##0.00"})
    f_total = wb.add_format({"border": 1, "bold": True, "num_format": "@"})
    f_total_money = wb.add_format({"border": 1, "bold": True, "num_format": "#,##0.00"})
    f_sign = wb.add_format({"border": 1, "valign": "top"})

    for c, col in enumerate(form.columns):
        ws.set_column(c, c, max(6, col.width * 0.55))
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    ws.set_footer("&C" + _("第 &P 页 / 共 &N 页"))

    serial = tx.serial or str(tx.pk)
    ws.set_row(0, 30)
    ws.merge_range(0, 0, 0, last_col, str(form.title), f_title)
    employer = tx.employer
    ws.write_string(1, 0, safe_cell(_("单位名称：%(name)s") % {"name": employer.name}), f_info)
    ws.write_string(2, 0, safe_cell(_("单位编号：%(number)s") % {"number": employer.number}), f_info)
    ws.write_string(3, 0, _("流水号：%(serial)s") % {"serial": serial}, f_info)
    ws.write_string(4, 0, _("打印日期：%(date)s") % {"date": print_date().isoformat()}, f_info)
    png = code128_png(serial)
    ws.insert_image(
        1,
        max(last_col - 3, 3),
        "barcode.png",
        {"image_data": io.BytesIO(png), "x_scale": 0.6, "y_scale": 0.6, "object_position": 3, "description": serial},
    )
    listing = listing_of(tx)
    ws.write_string(5, 0, _(listing.name), f_listing)
    header_row = 6
    for c, col in enumerate(form.columns):
        ws.write_string(header_row, c, str(col.label), f_head)
    ws.set_row(header_row, 30)
    ws.repeat_rows(header_row)
    ws.freeze_panes(header_row + 1, 0)

    row = header_row + 1
    totals = Totals()
    breaks: list[int] = []
    for page in paginate(form, iter_rows(form, items)):
        for values in page.rows:
            for c, col in enumerate(form.columns):
                value = values.get(col.key)
                if col.money:
                    if value is None:
                        ws.write_blank(row, c, None, f_money)
                    else:
                        ws.write_number(row, c, float(value), f_money)
                else:
                    ws.write_string(row, c, str(safe_cell(value or "")), f_cell)
            row += 1
        totals.add(page)
        # Page subtotal, as on the printed form.
        _subtotal_row(
            ws,
            form,
            row,
            _("第%(page)s页小计：%(n)s人") % {"page": page.number, "n": page.persons},
            page_sums(page),
            f_sub,
            f_sub_money,
        )
        row += 1
        if len(breaks) < MAX_PAGE_BREAKS:
            breaks.append(row)
    if breaks:
        breaks.pop()  # no break after the last page
    _subtotal_row(ws, form, row, _("合计：%(n)s人") % {"n": totals.persons}, totals, f_total, f_total_money)
    ws.write_string(row + 1, 0, f"{_(listing.persons)}：{totals.persons}", f_info)
    if form.has_wage:
        ws.write_string(row + 1, 2, _("申报工资合计：%(wage)s") % {"wage": f"{totals.wage:,.2f}"}, f_info)
    sign = row + 3
    ws.set_row(sign, 60)
    half = max(ncols // 2, 1)
    ws.merge_range(sign, 0, sign, half - 1, _("经办人签字："), f_sign)
    ws.merge_range(sign, half, sign, last_col, _("单位盖章："), f_sign)
    ws.write_string(sign + 1, 0, _("打印日期：%(date)s") % {"date": print_date().isoformat()}, f_info)
    ws.set_h_pagebreaks(breaks)
    ws.set_default_row(18)
    wb.close()


def _subtotal_row(ws, form: PrintForm, row: int, label: str, sums: Totals, f_text, f_money) -> None:
    summed = set(form.summed)
    for c, col in enumerate(form.columns):
        if c == 0:
            continue
        amount = sums.of(col.key, form) if col.key in summed else None
        if amount is not None:
            ws.write_number(row, c, float(amount), f_money)
        else:
            ws.write_blank(row, c, None, f_text)
    ws.write_string(row, 0, label, f_text)


def form_xlsx_file(form: PrintForm, tx: Transaction, items: Iterable[Item]):
    """A temporary file (rewound) holding the workbook; deleted when closed."""
    tmp = tempfile.TemporaryFile()
    write_form_xlsx(form, tx, items, tmp)
    tmp.seek(0)
    return tmp
