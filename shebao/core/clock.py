"""The product's one clock: every use of "now", "today" or "this month" goes through here.

The service hall works on the city's calendar, China's (Asia/Shanghai, UTC+8, no daylight
saving), whatever the server's own time zone or the time zone active for display: from
16:00 UTC on 31 December it is already 1 January in China, the current month is January
and next month's limits are those of the new year.

The instant comes from ``django.utils.timezone.now()`` (an aware UTC datetime), so a test
moves every reading at once with ``time_machine`` and a whole process is moved by
``faketime``; nothing else in the product reads the system clock for a date.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.utils import timezone

ZONE = zoneinfo.ZoneInfo("Asia/Shanghai")


def now() -> dt.datetime:
    """The current instant, aware (UTC)."""
    return timezone.now()


def local(instant: dt.datetime) -> dt.datetime:
    """An instant as China's wall-clock time."""
    return instant.astimezone(ZONE)


def date_of(instant: dt.datetime) -> dt.date:
    """The date in China at an instant (e.g. the date part of a serial number)."""
    return instant.astimezone(ZONE).date()


def today() -> dt.date:
    """Today's date in China."""
    return date_of(now())


# (from, until, month) of the last answer: a batch asks for the current month once per row,
# and the answer changes only when a month begins in China.
_current: tuple[dt.datetime, dt.datetime, dt.date] | None = None


def current_month() -> dt.date:
    """The first day of the current month in China."""
    global _current
    instant = now()
    cached = _current
    if cached is not None and cached[0] <= instant < cached[1]:
        return cached[2]
    month = date_of(instant).replace(day=1)
    first = dt.datetime.combine(month, dt.time(), tzinfo=ZONE)
    until = dt.datetime.combine(_month_after(month), dt.time(), tzinfo=ZONE)
    _current = (first, until, month)
    return month


def next_month() -> dt.date:
    return _month_after(current_month())


def _month_after(month: dt.date) -> dt.date:
    """The first day of the month after `month` (itself a first day).

    The clock does this bit of month arithmetic itself: shebao.core.months asks the clock for
    the current month, so the clock imports nothing from months.
    """
    return dt.date(month.year + 1, 1, 1) if month.month == 12 else dt.date(month.year, month.month + 1, 1)
