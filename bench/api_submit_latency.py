#!/usr/bin/env python
"""Single enrolments through the API, open loop: 保存 + 提交审批 by HTTP, latency to 结束.

    .venv/bin/python bench/api_submit_latency.py --db postgres --rate 20 --seconds 60

Creates its own database (bench/common.py), seeds a VIP employer (its automatic audit
finishes a valid enrolment with no clerk) whose operator is its administrator, creates a
write token, starts `gunicorn config.wsgi -w 2` (with an access log of the server's time per
request) and the django-q2 clusters `short`, `long` and `outbox`. Then every 1/rate s one
client thread (of a pool, so a slow call never delays the schedule) does
POST /api/v1/enrol/transactions {"row": …} and POST /api/v1/transactions/{id}/submit
{"version": …}. Latency is from the create request's start (the client's wall clock, the
same machine's as the server's) to the transaction's 结束: the first of the finishing events
(audit_passed / audit_returned / to_review) written by the server; also printed: the
server's own submit event → finish, and the client's time of each call. Transactions still
in 自动审核中 after `--drain` s count as unfinished. SHEBAO_API_RATE_PER_MINUTE is raised for
the server through its environment. Goal: p99 < 300 ms on PostgreSQL, none unfinished.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common.add_db_args(parser)
    parser.add_argument("--rate", type=float, default=20.0, help="create + submit pairs per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--threads", type=int, default=16, help="client thread pool size")
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    parser.add_argument("--drain", type=float, default=60.0, help="max seconds to wait for the last audits")
    args = parser.parse_args()
    common.run_on_fresh_db(args, "api_submit", run)


def run(args, db: common.BenchDB, procs: common.Procs) -> None:
    from django.conf import settings
    from django.db.models import Count

    from shebao.core.months import current_month
    from shebao.workflow.models import State, Transaction

    employer, user = common.seed_base(vip=True)
    token = common.api_token(employer, user)
    start_month = current_month().strftime("%Y-%m")
    people = common.People(seed=7)
    total = int(args.rate * args.seconds)
    rows = [people.template_row(start_month) for _ in range(total)]

    db.env.update({"SHEBAO_API_RATE_PER_MINUTE": str(max(100_000, int(args.rate * 120 * 2)))})
    clusters = common.start_qclusters(procs, db, names=(settings.Q_SHORT, settings.Q_LONG, settings.Q_OUTBOX))
    common.wait_qclusters_ready(clusters)
    log = db.tmpdir / "access.log"
    server, base = common.start_gunicorn(procs, db, *common.gunicorn_timed_args(log), workers=args.gunicorn_workers)
    # Warm both gunicorn workers' imports and connections (not counted).
    for _ in range(2 * args.gunicorn_workers):
        status, answer = common.api_post(base, "/api/v1/enrol/validate", token, {"rows": [rows[0]]})
        if status != 200:
            raise SystemExit(f"validate answered {status}: {answer[:300]!r}")
    sampler = common.RssSampler({"gunicorn": server.pid, **{f"q-{k}": p.pid for k, p in clusters.items()}})
    sampler.start()
    census = common.CpuCensus()
    census.start()

    print(
        f"[bench] open loop: {total} create + submit at {args.rate:g}/s for {args.seconds:g} s through "
        f"{base} (gunicorn -w {args.gunicorn_workers}), load average {common.load_average()}"
    )
    started: dict[int, float] = {}  # tx id → the create request's start (epoch seconds)
    create_times: list[float] = []
    submit_times: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def one(row: dict) -> None:
        t0 = time.time()
        try:
            status, answer = common.api_post(base, "/api/v1/enrol/transactions", token, {"row": row}, timeout=30)
            t1 = time.time()
            if status != 201:
                raise RuntimeError(f"create {status}: {answer[:200]!r}")
            created = json.loads(answer)
            status, answer = common.api_post(
                base, f"/api/v1/transactions/{created['id']}/submit", token, {"version": created["version"]}, timeout=30
            )
            t2 = time.time()
            if status != 200:
                raise RuntimeError(f"submit {status}: {answer[:200]!r}")
            with lock:
                started[created["id"]] = t0
                create_times.append(t1 - t0)
                submit_times.append(t2 - t1)
        except Exception as error:  # noqa: BLE001 - a bench counts failures, it does not stop
            with lock:
                errors.append(f"{type(error).__name__}: {error}")

    t_sent, late = common.open_loop(rows, args.rate, args.threads, one)
    census.sample()
    print(
        f"[bench] {len(started)} submitted in {t_sent:.1f} s (achieved {len(started) / t_sent:.1f}/s, "
        f"{late} scheduled >50 ms late), {len(errors)} client errors"
    )
    for message in sorted(set(errors))[:5]:
        print(f"        {message}")

    ids = list(started)
    deadline = time.time() + args.drain
    while time.time() < deadline and Transaction.objects.filter(pk__in=ids, state=State.AUDITING).exists():
        time.sleep(0.25)
    sampler.stop()
    census.stop()

    submits, finishes = common.submit_and_finish_events(ids)
    end_to_end = [finishes[t][0].timestamp() - started[t] for t in ids if t in finishes]
    server_side = [(finishes[t][0] - submits[t]).total_seconds() for t in ids if t in finishes and t in submits]
    outcomes: dict[str, int] = {}
    for _at, action in finishes.values():
        outcomes[action] = outcomes.get(action, 0) + 1
    unfinished = len(ids) - len(end_to_end)
    states = dict(Transaction.objects.filter(pk__in=ids).values_list("state").annotate(n=Count("pk")).order_by())
    create_server = [s for _status, s in common.server_times(log, "POST", r"/api/v1/enrol/transactions")]
    submit_server = [s for _status, s in common.server_times(log, "POST", r"/api/v1/transactions/\d+/submit")]

    vendor = os.environ["DATABASE_URL"].split(":")[0]
    print(f"\n== API create + submit → 结束, {vendor}, {args.rate:g}/s for {args.seconds:g} s ==")
    print(f"  submitted {len(ids)}   finished {len(end_to_end)}   unfinished {unfinished}   outcomes {outcomes}")
    print(f"  states {states}")
    print(f"  {'':40s} {'p50':>9s} {'p95':>9s} {'p99':>9s} {'max':>9s}")
    for label, values in (
        ("create request start → 结束 (goal)", end_to_end),
        ("server: submit event → finish event", server_side),
        ("client: create call", create_times),
        ("client: submit call", submit_times),
        ("server: create (gunicorn %(D)s)", create_server),
        ("server: submit (gunicorn %(D)s)", submit_server),
    ):
        if values:
            cells = [common.percentile(values, p) * 1000 for p in (50, 95, 99)] + [max(values) * 1000]
            print(f"  {label:40s} " + " ".join(f"{c:7.1f}ms" for c in cells))
    print(f"  load average at the end: {common.load_average()}")
    print(
        f"  CPU from the first create to the last finish ({census.wall:.1f} s): the machine "
        f"{census.machine_busy():.0%} busy of {os.cpu_count()} cores; PostgreSQL {census.postgres_seconds():.1f} s, "
        f"{census.postgres_seconds() / max(len(ids), 1) * 1000:.1f} ms per transaction"
    )
    goal = bool(end_to_end) and common.percentile(end_to_end, 99) < 0.3 and unfinished == 0 and not errors
    print(f"  goal p99 < 300 ms, none unfinished, no errors: {'MET' if goal else 'NOT MET'}")
    sampler.report()


if __name__ == "__main__":
    main()
