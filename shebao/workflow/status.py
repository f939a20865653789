"""What the polling result screens read while a transaction is imported or audited."""

from __future__ import annotations

from shebao.workflow.models import Item, ItemStatus, Mode, State, Transaction
from shebao.workflow.rules import split


def counts(tx: Transaction) -> dict:
    return {
        "total": tx.total_count,
        "imported": tx.total_count - tx.import_failed_count,
        "import_failed": tx.import_failed_count,
        "passed": tx.audit_passed_count,
        "failed": tx.audit_failed_count,
        "applied": tx.applied_count,
    }


def is_final(tx: Transaction) -> bool:
    """Whether a poll may stop: neither its import nor its audit is running (a job given up
    counts as ended)."""
    return tx.state not in (State.AUDITING, State.IMPORTING) or tx.job_failed_at is not None


def status_payload(tx: Transaction) -> dict:
    errors = split(tx.return_reasons)[0]
    final = is_final(tx)
    warnings = []
    if final and tx.mode == Mode.SINGLE:
        # A single person's warnings (e.g. 按下限核定): shown under 提示, never as 回退原因.
        item = Item.objects.filter(transaction_id=tx.pk, status=ItemStatus.IMPORTED).only("audit_issues").first()
        warnings = split(item.audit_issues)[1] if item else []
    return {
        "state": tx.state,
        "version": tx.version,
        "business_status": tx.business_status_label,
        "approval": tx.approval_label,
        "returned": tx.returned_flag_label,
        # 回退原因: the errors of the current return; warnings (adjustments) apart.
        "reasons": [r.message for r in errors],
        "reason_codes": [r.code for r in errors],
        "warnings": [w.message for w in warnings],
        "progress_done": tx.progress_done,
        "progress_total": tx.progress_total,
        "counts": counts(tx),
        "final": final,
    }
