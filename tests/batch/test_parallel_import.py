"""A big file's import shared by several processes (PostgreSQL): the same rows, issues and
locks as one process gives, every row exactly once, and a failed helper loses nothing."""

from __future__ import annotations

import datetime as dt
import os
import threading
from pathlib import Path

import pytest
from django.db import connection

from shebao.batch import services
from shebao.batch.jobs import import_job
from shebao.batch.models import Upload
from shebao.workflow.models import Item, ItemStatus, PersonLock, State, Transaction
from tests.batch.conftest import BIRTH, create_batch, enrol_row, xlsx_bytes
from tests.factories import make_resident_id

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROWS = 23  # chunks of 3: eight chunks, shared by two processes


@pytest.fixture
def two_processes(settings, monkeypatch, tmp_path):
    """Two import processes, chunks of 3 rows; every chunk notes the process that imported it."""
    settings.SHEBAO_IMPORT_PROCESSES = 2
    monkeypatch.setattr(services, "IMPORT_CHUNK", 3)
    real = services._import_chunk
    log = tmp_path / "chunks.log"

    def noted(job, chunk, holders):
        done = real(job, chunk, holders)
        with open(log, "a") as out:
            out.write(f"{os.getpid()} {chunk[0][0]}\n")
        return done

    monkeypatch.setattr(services, "_import_chunk", noted)
    return log


def _processes(log: Path) -> set[str]:
    return {line.split()[0] for line in log.read_text().splitlines()}


def _file(vip_employer, user, locked_here: str) -> tuple[bytes, str]:
    """ROWS rows: one person on rows 2 and 20 (different chunks, different processes), one
    held by another open batch of this employer, one with a bad check digit."""
    twice = make_resident_id(BIRTH)
    ids = [make_resident_id(BIRTH) for _ in range(ROWS)]
    ids[0] = ids[18] = twice
    ids[9] = locked_here
    ids[12] = ids[12][:17] + ("0" if ids[12][17] != "0" else "1")
    rows = [enrol_row(i) for i in ids]
    return xlsx_bytes(rows), twice


def test_two_processes_import_every_row_once_with_the_same_checks(params, vip_employer, two_processes):
    from tests.factories import OperatorFactory

    user = OperatorFactory(employer=vip_employer)
    held = make_resident_id(BIRTH)
    holder = create_batch(vip_employer, user, xlsx_bytes([enrol_row(held)]))
    data, twice = _file(vip_employer, user, held)
    tx = services.batch_upload(employer=vip_employer, actor=user, business_type="enrol", filename="a.xlsx", data=data)

    assert import_job(tx.pk) == "saved"

    assert len(_processes(two_processes)) == 2  # this process (and the holder's import) and one helper
    tx.refresh_from_db()
    assert tx.state == State.SAVED
    assert (tx.total_count, tx.import_failed_count, tx.progress_done) == (ROWS, 4, ROWS)
    items = {i.row_no: i for i in Item.objects.filter(transaction=tx)}
    assert sorted(items) == list(range(2, ROWS + 2))
    codes = {row: [c["code"] for c in item.import_issues] for row, item in items.items() if item.import_issues}
    assert codes == {2: ["DUPLICATE_IN_FILE"], 20: ["DUPLICATE_IN_FILE"], 11: ["LOCKED_HERE"], 14: ["ID_CHECKSUM"]}
    assert items[2].import_issues[0]["params"]["rows"] == "20"
    assert items[11].import_issues[0]["params"]["serial"] == holder.serial
    # The holder found by whichever process imported row 11 is kept for the import screen.
    assert Upload.objects.get(transaction=tx).lock_holders == {holder.serial: holder.pk}
    assert {i.status for row, i in items.items() if row not in codes} == {ItemStatus.IMPORTED}
    # One lock per person with a valid ID: not the held one, not the bad check digit, the
    # person on two rows once.
    assert PersonLock.objects.filter(transaction=tx).count() == ROWS - 3
    assert PersonLock.objects.get(id_key=f"01:{twice}").item.row_no in (2, 20)


def test_a_failed_helper_fails_the_job_and_the_next_delivery_imports_the_rest(
    params, vip_employer, two_processes, tmp_path, monkeypatch
):
    from tests.factories import OperatorFactory

    user = OperatorFactory(employer=vip_employer)
    data = xlsx_bytes([enrol_row(make_resident_id(BIRTH)) for _ in range(ROWS)])
    tx = services.batch_upload(employer=vip_employer, actor=user, business_type="enrol", filename="a.xlsx", data=data)
    worker = os.getpid()
    fail_flag = tmp_path / "fail"
    fail_flag.touch()
    counting = services._import_chunk

    def helper_fails(job, chunk, holders):
        if os.getpid() != worker and fail_flag.exists():
            raise OSError("connection lost")
        return counting(job, chunk, holders)

    monkeypatch.setattr(services, "_import_chunk", helper_fails)
    with pytest.raises(RuntimeError, match="import helper"):
        import_job(tx.pk)
    tx.refresh_from_db()
    committed = Item.objects.filter(transaction=tx).count()
    assert tx.state == State.IMPORTING and 0 < committed < ROWS  # this process's chunks only
    assert tx.progress_done == committed

    fail_flag.unlink()
    assert import_job(tx.pk) == "saved"
    tx.refresh_from_db()
    rows = list(Item.objects.filter(transaction=tx).order_by("row_no").values_list("row_no", flat=True))
    assert rows == list(range(2, ROWS + 2))
    assert (tx.total_count, tx.import_failed_count, tx.progress_done) == (ROWS, 0, ROWS)
    assert PersonLock.objects.filter(transaction=tx).count() == ROWS


def test_without_a_helper_process_the_worker_imports_every_chunk_itself(
    params, vip_employer, two_processes, monkeypatch
):
    from tests.factories import OperatorFactory

    user = OperatorFactory(employer=vip_employer)
    data = xlsx_bytes([enrol_row(make_resident_id(BIRTH)) for _ in range(ROWS)])
    tx = services.batch_upload(employer=vip_employer, actor=user, business_type="enrol", filename="a.xlsx", data=data)

    def no_process():
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(services.os, "fork", no_process)
    assert import_job(tx.pk) == "saved"
    assert len(_processes(two_processes)) == 1
    tx.refresh_from_db()
    rows = list(Item.objects.filter(transaction=tx).order_by("row_no").values_list("row_no", flat=True))
    assert rows == list(range(2, ROWS + 2))
    assert (tx.total_count, tx.progress_done) == (ROWS, ROWS)


def test_a_second_delivery_beside_a_live_one_imports_no_row_twice(params, vip_employer, two_processes):
    from tests.factories import OperatorFactory

    user = OperatorFactory(employer=vip_employer)
    data = xlsx_bytes([enrol_row(make_resident_id(BIRTH)) for _ in range(ROWS)])
    tx = services.batch_upload(employer=vip_employer, actor=user, business_type="enrol", filename="a.xlsx", data=data)
    barrier = threading.Barrier(2)
    outcomes, errors = [], []

    def deliver():
        try:
            barrier.wait()
            outcomes.append(import_job(tx.pk))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert "saved" in outcomes
    tx = Transaction.objects.get(pk=tx.pk)
    rows = list(Item.objects.filter(transaction=tx).order_by("row_no").values_list("row_no", flat=True))
    assert rows == list(range(2, ROWS + 2))
    assert (tx.state, tx.total_count, tx.progress_done) == (State.SAVED, ROWS, ROWS)


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parent = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            tree.setdefault(parent, []).append(int(entry))
    return tree


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


@pytest.mark.real_clock  # a real worker process reads the real clock
def test_a_killed_worker_takes_its_helper_with_it_and_the_next_delivery_imports_the_rest(params, vip_employer):
    """kill -9 of a real worker while it and its helper import: the helper dies too (no writer
    left behind), and the redelivered job imports every row exactly once."""
    import signal
    import subprocess
    import sys
    import time

    from tests.batch.conftest import csv_bytes
    from tests.factories import OperatorFactory

    user = OperatorFactory(employer=vip_employer)
    rows = 4 * services.IMPORT_CHUNK  # four chunks: two for the worker, two for its helper
    births = [dt.date(1985, 1, 1) + dt.timedelta(days=i // 400) for i in range(rows)]  # 500 numbers a day
    data = csv_bytes([enrol_row(make_resident_id(births[i], serial=i % 400)) for i in range(rows)])
    tx = services.batch_upload(employer=vip_employer, actor=user, business_type="enrol", filename="a.csv", data=data)
    s = connection.settings_dict
    url = f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    env = dict(
        os.environ,
        DATABASE_URL=url,
        Q_CLUSTER_NAME="long",
        SHEBAO_IMPORT_PROCESSES="2",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    root = Path(__file__).resolve().parents[2]
    cluster = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=root,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # main → sentinel → worker → helper: the helper is the one four levels down.
        worker = helper = None
        deadline = time.monotonic() + 60
        while helper is None and time.monotonic() < deadline:
            tree = _children()
            for sentinel in tree.get(cluster.pid, []):
                for candidate in tree.get(sentinel, []):
                    below = tree.get(candidate, [])
                    if below:
                        worker, helper = candidate, below[0]
            time.sleep(0.01)
        assert helper is not None, "the worker never forked an import helper"
        # Stopped, the helper cannot finish on its own: only the kernel's kill can end it.
        os.kill(helper, signal.SIGSTOP)
        os.kill(worker, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while _alive(helper) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(helper), "the helper outlived its worker"
    finally:
        os.killpg(cluster.pid, signal.SIGKILL)
        cluster.wait(20)
        if helper is not None and _alive(helper):
            os.kill(helper, signal.SIGKILL)
    tx.refresh_from_db()
    assert tx.state == State.IMPORTING and Item.objects.filter(transaction=tx).count() < rows
    assert import_job(tx.pk) == "saved"  # the broker's redelivery
    tx.refresh_from_db()
    numbers = list(Item.objects.filter(transaction=tx).order_by("row_no").values_list("row_no", flat=True))
    assert numbers == list(range(2, rows + 2))
    assert (tx.state, tx.total_count, tx.import_failed_count, tx.progress_done) == (State.SAVED, rows, 0, rows)
    assert PersonLock.objects.filter(transaction=tx).count() == rows
