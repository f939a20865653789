"""Business types plug into the engine here. The engine knows no business type by name."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

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
