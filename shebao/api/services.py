"""What the API and its pages do beyond the engine's and the batch's services: 免费预检 with its
quota and log. The endpoint (POST /api/v1/{business_type}/validate) and the 免费预检 page call
`validate`; everything else the API does is a call of the same service a page calls."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from shebao.api import limits
from shebao.api.models import ApiToken, ValidateCall
from shebao.batch import services as batch
from shebao.core.errors import ApplicationError, in_languages

QUOTA_MESSAGE = gettext_noop("今日预检次数已用完：每个令牌每天最多 %(limit)d 次，请明天再试。")


class QuotaReached(ApplicationError):
    status = 429

    def __init__(self, limit: int, retry_after: int) -> None:
        super().__init__(
            _(QUOTA_MESSAGE) % {"limit": limit},
            code="VALIDATE_QUOTA",
            extra={"retry_after": retry_after},
            messages=in_languages(QUOTA_MESSAGE, {"limit": limit}),
        )


def validate(
    *,
    employer,
    business_type: str,
    header: dict | None = None,
    rows: list | None = None,
    data: bytes | None = None,
    token: ApiToken | None = None,
    user=None,
) -> batch.Checked:
    """免费预检 (batch.check_rows), counted against the token's daily quota and logged: who
    checked how many rows of which type. Saves nothing else and takes no lock."""
    if token is not None:
        try:
            limits.check_validate_quota(token)
        except limits.LimitReached as limit:
            raise QuotaReached(limit.limit, limit.retry_after) from None
    call = ValidateCall(token=token, employer=employer, user=user, business_type=business_type[:40])
    try:
        checked = batch.check_rows(employer=employer, business_type=business_type, header=header, rows=rows, data=data)
    except ApplicationError as refusal:
        call.status = refusal.status
        call.save()
        raise
    call.rows, call.failed_rows = checked.total, checked.failed
    call.save()
    return checked
