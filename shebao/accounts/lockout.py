"""Login throttling, on django-axes' counters in the database (every web process sees them).

Two limits, both answered the same whether or not the account exists:
- per attempted identity (单位编号, 用户名): ``LOGIN_MAX_FAILURES`` failures lock that identity
  for ``LOGIN_LOCK_MINUTES``. The lock is time-limited: attempts refused during it are not
  counted, so hammering never prolongs it, and it ends when the minutes have passed.
- per client address: ``LOGIN_ADDRESS_MAX_FAILURES`` failures within
  ``LOGIN_ADDRESS_WINDOW_MINUTES`` refuse that address until enough of them are older than the
  window. Lenient enough for an office of many operators behind one address; it stops one
  address from guessing across many accounts, or from keeping someone locked out day after day.

The client address is ``REMOTE_ADDR``, or behind ``SHEBAO_PROXY_COUNT`` proxies the address the
outermost of them saw (each proxy appends the address it received the request from to
X-Forwarded-For, so the client's is that many places from the right; what a client writes
there itself is further left and never used).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.db.models import Q
from django.utils import timezone


@dataclass(frozen=True)
class Lock:
    until: dt.datetime
    by_address: bool = False


def identity(employer_number: str | None, username: str | None) -> str:
    """The attempted identity as counted: 单位编号/用户名 (a user name never contains "/")."""
    return f"{(employer_number or '').strip()}/{(username or '').strip()}"


def attempted_identity(request, credentials: dict | None = None) -> str:
    """AXES_USERNAME_CALLABLE: the (单位编号, 用户名) a request tried, whether or not it exists."""
    credentials = credentials or {}
    post = getattr(request, "POST", None) or {}
    username = credentials.get("username") if "username" in credentials else post.get("username")
    if "employer_number" in credentials:
        number = credentials["employer_number"]
    else:  # a successful login's signal names only the user; the form said the number
        number = post.get("employer_number", "")
    return identity(number, username)


def _valid_address(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def client_address(request) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: the client's address, per SHEBAO_PROXY_COUNT."""
    remote = _valid_address(request.META.get("REMOTE_ADDR"))
    hops = settings.SHEBAO_PROXY_COUNT
    if hops <= 0:
        return remote
    chain = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if not chain:
        return remote
    return _valid_address(chain[-hops] if len(chain) >= hops else chain[0]) or remote


def lockout_parameters(request=None, credentials=None) -> list[str]:
    """AXES_LOCKOUT_PARAMETERS: axes counts and resets by the attempted identity only.

    The address has its own limit and window (LoginAttemptHandler); counted by axes it would
    get the identity's five failures in 15 minutes, for a whole office behind one address, and
    a success would reset every identity tried from that address.
    """
    return ["username"]


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: the page as the view rendered it; the login page says why."""
    return original_response


def lock_duration(request=None) -> dt.timedelta:
    """AXES_COOLOFF_TIME: how long an identity stays locked, and how long a failure counts."""
    return dt.timedelta(minutes=settings.LOGIN_LOCK_MINUTES)


def _identity_lock(name: str, now: dt.datetime) -> Lock | None:
    duration = lock_duration()
    rows = sorted(
        AccessAttempt.objects.filter(username=name, attempt_time__gte=now - duration).values_list(
            "attempt_time", "failures_since_start"
        )
    )
    total, limit = sum(failures for _, failures in rows), settings.LOGIN_MAX_FAILURES
    if total < limit:
        return None
    # Failures stop counting one row at a time (oldest first); the lock ends when fewer are left.
    for attempt_time, failures in rows:
        total -= failures
        if total < limit:
            return Lock(until=attempt_time + duration)
    return None  # unreachable: the loop ends with total == 0


def _address_lock(address: str | None, now: dt.datetime) -> Lock | None:
    if not address:
        return None
    window = dt.timedelta(minutes=settings.LOGIN_ADDRESS_WINDOW_MINUTES)
    recent = AccessFailureLog.objects.filter(ip_address=address, attempt_time__gte=now - window)
    count, limit = recent.count(), settings.LOGIN_ADDRESS_MAX_FAILURES
    if count < limit:
        return None
    oldest_that_still_blocks = recent.order_by("attempt_time").values_list("attempt_time", flat=True)[count - limit]
    return Lock(until=oldest_that_still_blocks + window, by_address=True)


def current_lock(request, *, username: str | None, employer_number: str | None) -> Lock | None:
    """The lock that refuses this attempt now, if any (the identity's first)."""
    if not settings.AXES_ENABLED:
        return None
    AxesProxyHandler.update_request(request)
    now = request.axes_attempt_time
    return _identity_lock(identity(employer_number, username), now) or _address_lock(request.axes_ip_address, now)


def unlock(usernames) -> int:
    """Lift the identity locks of these user names (with any 单位编号 typed): the admin's 解除登录锁定."""
    names = [name for name in usernames if name]
    if not names:
        return 0
    query = Q()
    for name in names:
        query |= Q(username__endswith=identity("", name))
    deleted, _ = AccessAttempt.objects.filter(query).delete()
    return deleted


class LoginAttemptHandler(AxesDatabaseHandler):
    """axes' database handler, with the address limit added to its per-identity lock."""

    def is_locked(self, request, credentials=None) -> bool:
        return (
            super().is_locked(request, credentials)
            or _address_lock(request.axes_ip_address, request.axes_attempt_time) is not None
        )


def locked_until(username: str) -> dt.datetime | None:
    """When the latest identity lock of this user name (any 单位编号 typed) ends; None if none."""
    now = timezone.now()
    names = set(
        AccessAttempt.objects.filter(username__endswith=identity("", username)).values_list("username", flat=True)
    )
    locks = [lock for name in names if (lock := _identity_lock(name, now)) is not None]
    return max((lock.until for lock in locks), default=None)
