"""What the polling result screens read while a transaction is imported or audited."""

from __future__ import annotations

from shebao.workflow.models import State, Transaction
from shebao.workflow.rules import messages


def counts(tx: Transaction) -> dict:
    return {
        "total": tx.total_count,
        "imported": tx.total_count - tx.import_failed_count,
        "import_failed": tx.import_failed_count,
        "passed": tx.audit_passed_count,
        "failed": tx.audit_failed_count,
        "applied": tx.applied_count,
    }


def status_payload(tx: Transaction) -> dict:
    return {
        "state": tx.state,
        "version": tx.version,
        "business_status": tx.business_status_label,
        "approval": tx.approval_label,
        "returned": tx.returned_flag_label,
        "reasons": messages(tx.return_reasons),
        "progress_done": tx.progress_done,
        "progress_total": tx.progress_total,
        "counts": counts(tx),
        "final": tx.state not in (State.AUDITING, State.IMPORTING) or tx.job_failed_at is not None,
    }
