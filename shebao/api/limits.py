"""Per-token counters in the database, shared by every web process: the rate limit per
minute and validate's daily quota. One statement per request: an upsert that returns the
count (INSERT … ON CONFLICT … RETURNING, on PostgreSQL and on SQLite ≥ 3.35)."""

from __future__ import annotations

import datetime as dt
import math

from django.conf import settings
from django.db import connection
from django.utils import timezone

from shebao.api.models import ApiToken, Counter
from shebao.core import clock, rows

RATE = "rate"
VALIDATE = "validate"


class LimitReached(Exception):
    def __init__(self, kind: str, limit: int, retry_after: int) -> None:
        super().__init__(kind)
        self.kind, self.limit, self.retry_after = kind, limit, retry_after


def count(token: ApiToken, kind: str, window: dt.datetime) -> int:
    """Add one to the token's counter of this window and return the new count."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {rows.table(Counter)} (token_id, kind, window_start, count) VALUES (%s, %s, %s, 1) "
            "ON CONFLICT (token_id, kind, window_start) DO UPDATE SET count = "
            f"{rows.table(Counter)}.count + 1 RETURNING count",
            [token.pk, kind, connection.ops.adapt_datetimefield_value(window)],
        )
        return int(cursor.fetchone()[0])


def check_rate(token: ApiToken, now: dt.datetime | None = None) -> None:
    """SHEBAO_API_RATE_PER_MINUTE requests per token and calendar minute, or LimitReached."""
    now = now or timezone.now()
    window = now.replace(second=0, microsecond=0)
    limit = settings.SHEBAO_API_RATE_PER_MINUTE
    if count(token, RATE, window) > limit:
        wait = (window + dt.timedelta(minutes=1) - now).total_seconds()
        raise LimitReached(RATE, limit, max(1, math.ceil(wait)))


def _day_start(now: dt.datetime) -> dt.datetime:
    """Midnight in China of the day of `now`: the quota's window."""
    return clock.local(now).replace(hour=0, minute=0, second=0, microsecond=0)


def check_validate_quota(token: ApiToken, now: dt.datetime | None = None) -> None:
    """SHEBAO_API_VALIDATE_PER_DAY validate calls per token and day (in China)."""
    now = now or timezone.now()
    start = _day_start(now)
    limit = settings.SHEBAO_API_VALIDATE_PER_DAY
    if count(token, VALIDATE, start) > limit:
        wait = (start + dt.timedelta(days=1) - now).total_seconds()
        raise LimitReached(VALIDATE, limit, max(1, math.ceil(wait)))


def used_today(token: ApiToken, now: dt.datetime | None = None) -> int:
    start = _day_start(now or timezone.now())
    return (
        Counter.objects.filter(token=token, kind=VALIDATE, window_start=start).values_list("count", flat=True).first()
        or 0
    )


def prune(now: dt.datetime | None = None) -> int:
    """Counters older than two days (run daily with the idempotency keys)."""
    now = now or timezone.now()
    deleted, _ = Counter.objects.filter(window_start__lt=now - dt.timedelta(days=2)).delete()
    return deleted
