"""Entry points for the background worker (long queue). Thin: the logic is in services."""

from shebao.batch import services


def import_job(tx_id: int) -> str:
    return services.run_import_job(tx_id)


def sweep_stuck_imports_job() -> int:
    return services.sweep_stuck_imports()
