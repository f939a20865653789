"""Calendar months, stored as the first day of the month."""

from __future__ import annotations

import datetime as dt
import re

_MONTH_PATTERNS = [
    re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$"),
    re.compile(r"^(\d{4})(\d{2})$"),
]


def month_start(value: dt.date) -> dt.date:
    return value.replace(day=1)


def add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + (month.month - 1) + n
    return dt.date(index // 12, index % 12 + 1, 1)


def months_between(start: dt.date, end: dt.date) -> int:
    """Whole months from start to end (end - start), both month starts."""
    return (end.year - start.year) * 12 + (end.month - start.month)


def anniversary(born: dt.date, years: int) -> dt.date:
    """The day someone born on `born` turns `years` (29 February: 1 March in a common year)."""
    year = born.year + years
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        return dt.date.max if years > 0 else dt.date.min
    try:
        return born.replace(year=year)
    except ValueError:
        return dt.date(year, 3, 1)


def month_range(start: dt.date, stop: dt.date) -> list[dt.date]:
    """Months from start up to, not including, stop."""
    out = []
    current = month_start(start)
    while current < stop:
        out.append(current)
        current = add_months(current, 1)
    return out


def current_month() -> dt.date:
    """The current month in China: see shebao.core.clock (kept here for the callers of months)."""
    from shebao.core import clock

    return clock.current_month()


def parse_month(value: object) -> dt.date | None:
    """Accept 2024-03, 2024/3, 202403, 2024年3月, a date or datetime. None when unreadable."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().replace(day=1)
    if isinstance(value, dt.date):
        return value.replace(day=1)
    text = str(value).strip()
    if not text:
        return None
    text = text.translate(FULLWIDTH)
    for pattern in _MONTH_PATTERNS:
        match = pattern.match(text)
        if match:
            year, month = int(match.group(1)), int(match.group(2))
            if 1900 <= year <= 2200 and 1 <= month <= 12:
                return dt.date(year, month, 1)
            return None
    parsed = parse_date(text)
    return parsed.replace(day=1) if parsed else None


_MIDNIGHT = re.compile(r"[T ]00:00(:00)?$")
_DATE_PATTERNS = [
    re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
]


def parse_date(value: object) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip().translate(FULLWIDTH)
    text = _MIDNIGHT.sub("", text)
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            try:
                return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
            except ValueError:
                return None
    return None


def format_month(month: dt.date | None) -> str:
    if not month:
        return ""
    if month.year >= 1000:  # what strftime("%Y-%m") gives, without its cost
        return f"{month.year}-{month.month:02d}"
    return month.strftime("%Y-%m")


# Full-width ASCII (U+FF01..U+FF5E) to half-width, and the ideographic space to a space.
FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
FULLWIDTH[0x3000] = 0x20
