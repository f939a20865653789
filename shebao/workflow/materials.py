"""The materials of a transaction: what its checklist names, what must be attached before
提交审批 and what is attached (不见面审批). Read-only; the writes are in services.

A material is kept as its Chinese source text: a msgid the business type declares
(`BusinessType.materials`, `BusinessType.required_materials`), a line of an office's checklist
typed in 系统管理, or OTHER. It is shown through gettext, so a declared one reads in the
reader's language and a typed one as typed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from shebao.core import clock
from shebao.core.errors import log_reference
from shebao.employers.models import MaterialsChecklist
from shebao.params.services import ParamSnapshot
from shebao.workflow import registry
from shebao.workflow.models import Attachment, Item, ItemStatus, Transaction

OTHER = gettext_noop("其他材料")
CHUNK = 2000

log = logging.getLogger(__name__)


def attached(tx: Transaction) -> QuerySet[Attachment]:
    """The transaction's attachments that were not removed, oldest first, without their bytes."""
    return (
        Attachment.objects.filter(transaction_id=tx.pk, removed_at__isnull=True)
        .defer("data", "preview")
        .select_related("uploaded_by")
        .order_by("uploaded_at", "id")
    )


def checklist(tx: Transaction, business: registry.BusinessType) -> list[str]:
    """What an ordinary employer brings (source texts): the office's checklist, the one for
    every office, or the one the business type declares."""
    stored = (
        MaterialsChecklist.objects.filter(office_id=tx.employer.office_id, business_type=tx.business_type).first()
        or MaterialsChecklist.objects.filter(office__isnull=True, business_type=tx.business_type).first()
    )
    return stored.item_list() if stored is not None else list(business.materials)


def required(tx: Transaction, business: registry.BusinessType) -> list[str]:
    """The materials the business type requires when the transaction goes to a clerk, asked
    a chunk of its rows at a time (a batch's answers joined). A type that does not declare
    the hook requires none, and its rows are not read. A hook that raises requires nothing
    more (its traceback is logged): the clerk still sees what was attached."""
    if type(business).required_materials is registry.BusinessType.required_materials:
        return []
    out: list[str] = []
    try:
        for chunk in _chunks(tx, business.materials_rows):
            out += [m for m in business.required_materials(tx, chunk) if m not in out]
    except Exception:
        log_reference(log, "required_materials of %s raised for transaction %s", business.code, tx.pk)
    return out


def offered(tx: Transaction, business: registry.BusinessType, needed: list[str] | None = None) -> list[str]:
    """The choices of 材料名称 on the upload form: the checklist, the required ones (`needed`,
    when already asked), 其他材料."""
    out: list[str] = []
    for material in [*checklist(tx, business), *(required(tx, business) if needed is None else needed), OTHER]:
        if material not in out:
            out.append(material)
    return out


def needs_clerk(tx: Transaction, business: registry.BusinessType) -> bool:
    """Whether the transaction will wait for a clerk once audited: an ordinary employer's of a
    type reviewed for ordinary employers, or one the type gives review reasons for (asked of
    its rows before the audit, as the audit asks of the rows that pass)."""
    if not tx.employer.is_vip and business.review_for_ordinary:
        return True
    ctx = registry.AuditContext(params=ParamSnapshot.load(), today=clock.today())
    try:
        return any(business.review_reasons(tx, chunk, ctx) for chunk in _chunks(tx))
    except Exception:
        log_reference(log, "review_reasons of %s raised before the audit of transaction %s", business.code, tx.pk)
        return False


def missing(tx: Transaction, business: registry.BusinessType, needed: list[str] | None = None) -> list[str]:
    """The required materials not attached yet, when the transaction will need a clerk
    (what 提交审批 refuses for); [] otherwise. `needed`: `required`'s answer, when already asked."""
    needed = required(tx, business) if needed is None else needed
    if not needed:
        return []
    have = set(attached(tx).values_list("material", flat=True))
    lacking = [m for m in needed if m not in have]
    return lacking if lacking and needs_clerk(tx, business) else []


def _chunks(tx: Transaction, only: Q | None = None) -> Iterator[list[Item]]:
    rows = Item.objects.filter(transaction_id=tx.pk, status=ItemStatus.IMPORTED).defer("photo", "raw")
    if only is not None:
        rows = rows.filter(only)
    last = 0
    while True:
        chunk = list(rows.filter(id__gt=last).order_by("id")[:CHUNK])
        if chunk:
            yield chunk
        if len(chunk) < CHUNK:
            return
        last = chunk[-1].id


def page_context(tx: Transaction, business: registry.BusinessType) -> dict:
    """What the pages' attachment section (web/_attachments.html, on a single transaction's
    page and a batch's) shows: the attached scans, the upload form's 材料名称 and the
    required materials still missing (what 提交审批 would refuse for)."""
    attached_now = list(attached(tx))
    editable = tx.is_editable
    needed = required(tx, business) if editable else []
    lacking = missing(tx, business, needed) if editable else []
    return {
        "attachments": attached_now,
        "attachments_editable": editable,
        "material_choices": [(m, _(m)) for m in offered(tx, business, needed)] if editable else [],
        "materials_missing": [_(m) for m in lacking],
        "material_selected": lacking[0] if lacking else "",  # the form starts at what is still needed
        "attachment_max_mb": settings.SHEBAO_ATTACHMENT_MAX_BYTES // (1024 * 1024),
        "attachment_max_count": settings.SHEBAO_ATTACHMENT_MAX_COUNT,
        "attachment_max_pages": settings.SHEBAO_ATTACHMENT_MAX_PAGES,
    }
