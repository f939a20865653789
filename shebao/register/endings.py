"""Ending relations, as 减员 and 退休人员待遇申报 do: the relations take their new status, end
month and reason (a bulk UPDATE, not a CASE per row), and the lines from the end month on
are voided (never deleted), in the caller's database transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from shebao.core import bulk, clock
from shebao.register.models import ContributionLine, Relation

CHUNK = 1000


def end_relations(tx, relations: Iterable[Relation]) -> int:
    """Write relations whose status, end_month and end_reason the caller set, ended by `tx`.
    Returns how many."""
    now = clock.now()
    rows = [(r.pk, r.status, r.end_month, r.end_reason, tx.pk, now) for r in relations]
    return bulk.update_rows(Relation, ["status", "end_month", "end_reason", "ended_by_id", "updated_at"], rows)


def void_lines(tx, employer_id: int, person_ids: list[int], from_month: dt.date, types: Iterable[str] | None = None):
    """Void the persons' lines at the employer from `from_month` on (of `types`, or all)."""
    for start in range(0, len(person_ids), CHUNK):
        lines = ContributionLine.objects.filter(
            person_id__in=person_ids[start : start + CHUNK],
            employer_id=employer_id,
            month__gte=from_month,
            voided_by__isnull=True,
        )
        if types is not None:
            lines = lines.filter(insurance_type__in=list(types))
        lines.update(voided_by=tx)
