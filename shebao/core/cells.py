"""Spreadsheet cell values that never run as formulas (CSV/formula injection).

A value written into an exported list that starts with ``=``, ``+``, ``-`` or ``@`` (or a
tab / carriage return, which some spreadsheet programs strip before parsing) would be read
by Excel or LibreOffice as a formula. ``safe_cell`` returns such text with a leading
apostrophe, the spreadsheet convention for "this is text", so the value shows and never
runs. Numbers, dates, Decimals and ``None`` pass through unchanged. Works with openpyxl,
xlsxwriter and CSV alike; an importer reading our own lists back should strip one leading
apostrophe from text cells (``unsafe_cell``).
"""

from __future__ import annotations

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def unsafe_cell(value: object) -> object:
    """The inverse for text read back from one of our exports."""
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_PREFIXES):
        return value[1:]
    return value
