"""Login: 单位编号 + 用户名 + 密码 for employer operators; 用户名 + 密码 for clerks and administrators.

Five failed attempts lock the account for 15 minutes.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.db import connection
from django.db.models import F
from django.utils import timezone

from shebao.accounts.models import Membership, Role, User
from shebao.core import rows


class LockedOut(Exception):
    def __init__(self, until: dt.datetime) -> None:
        self.until = until


class ShebaoBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, employer_number=None, **kwargs):
        if not username or not password:
            return None
        user = User.objects.filter(username=username).first()
        if user is None:
            User().set_password(password)  # same work as a real check: no timing oracle
            return None
        now = timezone.now()
        if user.locked_until and user.locked_until > now:
            raise LockedOut(user.locked_until)
        membership = None
        if user.role == Role.OPERATOR:
            membership = (
                Membership.objects.filter(user=user, employer__number=(employer_number or "").strip(), active=True,
                                          employer__active=True).select_related("employer").first()
            )
        ok = user.check_password(password) and self.user_can_authenticate(user)
        ok = ok and (user.role != Role.OPERATOR or membership is not None)
        if not ok:
            failures = user.failed_logins + 1
            if failures >= settings.LOGIN_MAX_FAILURES:
                User.objects.filter(pk=user.pk).update(
                    failed_logins=0, locked_until=now + dt.timedelta(minutes=settings.LOGIN_LOCK_MINUTES))
            else:
                User.objects.filter(pk=user.pk).update(failed_logins=F("failed_logins") + 1)
            return None
        if user.failed_logins or user.locked_until:
            User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
        user.membership = membership
        return user

    def get_user(self, user_id):
        """The logged-in user of every request, read with one hand-written query."""
        try:
            user_id = int(user_id)
        except (TypeError, ValueError):
            return None
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {rows.select_list(User, 'u')} FROM {rows.table(User)} u WHERE u.id = %s",
                           [user_id])
            row = cursor.fetchone()
        if row is None:
            return None
        user, _ = rows.instance(User, row)
        return user if self.user_can_authenticate(user) else None
