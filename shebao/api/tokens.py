"""Tokens: created by an employer's administrator, shown once, stored as a SHA-256 digest.

A token is `sb_` + 8 characters of prefix (shown in the list, to tell tokens apart) + `_` + 40
characters of secret, 288 bits drawn by `secrets`: a hash needs no salt nor stretching at that
entropy, and one SHA-256 keeps the check of every request cheap.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shebao.accounts.models import Membership
from shebao.api.models import ApiToken, Scope
from shebao.core import rows
from shebao.core.errors import ApplicationError, NotFound, PermissionDenied
from shebao.core.text import check_reason, one_line
from shebao.employers.models import Employer

PREFIX = "sb_"
# last_used_at is written at most this often per token (not on every request).
TOUCH_EVERY = dt.timedelta(seconds=60)
NAME_MAX = 60


@dataclass
class Created:
    token: ApiToken
    secret: str  # the whole token, shown once


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "replace")).hexdigest()


def is_admin(user, employer) -> bool:
    """The employer's administrator (单位管理员) manages its tokens."""
    return Membership.objects.filter(user=user, employer=employer, active=True, is_admin=True).exists()


def _require_admin(user, employer) -> None:
    if not is_admin(user, employer):
        raise PermissionDenied(_("只有单位管理员可以管理接口令牌。"), code="NOT_ADMIN")


def token_create(*, employer, actor, name: str, scope: str) -> Created:
    _require_admin(actor, employer)
    name = one_line(check_reason(name or "", label=_("名称"))).strip()
    if not name:
        raise ApplicationError(_("请填写令牌名称，例如所用的人事系统。"), code="TOKEN_NAME")
    if len(name) > NAME_MAX:
        raise ApplicationError(_("令牌名称最多 %(max)d 个字，请缩短后重试。") % {"max": NAME_MAX}, code="TOKEN_NAME")
    if scope not in Scope.values:
        raise ApplicationError(_("请选择令牌权限：只读或读写。"), code="TOKEN_SCOPE")
    prefix = secrets.token_hex(4)
    raw = f"{PREFIX}{prefix}_{base64.b32encode(secrets.token_bytes(25)).decode().lower()}"
    token = ApiToken.objects.create(
        employer=employer, name=name, scope=scope, prefix=f"{PREFIX}{prefix}", digest=digest(raw), created_by=actor
    )
    return Created(token, raw)


def token_of(employer, token_id: int, *, lock: bool = False) -> ApiToken:
    """The employer's token (locked for a change, inside the caller's database transaction);
    another employer's does not exist."""
    query = ApiToken.objects.select_for_update() if lock else ApiToken.objects.all()
    token = query.filter(pk=token_id, employer=employer).first()
    if token is None:
        raise NotFound(_("未找到该令牌。"), code="NOT_FOUND")
    return token


def token_revoke(*, employer, actor, token_id: int) -> ApiToken:
    """吊销: the token stops working at once; its history (calls, deliveries) stays."""
    _require_admin(actor, employer)
    with transaction.atomic():
        token = token_of(employer, token_id, lock=True)
        if token.revoked_at is None:
            token.revoked_at, token.revoked_by = timezone.now(), actor
            token.save(update_fields=["revoked_at", "revoked_by"])
    return token


def authenticate(raw: str) -> ApiToken | None:
    """The active token of this secret, with its employer and creator (None: unknown, revoked,
    of an employer no longer active, or of an administrator who left it). Records when it was
    last used, once a minute at most. One hand-written query (shebao.core.rows): it runs on
    every request."""
    if not raw.startswith(PREFIX) or len(raw) > 100:
        return None
    user_model = get_user_model()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {rows.select_list(ApiToken, 't')}, {rows.select_list(Employer, 'e')}, "
            f"{rows.select_list(user_model, 'u')} "
            f"FROM {rows.table(ApiToken)} t JOIN {rows.table(Employer)} e ON e.id = t.employer_id "
            f"JOIN {rows.table(user_model)} u ON u.id = t.created_by_id "
            f"JOIN {rows.table(Membership)} m ON m.user_id = u.id AND m.employer_id = e.id "
            "WHERE t.digest = %s AND t.revoked_at IS NULL AND e.active AND u.is_active AND m.active",
            [digest(raw)],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    token, end = rows.instance(ApiToken, row)
    token.employer, end = rows.instance(Employer, row, end)
    token.created_by, _end = rows.instance(user_model, row, end)
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def webhook_secret() -> str:
    """A Standard Webhooks signing secret: whsec_ and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
