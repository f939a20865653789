"""The clock (shebao.core.clock): today and the current month are China's, at every instant.

current_month() remembers its answer between calls; it must still be the month of today in
China at every instant, also across a month's end, with time going backwards, and whatever
time zone is active for display or set for the process.
"""

from __future__ import annotations

import datetime as dt
import time
import zoneinfo

import pytest
from django.utils import timezone

from shebao.core import clock, months

ZONES = ["Asia/Shanghai", "Pacific/Kiritimati", "Etc/GMT+12", "UTC"]
CHINA = zoneinfo.ZoneInfo("Asia/Shanghai")


def _instants() -> list[dt.datetime]:
    utc = dt.UTC
    instants = []
    for month_end in (
        dt.datetime(2025, 12, 31, tzinfo=utc),
        dt.datetime(2026, 2, 28, tzinfo=utc),
        dt.datetime(2028, 2, 29, tzinfo=utc),
    ):
        for hours in range(-60, 61, 5):  # 2.5 days either side of the month's last midnight
            instants.append(month_end + dt.timedelta(hours=hours))
    return instants + list(reversed(instants))  # time going backwards too (a test, a clock fix)


@pytest.mark.parametrize("zone", ZONES)
def test_the_month_of_today_in_china_at_every_instant_whatever_zone_is_active(pinned_clock, zone):
    with timezone.override(zoneinfo.ZoneInfo(zone)):
        for instant in _instants():
            pinned_clock.move_to(instant, tick=False)
            china = instant.astimezone(CHINA).date()
            assert clock.today() == china, instant
            assert clock.current_month() == china.replace(day=1), instant
            assert months.current_month() == china.replace(day=1), instant


@pytest.mark.parametrize(
    "instant, today, month, next_month",
    [
        # 16:30 UTC on 31 December is 00:30 on 1 January in China: already the new year.
        ("2026-12-31T16:30:00Z", dt.date(2027, 1, 1), dt.date(2027, 1, 1), dt.date(2027, 2, 1)),
        ("2026-12-31T15:59:59Z", dt.date(2026, 12, 31), dt.date(2026, 12, 1), dt.date(2027, 1, 1)),
        ("2027-01-01T00:00:00+08:00", dt.date(2027, 1, 1), dt.date(2027, 1, 1), dt.date(2027, 2, 1)),
        # 29 February, and the day after it (China already on 1 March at 16:00 UTC).
        ("2028-02-29T04:00:00Z", dt.date(2028, 2, 29), dt.date(2028, 2, 1), dt.date(2028, 3, 1)),
        ("2028-02-29T16:00:00Z", dt.date(2028, 3, 1), dt.date(2028, 3, 1), dt.date(2028, 4, 1)),
        # The first and the last day of a month.
        ("2026-07-01T00:00:00+08:00", dt.date(2026, 7, 1), dt.date(2026, 7, 1), dt.date(2026, 8, 1)),
        ("2026-06-30T23:59:59+08:00", dt.date(2026, 6, 30), dt.date(2026, 6, 1), dt.date(2026, 7, 1)),
    ],
)
def test_boundaries(pinned_clock, instant, today, month, next_month):
    pinned_clock.move_to(dt.datetime.fromisoformat(instant), tick=False)
    assert (clock.today(), clock.current_month(), clock.next_month()) == (today, month, next_month)


@pytest.mark.clock("2026-12-31T16:30:00Z")
def test_the_process_time_zone_does_not_change_the_date(monkeypatch):
    """A server in UTC (TZ=UTC) still works on China's date, on the last evening of the year."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        assert dt.date.today() == dt.date(2026, 12, 31)  # what the server's own date says
        assert clock.today() == dt.date(2027, 1, 1)
        assert clock.current_month() == dt.date(2027, 1, 1)
    finally:
        monkeypatch.undo()
        time.tzset()
