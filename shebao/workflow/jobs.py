"""Entry points for the background worker. Thin: the logic is in services."""

from shebao.workflow import services


def audit_job(tx_id: int) -> str:
    return services.run_audit_job(tx_id)


def expire_drafts_job() -> int:
    return services.expire_drafts()


def sweep_stuck_audits_job() -> int:
    return services.sweep_stuck_audits()


def warn_expiring_drafts_job() -> int:
    return services.warn_expiring_drafts()
