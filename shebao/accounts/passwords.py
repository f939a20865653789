"""Password policy: ≥10 characters of 3 of the 4 classes, no user name or 单位编号, not one of the last 5."""

from __future__ import annotations

import re

from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

HISTORY_DEPTH = 5


class ComplexityValidator:
    def validate(self, password: str, user=None) -> None:
        classes = sum(bool(re.search(p, password)) for p in (r"[a-z]", r"[A-Z]", r"\d", r"[^A-Za-z0-9]"))
        if len(password) < 10 or classes < 3:
            raise ValidationError(
                _("密码至少 10 位，并包含大写字母、小写字母、数字、符号中的至少三类。"), code="password_too_simple"
            )

    def get_help_text(self) -> str:
        return _("密码至少 10 位，并包含大写字母、小写字母、数字、符号中的至少三类。")


class NoIdentityValidator:
    def validate(self, password: str, user=None) -> None:
        if user is None:
            return
        lowered = password.lower()
        names = [user.username]
        if user.pk:
            names += [m.employer.number for m in user.memberships.select_related("employer")]
        for name in names:
            if name and name.lower() in lowered:
                raise ValidationError(_("密码不能包含用户名或单位编号。"), code="password_contains_identity")

    def get_help_text(self) -> str:
        return _("密码不能包含用户名或单位编号。")


class HistoryValidator:
    def validate(self, password: str, user=None) -> None:
        if user is None or not user.pk:
            return
        recent = list(user.password_history.values_list("password", flat=True)[:HISTORY_DEPTH])
        if user.password and user.password not in recent:
            recent.insert(0, user.password)
        if any(check_password(password, old) for old in recent[:HISTORY_DEPTH]):
            raise ValidationError(_("新密码不能与最近 5 次使用过的密码相同。"), code="password_reused")

    @staticmethod
    def remember_current(user) -> None:
        """Before a change: keep the password being replaced (an initial or reset password was
        never recorded by password_changed), so it counts as one of the last 5."""
        if user is None or not user.pk or not user.has_usable_password():
            return
        newest = user.password_history.values_list("password", flat=True).first()
        if newest != user.password:
            from shebao.accounts.models import PasswordHistory

            PasswordHistory.objects.create(user=user, password=user.password)

    def password_changed(self, password: str, user=None) -> None:
        from shebao.accounts.models import PasswordHistory

        if user is not None and user.pk:
            # User.save() already calls this after set_password(); record each password once.
            if user.password_history.values_list("password", flat=True).first() == user.password:
                return
            PasswordHistory.objects.create(user=user, password=user.password)
            keep = user.password_history.values_list("pk", flat=True)[:HISTORY_DEPTH]
            user.password_history.exclude(pk__in=list(keep)).delete()

    def get_help_text(self) -> str:
        return _("新密码不能与最近 5 次使用过的密码相同。")
