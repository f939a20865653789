"""current_month() remembers its answer between calls; it must still be the month of today
in the active time zone at every instant, also across a month's end and in far zones."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone

from shebao.core import months

ZONES = ["Asia/Shanghai", "Pacific/Kiritimati", "Etc/GMT+12", "UTC"]


@pytest.mark.parametrize("zone", ZONES)
def test_the_month_of_today_in_the_active_zone_at_every_instant(monkeypatch, zone):
    utc = dt.UTC
    instants = []
    for month_end in (dt.datetime(2025, 12, 31, tzinfo=utc), dt.datetime(2026, 2, 28, tzinfo=utc)):
        for hours in range(-60, 61, 5):  # 2.5 days either side of the month's last midnight
            instants.append(month_end + dt.timedelta(hours=hours))
    instants += list(reversed(instants))  # time going backwards too (a test, a clock fix)
    with timezone.override(zoneinfo.ZoneInfo(zone)):
        for instant in instants:
            monkeypatch.setattr(timezone, "now", lambda instant=instant: instant)
            expected = timezone.localdate(instant).replace(day=1)
            assert months.current_month() == expected, instant


def test_a_zone_switched_mid_month_gets_its_own_month(monkeypatch):
    instant = dt.datetime(2026, 1, 31, 18, 0, tzinfo=dt.UTC)  # already 1 February in Shanghai
    monkeypatch.setattr(timezone, "now", lambda: instant)
    with timezone.override(zoneinfo.ZoneInfo("UTC")):
        assert months.current_month() == dt.date(2026, 1, 1)
    with timezone.override(zoneinfo.ZoneInfo("Asia/Shanghai")):
        assert months.current_month() == dt.date(2026, 2, 1)
