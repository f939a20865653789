"""Login: 单位编号 + 用户名 + 密码 for employer operators; 用户名 + 密码 (no 单位编号) for clerks
and administrators.

Every attempt costs one password hash, whether the account exists, is locked or not, and
every failure reads the same; failures are counted per attempted (单位编号, 用户名) and per
client address (shebao.accounts.lockout, on django-axes' counters).
"""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend
from axes.exceptions import AxesBackendPermissionDenied
from django.contrib.auth.backends import ModelBackend
from django.db import connection

from shebao.accounts import lockout
from shebao.accounts.models import Membership, Role, User
from shebao.core import rows


class ShebaoBackend(AxesStandaloneBackend, ModelBackend):
    def authenticate(self, request, username=None, password=None, employer_number=None, **kwargs):
        if not username or not password:
            return None
        number = (employer_number or "").strip()
        user = User.objects.filter(username=username).first()
        # The password is hashed before anything is decided, the same once for an unknown name
        # (a throw-away hash) as for an account, locked or not: neither time nor answer tells.
        if user is None:
            User().set_password(password)
            ok = False
        else:
            ok = user.check_password(password) and self.user_can_authenticate(user)
        if request is not None:
            lock = lockout.current_lock(request, username=username, employer_number=number)
            if lock is not None:
                request.shebao_lock = lock
                request.axes_locked_out = True  # axes counts no failure for a refused attempt
                # Django's authenticate() takes PermissionDenied as "no one" and stops here.
                raise AxesBackendPermissionDenied("locked out")
        if user is None or not ok:
            return None
        membership = None
        if user.role == Role.OPERATOR:
            membership = (
                Membership.objects.filter(user=user, employer__number=number, active=True, employer__active=True)
                .select_related("employer")
                .first()
            )
            if membership is None:
                return None
        elif number:
            # Clerks and administrators leave 单位编号 empty: a number typed does not make a
            # fresh identity with five more tries at their password.
            return None
        user.membership = membership
        return user

    def get_user(self, user_id):
        """The logged-in user of every request, read with one hand-written query."""
        try:
            user_id = int(user_id)
        except (TypeError, ValueError):
            return None
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {rows.select_list(User, 'u')} FROM {rows.table(User)} u WHERE u.id = %s", [user_id])
            row = cursor.fetchone()
        if row is None:
            return None
        user, _ = rows.instance(User, row)
        return user if self.user_can_authenticate(user) else None
