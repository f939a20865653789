"""Business types plug into the engine here. The engine knows no business type by name."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from shebao.core.errors import log_reference
from shebao.workflow.fields import FieldSpec, RowResult, normalise_row
from shebao.workflow.rules import Issue

if TYPE_CHECKING:
    from shebao.params.services import ParamSnapshot
    from shebao.workflow.models import Item, Transaction


@dataclass
class AuditContext:
    """What rules get handed in, prefetched, so one rule serves one row or a hundred thousand."""

    params: ParamSnapshot
    today: object
    extra: dict = field(default_factory=dict)


class BusinessType:
    code: str = ""
    zh: str = ""
    en: str = ""
    fields: list[FieldSpec] = []
    single: bool = True
    batch: bool = False
    # Ordinary employers bring materials and a clerk reviews (DOMAIN §2).
    review_for_ordinary: bool = False
    # Enrolment and suspension take the person lock; declarations take a per-year key.
    takes_person_lock: bool = False
    # Acceptance window applies at the first submit.
    windowed: bool = False

    @property
    def label(self) -> dict:
        return {"zh": self.zh, "en": self.en}

    def check_row(self, raw: dict, params: ParamSnapshot, employer: object = None) -> RowResult:
        """Row-level rules: formats, checksums, ages. Runs while typing, at save and import."""
        return normalise_row(self.fields, raw)

    def audit(self, tx: Transaction, items: list[Item], ctx: AuditContext) -> dict[int, list[Issue]]:
        """Register rules for many rows at once. Returns issues per item id."""
        return {item.pk: [] for item in items}

    def review_reasons(self, tx: Transaction, items: list[Item], ctx: AuditContext) -> list[str]:
        """Why a clerk must look even at a VIP employer's transaction (empty: no need)."""
        return []

    def apply(self, tx: Transaction, items: list[Item], ctx: AuditContext) -> None:
        """Change the register. Runs inside the finishing database transaction."""
        raise NotImplementedError

    def declaration_key(self, tx: Transaction, data: dict) -> str | None:
        return None

    def summary(self, data: dict) -> str:
        return ""


log = logging.getLogger(__name__)


def check_row_safely(
    business: BusinessType,
    raw: dict,
    params: ParamSnapshot,
    employer: object = None,
    *,
    prepare: Callable[[dict], dict] | None = None,
    where: str = "",
) -> RowResult:
    """`business.check_row`, total: a rule that raises on a row makes that row fail with
    ROW_INTERNAL_ERROR and the reference of the logged traceback, instead of taking the
    form, the import or the audit it runs in down with it. `prepare` turns the cells into
    what check_row reads (an import's cooking of a spreadsheet's cells), inside the guard."""
    try:
        return business.check_row(prepare(raw) if prepare else raw, params, employer)
    except Exception:
        ref = log_reference(log, "%s: the row check of %s raised", where or "row check", business.code)
        return internal_error_row(raw, ref)


def internal_error_row(raw: dict, ref: str) -> RowResult:
    """A row whose check raised: its cells as text (for the lists that show it) and one issue."""
    result = RowResult(data={str(name): _text(value) for name, value in raw.items()})
    result.issues.append(Issue("ROW_INTERNAL_ERROR", "", {"ref": ref}))
    return result


def _text(value: object) -> str:
    try:
        return "" if value is None else str(value).replace("\x00", "")[:1000]
    except Exception:  # str() itself can refuse (an int of more than 4,300 digits)
        return ""


_REGISTRY: dict[str, BusinessType] = {}


def register(business: type[BusinessType]) -> type[BusinessType]:
    instance = business()
    _REGISTRY[instance.code] = instance
    return business


def get(code: str) -> BusinessType:
    return _REGISTRY[code]


def all_types() -> list[BusinessType]:
    return list(_REGISTRY.values())


def choices() -> list[tuple[str, str]]:
    from django.utils.translation import get_language

    en = (get_language() or "").startswith("en")
    return [(b.code, b.en if en else b.zh) for b in _REGISTRY.values()]
