"""Entry points for the background worker, on the outbox cluster (settings.Q_OUTBOX). Thin:
the logic is in webhooks, limits and idempotency."""

from __future__ import annotations

from shebao.api import idempotency, limits, webhooks


def webhook_job(outbox_id: int) -> int:
    """Queued by the engine with an outbox row a webhook tells of (workflow/outbox.py)."""
    return webhooks.fan_out(outbox_id)


def send_job(delivery_id: int) -> str:
    """One attempt of one delivery (重新发送 queues it)."""
    return webhooks.send(delivery_id)


def deliver_due_job() -> int:
    """Every minute (schedule deliver-webhooks): retries due, fan-outs that were lost."""
    return webhooks.deliver_due()


def prune_job() -> int:
    """Daily (schedule prune-api-records): rate and quota counters past their window,
    idempotency keys past their time, and webhook deliveries ended long ago."""
    return limits.prune() + idempotency.prune() + webhooks.prune()
