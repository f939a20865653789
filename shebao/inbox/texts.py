"""What a message says, rendered when it is read, in the reader's language (like rule messages:
the outbox row stores codes, counts and msgids, never a sentence)."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from shebao.workflow import outbox, registry, rules
from shebao.workflow.models import Mode

TITLES = {
    outbox.FINISHED: gettext_noop("业务已办结"),
    outbox.APPROVED: gettext_noop("经办机构审核通过"),
    outbox.CLERK_RETURNED: gettext_noop("经办机构已回退"),
    outbox.RETURNED: gettext_noop("自动审核未通过，业务已回退"),
    outbox.TO_REVIEW: gettext_noop("自动审核结束，已转经办机构审核"),
    outbox.IMPORTED: gettext_noop("批量导入完成"),
    outbox.IMPORT_FAILED: gettext_noop("批量导入失败"),
    outbox.IMPORT_REFUSED: gettext_noop("导入的文件无法读取，已退单"),
    outbox.EXPIRED: gettext_noop("未提交的业务已超期自动退单"),
    outbox.AGENCY_CANCELLED: gettext_noop("经办机构已退单"),
    outbox.EXPIRY_WARNING: gettext_noop("未提交的业务即将超期退单"),
}
CLERK_TITLES = {outbox.TO_REVIEW: gettext_noop("新的待审核业务")}


def _count(value) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def title(message) -> str:
    titles = CLERK_TITLES if message.audience == "clerk" and message.kind in CLERK_TITLES else TITLES
    return _(titles.get(message.kind, message.kind))


def subject(message) -> str:
    """Which transaction: 业务类型 and 流水号 (and the employer, for a clerk)."""
    payload = message.outbox.payload
    business = registry.label_of(payload.get("business_type", ""))
    text = _("%(business)s 流水号 %(serial)s") % {"business": business, "serial": payload.get("serial", "")}
    if message.audience == "clerk":
        text = f"{message.employer.name} · {text}"
    return text


def body(message) -> list[str]:
    """The lines under the title: counts, reasons, the expiry date."""
    payload = message.outbox.payload
    kind = message.kind
    lines: list[str] = []
    batch = payload.get("mode") == Mode.BATCH
    if kind in (outbox.FINISHED, outbox.APPROVED) and "applied" in payload:
        applied, failed = _count(payload.get("applied")), _count(payload.get("failed"))
        if batch or failed:
            lines.append(_("生效 %(a)s 人，审核失败 %(f)s 人") % {"a": applied, "f": failed})
    elif kind == outbox.TO_REVIEW and batch and "passed" in payload:
        lines.append(
            _("审核通过 %(p)s 人，审核失败 %(f)s 人")
            % {"p": _count(payload.get("passed")), "f": _count(payload.get("failed"))}
        )
    elif kind == outbox.IMPORTED:
        total, failed = _count(payload.get("total")), _count(payload.get("import_failed"))
        lines.append(_("共导入 %(t)s 人，导入失败 %(f)s 人，请核对后提交审批。") % {"t": total, "f": failed})
    elif kind == outbox.EXPIRY_WARNING and payload.get("expires_on"):
        day = dt.date.fromisoformat(payload["expires_on"])
        lines.append(_("该业务将于 %(date)s 自动退单，请及时提交审批或修改。") % {"date": day.strftime("%Y-%m-%d")})
    if kind in (
        outbox.CLERK_RETURNED,
        outbox.RETURNED,
        outbox.IMPORT_FAILED,
        outbox.IMPORT_REFUSED,
        outbox.EXPIRED,
        outbox.AGENCY_CANCELLED,
    ):
        reasons = rules.messages(payload.get("reasons") or [])
        if reasons:
            lines.append(_("原因：%(reasons)s") % {"reasons": _("；").join(reasons)})
        elif payload.get("reason"):
            lines.append(_("原因：%(reasons)s") % {"reasons": payload["reason"]})
    return lines
