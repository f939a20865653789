"""Entry points for the background worker (outbox cluster). Thin: the logic is in services."""

from shebao.inbox import services


def deliver_job(outbox_id: int) -> int:
    """Queued with the outbox row, in the commit that wrote it."""
    return services.deliver(outbox_id)


def deliver_pending_job() -> int:
    """Every minute: rows whose queued delivery has not run."""
    return services.deliver_pending()
