"""参保人员 as an .xlsx file (xlsxwriter, constant memory: a large employer's list streams)."""

from __future__ import annotations

from collections.abc import Iterable

import xlsxwriter
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from shebao.core.cells import safe_cell
from shebao.core.months import format_month

COLUMNS = [
    (gettext_noop("姓名"), 14),
    (gettext_noop("证件号码"), 22),
    (gettext_noop("性别"), 6),
    (gettext_noop("出生日期"), 12),
    (gettext_noop("参保状态"), 10),
    (gettext_noop("参保险种"), 28),
    (gettext_noop("参保起始年月"), 12),
    (gettext_noop("停保年月"), 10),
    (gettext_noop("减员原因"), 18),
    (gettext_noop("缴费基数"), 12),
    (gettext_noop("基数年度"), 10),
]


def write_persons_xlsx(persons: Iterable, out) -> None:
    """One row per person, as the list shows them (labels attached by the page)."""
    wb = xlsxwriter.Workbook(
        out,
        {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False},
    )
    ws = wb.add_worksheet(_("参保人员")[:31])
    head = wb.add_format({"bold": True, "border": 1, "bg_color": "#EEEEEE"})
    text = wb.add_format({"num_format": "@"})
    money = wb.add_format({"num_format": "#,##0.00"})
    for c, (title, width) in enumerate(COLUMNS):
        ws.set_column(c, c, width)
        ws.write_string(0, c, _(title), head)
    ws.freeze_panes(1, 0)
    for r, p in enumerate(persons, start=1):
        cells = [
            p.name,
            p.id_number,
            p.get_sex_display(),
            p.birth_date.isoformat() if p.birth_date else "",
            str(p.status_label),
            p.insurance_label,
            format_month(p.start_month),
            format_month(p.end_month),
            str(p.end_reason_label),
        ]
        for c, value in enumerate(cells):
            ws.write_string(r, c, str(safe_cell(value or "")), text)
        if p.base is not None:
            ws.write_number(r, len(cells), float(p.base), money)
        if p.base_year:
            ws.write_number(r, len(cells) + 1, int(p.base_year))
    wb.close()
