"""A worker killed mid-audit loses nothing and applies nothing twice (real worker processes)."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection, connections

from shebao.core.identity import id_key
from shebao.register.models import ContributionBase, Relation
from shebao.workflow import services
from shebao.workflow.models import Item, Mode, State, Transaction
from tests.factories import (
    EmployerFactory,
    ItemFactory,
    OperatorFactory,
    TransactionFactory,
    make_resident_id,
    seed_params,
)
from tests.workflow.helpers import enrol_raw

# Real worker processes read the real clock: the test's own clock is left alone to match.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True), pytest.mark.real_clock]

ROOT = Path(__file__).resolve().parents[2]


def _batch(rows: int) -> Transaction:
    """A saved VIP batch of valid enrolments (built directly: the import is tested elsewhere)."""
    seed_params()
    employer = EmployerFactory(is_vip=True)
    user = OperatorFactory(employer=employer)
    tx = TransactionFactory(
        employer=employer, business_type="enrol", mode=Mode.BATCH, operator=user, state=State.SAVED, total_count=rows
    )
    from shebao.params.services import ParamSnapshot
    from shebao.workflow import registry

    enrol, params = registry.get("enrol"), ParamSnapshot.load()
    items = []
    for n in range(rows):
        number = make_resident_id(dt.date(1978 + n % 18, 1 + n % 12, 1 + n % 28))
        data = enrol.check_row(enrol_raw(number, name="张三"), params).data
        items.append(
            ItemFactory.build(
                transaction=tx, row_no=n + 1, id_key=id_key("01", number), id_number=number, name="张三", data=data
            )
        )
    Item.objects.bulk_create(items, batch_size=2000)
    return tx


def _database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _worker(chunk: int) -> subprocess.Popen:
    env = dict(
        os.environ,
        DATABASE_URL=_database_url(),
        Q_CLUSTER_NAME="long",
        SHEBAO_AUDIT_CHUNK=str(chunk),
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_worker_killed_mid_batch_audit_completes_after_restart(settings):
    rows = 1500
    tx = _batch(rows)
    services.transaction_submit(tx=tx, actor=tx.operator, version=tx.version)
    worker = _worker(chunk=50)
    try:
        progressed = _wait(lambda: Transaction.objects.get(pk=tx.pk).progress_done >= 100, 60)
        assert progressed, "the worker never started the audit"
        os.killpg(worker.pid, signal.SIGKILL)  # kill -9, mid-job
        worker.wait(10)
        killed_at = Transaction.objects.get(pk=tx.pk)
        assert killed_at.state == State.AUDITING and killed_at.progress_done < rows
        # The sweeper finds the audit whose heartbeat stopped and queues it again.
        settings.SHEBAO_AUDIT_STUCK_SECONDS = 0
        assert services.sweep_stuck_audits() == 1
        worker = _worker(chunk=500)
        assert _wait(lambda: Transaction.objects.get(pk=tx.pk).state == State.FINISHED, 120)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(20)
    tx.refresh_from_db()
    assert tx.applied_count == rows and tx.audit_passed_count == rows
    assert Relation.objects.filter(employer=tx.employer).count() == rows * 5
    assert ContributionBase.objects.filter(employer=tx.employer).count() == rows * 5  # one per type


def _run_audit(tx_id: int, barrier, results) -> None:
    connections.close_all()
    barrier.wait()
    results.put(services.run_audit(tx_id))
    connections.close_all()


def test_two_workers_on_one_batch_never_apply_a_row_twice():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    rows = 600
    tx = _batch(rows)
    services.transaction_submit(tx=tx, actor=tx.operator, version=tx.version)
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    connections.close_all()
    procs = [ctx.Process(target=_run_audit, args=(tx.pk, barrier, results)) for _ in range(2)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
        assert proc.exitcode == 0
    outcomes = sorted(results.get(timeout=5) for _ in range(2))
    assert outcomes == ["finished", "skipped"]
    tx.refresh_from_db()
    assert tx.state == State.FINISHED and tx.applied_count == rows
    assert Relation.objects.filter(employer=tx.employer).count() == rows * 5
