"""Entry points for the background worker. Thin: the logic is in assessment."""

from __future__ import annotations

import datetime as dt

from shebao.core import clock
from shebao.register import assessment


def assess_due_months_job() -> list[str]:
    """The scheduled 月度缴费核定: every month due through the current one (catching up)."""
    return [f"{run.month:%Y-%m} {run.state}" for run in assessment.assess_due_months(clock.current_month())]


def assess_month_job(month: str, again: bool = False) -> str:
    """The administrator's button: one month (YYYY-MM-01), again if asked."""
    run = assessment.assess_month(dt.date.fromisoformat(month), again=again)
    return f"{run.month:%Y-%m} {run.state}"


def rebase_job(rebase_id: int) -> str:
    """A publication of limits: the year's bases of the type re-clamped and adjusted."""
    from shebao.register import rebase

    done = rebase.run_limits_rebase(rebase_id)
    return f"rebase {done.pk} {done.state}: {done.bases_changed} bases, {done.lines_written} adjustments"
