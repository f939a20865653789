#!/usr/bin/env python
"""VIP single enrolments submitted open-loop; latency 提交审批 → 结束 from the server's events.

    .venv/bin/python bench/submit_latency.py --db postgres --rate 20 --seconds 60
    .venv/bin/python bench/submit_latency.py --db postgres --rate 20 --seconds 60 --with-batch 10000

Creates its own database, starts the two django-q2 clusters (`short` and `long`) as
subprocesses, then every 1/rate s hands one 保存 + 提交审批 (the services the form calls)
to a thread pool, so a slow one never delays the schedule. Latency is the finishing event's
time (audit_passed / audit_returned / to_review) minus the submit event's time, both
written by the server. Goal (issue 2): p99 < 1 s on PostgreSQL.

--with-batch N uploads an N-row enrolment file through the batch services first (import on
the long queue) and submits it as the open loop starts, so its audit runs alongside
(issue 3: single submissions still finish with p99 < 1 s while a 10,000-row batch is audited).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common.add_db_args(parser)
    parser.add_argument("--rate", type=float, default=20.0, help="submissions per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--threads", type=int, default=16, help="client thread pool size")
    parser.add_argument("--with-batch", type=int, default=0, metavar="N", help="audit an N-row batch alongside")
    parser.add_argument(
        "--short-workers",
        type=int,
        default=0,
        help="Q_WORKERS of the short cluster (default: the settings' Q_WORKERS, 1)",
    )
    parser.add_argument("--long-workers", type=int, default=0, help="Q_WORKERS of the long cluster")
    parser.add_argument(
        "--q-save-limit",
        type=int,
        default=None,
        help="experiment: django-q2 save_limit for the clusters (settings: 500)",
    )
    parser.add_argument("--drain", type=float, default=120.0, help="max seconds to wait for the last audits")
    args = parser.parse_args()

    common.run_on_fresh_db(args, "submit", run)


def run(args, db: common.BenchDB, procs: common.Procs) -> None:
    from django.db import close_old_connections, connection

    from shebao.core.months import current_month
    from shebao.params.services import ParamSnapshot
    from shebao.workflow import services
    from shebao.workflow.models import Event, State, Transaction

    employer, user = common.seed_base(vip=True)
    start_month = current_month().strftime("%Y-%m")
    people = common.People(seed=7)
    total = int(args.rate * args.seconds)
    raws = [people.enrol_raw(start_month) for _ in range(total)]

    if args.q_save_limit is not None:
        db.env.update({"DJANGO_SETTINGS_MODULE": "bench.qsettings", "BENCH_Q_SAVE_LIMIT": str(args.q_save_limit)})
    clusters = common.start_qclusters(procs, db, workers={"short": args.short_workers, "long": args.long_workers})
    common.wait_qclusters_ready(clusters)
    sampler = common.RssSampler({f"q-{k}": p.pid for k, p in clusters.items()}, interval=0.1)
    sampler.start()

    batch_tx = None
    if args.with_batch:
        batch_tx = prepare_batch(args.with_batch, employer, user, db, start_month)

    print(
        f"[bench] open loop: {total} submissions at {args.rate:g}/s for {args.seconds:g} s "
        f"({connection.vendor}, short workers {args.short_workers or 'default'}, load average {common.load_average()})"
        + (f" with a {args.with_batch}-row batch audit" if batch_tx else "")
    )
    client_times: list[float] = []
    errors: list[str] = []
    tx_ids: list[int] = []
    lock = threading.Lock()

    def one(raw: dict) -> None:
        t0 = time.perf_counter()
        try:
            params = ParamSnapshot.load()
            result = services.transaction_save_single(
                employer=employer, actor=user, business_type="enrol", raw=raw, params=params
            )
            if not result.ok:
                raise RuntimeError(f"save refused: {[i.code for i in result.issues]}")
            tx = services.transaction_submit(tx=result.transaction, actor=user, version=result.transaction.version)
            with lock:
                tx_ids.append(tx.pk)
                client_times.append(time.perf_counter() - t0)
        except Exception as error:  # noqa: BLE001 - a bench counts failures, it does not stop
            with lock:
                errors.append(f"{type(error).__name__}: {error}")
        finally:
            close_old_connections()

    t_start = time.perf_counter()
    if batch_tx is not None:
        batch_tx = services.transaction_submit(tx=batch_tx, actor=user, version=batch_tx.version)
        batch_submitted = time.perf_counter()
    _loop, late = common.open_loop(raws, args.rate, args.threads, one)
    t_sent = time.perf_counter() - t_start
    print(
        f"[bench] submitted {len(tx_ids)} in {t_sent:.1f} s (achieved {len(tx_ids) / t_sent:.1f}/s, "
        f"{late} scheduled >50 ms late), {len(errors)} client errors"
    )
    for message in sorted(set(errors))[:5]:
        print(f"        {message}")

    # Drain: wait for every submitted transaction to leave 自动审核中.
    deadline = time.time() + args.drain
    while time.time() < deadline:
        if not Transaction.objects.filter(pk__in=tx_ids, state=State.AUDITING).exists():
            break
        time.sleep(0.25)
    batch_info = None
    if batch_tx is not None:
        while time.time() < deadline + 600:
            batch_tx.refresh_from_db()
            if batch_tx.state != State.AUDITING:
                break
            time.sleep(0.25)
        ev = Event.objects.filter(transaction=batch_tx, action__in=common.FINISH_ACTIONS).order_by("at").first()
        sub = Event.objects.filter(transaction=batch_tx, action="submit").order_by("-at").first()
        batch_info = (
            batch_tx.state,
            (ev.at - sub.at).total_seconds() if ev and sub else None,
            time.perf_counter() - batch_submitted,
        )
    sampler.stop()

    # Latency from the server's own event timestamps.
    submits, finishes = common.submit_and_finish_events(tx_ids)
    latencies = [(finishes[t][0] - submits[t]).total_seconds() for t in tx_ids if t in finishes and t in submits]
    outcome: dict[str, int] = {}
    for _at, action in finishes.values():
        outcome[action] = outcome.get(action, 0) + 1
    unfinished = len(tx_ids) - len(latencies)

    print(f"\n== submit → finish (server events), {connection.vendor}, rate {args.rate:g}/s, {args.seconds:g} s ==")
    print(f"  finished {len(latencies)} / {len(tx_ids)}   unfinished {unfinished}   outcomes {outcome}")
    if latencies:
        for label, p in (("p50", 50), ("p95", 95), ("p99", 99)):
            print(f"  {label:4s} {common.fmt_ms(common.percentile(latencies, p))}")
        print(f"  max  {common.fmt_ms(max(latencies))}")
        print(f"  mean {common.fmt_ms(sum(latencies) / len(latencies))}")
    if client_times:
        print(
            f"  client save+submit call: p50 {common.fmt_ms(common.percentile(client_times, 50))}, "
            f"p99 {common.fmt_ms(common.percentile(client_times, 99))}"
        )
    if batch_info:
        state, server_s, wall_s = batch_info
        print(
            f"  batch of {args.with_batch}: state {state}, audit submit→finish {server_s:.1f} s (server events)"
            if server_s is not None
            else f"  batch state {state}"
        )
    print(f"  load average at the end: {common.load_average()}")
    goal = latencies and common.percentile(latencies, 99) < 1.0 and unfinished == 0
    print(f"  goal p99 < 1 s and none unfinished: {'MET' if goal else 'NOT MET'}")
    sampler.report()


def prepare_batch(rows: int, employer, user, db: common.BenchDB, start_month: str):
    """Upload an N-row file through the batch services and wait for the import (long queue)."""
    from shebao.workflow.models import State

    path = db.tmpdir / f"batch_{rows}.xlsx"
    t0 = time.perf_counter()
    common.write_enrol_file(path, rows, seed=99, start_month=start_month)
    print(f"[bench] generated {rows}-row file in {time.perf_counter() - t0:.1f} s")
    try:
        from shebao.batch import services as batch_services
    except ImportError:
        batch_services = None
    if batch_services is not None and hasattr(batch_services, "batch_upload"):
        t0 = time.perf_counter()
        tx = batch_services.batch_upload(
            employer=employer, actor=user, business_type="enrol", filename=path.name, data=path.read_bytes()
        )
        while True:
            tx.refresh_from_db()
            if tx.state != State.IMPORTING:
                break
            time.sleep(0.2)
        print(
            f"[bench] batch {tx.serial} imported in {time.perf_counter() - t0:.1f} s: state {tx.state}, "
            f"{tx.total_count} rows, {tx.import_failed_count} import failures"
        )
        return tx
    return bulk_batch(rows, employer, user, start_month)


def bulk_batch(rows: int, employer, user, start_month: str):
    """Fallback while shebao.batch has no upload service: a saved batch built with bulk_create."""
    from django.db import transaction
    from django.utils import timezone

    from shebao.business.enrol import Enrol
    from shebao.core.identity import id_key
    from shebao.params.services import ParamSnapshot
    from shebao.workflow.models import Item, Mode, PersonLock, State, Transaction
    from shebao.workflow.services import make_serial

    params = ParamSnapshot.load()
    people = common.People(seed=99)
    business = Enrol()
    with transaction.atomic():
        tx = Transaction.objects.create(
            employer=employer,
            business_type="enrol",
            mode=Mode.BATCH,
            operator=user,
            state=State.SAVED,
            saved_at=timezone.now(),
            total_count=rows,
        )
        tx.serial = make_serial(tx)
        tx.save(update_fields=["serial"])
        items = []
        for n in range(rows):
            raw = people.enrol_raw(start_month)
            data = business.check_row(raw, params, employer).data
            items.append(
                Item(
                    transaction=tx,
                    row_no=n + 2,
                    id_key=id_key("01", data["id_number"]),
                    id_number=data["id_number"],
                    name=data["name"],
                    data=data,
                    raw=raw,
                )
            )
        Item.objects.bulk_create(items, batch_size=1000)
        PersonLock.objects.bulk_create(
            [PersonLock(id_key=i.id_key, transaction=tx, item=i) for i in items], batch_size=1000
        )
    return tx


if __name__ == "__main__":
    main()
