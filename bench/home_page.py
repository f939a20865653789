#!/usr/bin/env python
"""首页 under load: requests/s and latency with 10,000 transactions in the employer's history.

    .venv/bin/python bench/home_page.py --db postgres --clients 32 --seconds 20

Creates its own database, seeds one VIP employer with --history transactions (bulk_create,
mixed states, single and batch, with items and return reasons), starts
`gunicorn config.wsgi -w 2` against it, logs one operator in through the login form (CSRF
and all), then drives --clients concurrent connections at `/home/` and, in the same run and
under the same conditions, at the minimal view `/tx/<pk>/status/` (a JSON poll behind the
same middleware, session, login and employer scoping; no template). Uses `wrk` when it is
installed (`apt-get install wrk`), else a Python thread load generator.

Goal (issue 2, PostgreSQL): ≥ 300 req/s and p99 < 250 ms on /home/; the ratio to the
minimal view is reported.
"""

from __future__ import annotations

import argparse
import http.client
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402

STATE_MIX = [  # (state, share) of the history: mostly finished, as an employer's history is
    ("finished", 62),
    ("cancelled", 10),
    ("saved", 9),
    ("returned", 8),
    ("review", 6),
    ("auditing", 3),
    ("importing", 2),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common.add_db_args(parser)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of each measured phase")
    parser.add_argument("--history", type=int, default=10_000, help="transactions in the employer's history")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--loadgen", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument(
        "--churn",
        type=float,
        default=0.0,
        help="changes per second to the employer's transactions while /home/ is measured "
        "(each one makes the next view of each process render the lists anew)",
    )
    args = parser.parse_args()

    common.run_on_fresh_db(args, "home", run)


def seed_history(employer, user, count: int) -> int:
    """`count` transactions with serials, items and events-free history; returns a finished tx pk."""
    import datetime as dt
    import random

    from django.db import transaction
    from django.utils import timezone

    from shebao.core.identity import id_key
    from shebao.core.months import current_month
    from shebao.workflow.models import Item, ItemStatus, Mode, State, Transaction

    rng = random.Random(3)
    people = common.People(seed=11)
    start_month = current_month().strftime("%Y-%m")
    states = [s for s, share in STATE_MIX for _ in range(share)]
    now = timezone.now()
    txs = []
    for n in range(count):
        state = rng.choice(states)
        batch = rng.random() < 0.1
        created = now - dt.timedelta(minutes=(count - n) * 20)
        rows = rng.randrange(2, 60) if batch else 1
        tx = Transaction(
            serial=f"{timezone.localtime(created):%Y%m%d}{n + 1:08d}",
            employer=employer,
            business_type="enrol",
            mode=Mode.BATCH if batch else Mode.SINGLE,
            operator=user,
            state=state,
            version=rng.randrange(1, 6),
            total_count=rows,
            saved_at=created,
            touched_at=created,
        )
        tx.created_at = created
        if state in (State.AUDITING, State.REVIEW, State.FINISHED):
            tx.submitted_at = created + dt.timedelta(minutes=3)
        if state == State.FINISHED:
            tx.finished_at = created + dt.timedelta(minutes=4)
            tx.applied_count = tx.audit_passed_count = rows - (rng.randrange(0, 3) if batch else 0)
            tx.audit_failed_count = rows - tx.applied_count
        if state == State.RETURNED:
            tx.returned = True
            tx.return_reasons = (
                [{"code": "ALL_ROWS_FAILED", "field": "", "params": {}}]
                if batch
                else [{"code": "CLERK_RETURNED", "field": "", "params": {"reason": "劳动合同复印件不清晰，请重新上传"}}]
            )
        if state == State.CANCELLED and rng.random() < 0.3:
            tx.return_reasons = [{"code": "EXPIRED", "field": "", "params": {"days": 30}}]
        txs.append(tx)
    with transaction.atomic():
        Transaction.objects.bulk_create(txs, batch_size=1000)
    # auto_now_add overrode created_at: put the history back in time (it drives the date filters).
    created_ats = {t.serial: t.created_at for t in txs}
    saved = list(
        Transaction.objects.filter(employer=employer)
        .order_by("id")
        .only("id", "serial", "created_at", "total_count", "state")
    )
    for tx in saved:
        tx.created_at = created_ats[tx.serial]
    with transaction.atomic():
        Transaction.objects.bulk_update(saved, ["created_at"], batch_size=1000)
    items = []
    for tx in saved:
        for row in range(tx.total_count):
            raw = people.enrol_raw(start_month)
            items.append(
                Item(
                    transaction_id=tx.pk,
                    row_no=row + (2 if tx.total_count > 1 else 1),
                    id_key=id_key("01", raw["id_number"]),
                    id_number=raw["id_number"],
                    name=raw["name"],
                    data=raw,
                    raw=raw,
                    status=ItemStatus.IMPORTED,
                    audit_status="passed" if tx.state == State.FINISHED else "",
                )
            )
    with transaction.atomic():
        Item.objects.bulk_create(items, batch_size=2000)
    return next(t.pk for t in saved if t.state == State.FINISHED)


def login(base: str) -> str:
    """POST the login form with its CSRF token; return the Cookie header of the session."""
    parsed = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    conn.request("GET", "/accounts/login/")
    response = conn.getresponse()
    body = response.read().decode()
    cookies = _cookies(response)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "employer_number": "10000001", "username": "bench", "password": common.PASSWORD}
    )
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    conn.request(
        "POST",
        "/accounts/login/",
        body=form,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": _cookie_header(cookies),
            "Referer": base + "/accounts/login/",
        },
    )
    response = conn.getresponse()
    response.read()
    if response.status != 302:
        raise SystemExit(f"login failed: HTTP {response.status}")
    cookies.update(_cookies(response))
    return _cookie_header(cookies)


def _cookies(response) -> dict:
    out = {}
    for header, value in response.getheaders():
        if header.lower() == "set-cookie":
            name, _, rest = value.partition("=")
            out[name] = rest.split(";", 1)[0]
    return out


def _cookie_header(cookies: dict) -> str:
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def fetch(base: str, path: str, cookie: str) -> tuple[int, str]:
    parsed = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    conn.request("GET", path, headers={"Cookie": cookie})
    response = conn.getresponse()
    return response.status, response.read().decode(errors="replace")


# --- load generators ---------------------------------------------------------------------------


def wrk(url: str, cookie: str, clients: int, seconds: float) -> dict:
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{clients}",
            f"-d{int(seconds)}s",
            "--latency",
            "--timeout",
            "10s",
            "-H",
            f"Cookie: {cookie}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "non2xx": int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0,
        "errors": (m.group(0) if (m := re.search(r"Socket errors:.*", out)) else ""),
    }
    for pct in ("50", "75", "90", "99"):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value = float(m.group(1)) * {"us": 1e-6, "ms": 1e-3, "s": 1.0}[m.group(2)]
        result[f"p{pct}"] = value
    return result


def python_load(url: str, cookie: str, clients: int, seconds: float) -> dict:
    """Closed-loop clients, one thread each (gunicorn's sync workers close every connection)."""
    parsed = urllib.parse.urlsplit(url)
    path = parsed.path + (f"?{parsed.query}" if parsed.query else "")
    latencies: list[float] = []
    bad = [0]
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def client() -> None:
        mine, errors = [], 0
        while time.perf_counter() < stop_at:
            t0 = time.perf_counter()
            try:
                conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
                conn.request("GET", path, headers={"Cookie": cookie})
                response = conn.getresponse()
                response.read()
                conn.close()
                if response.status != 200:
                    errors += 1
            except OSError:
                errors += 1
            mine.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(mine)
            bad[0] += errors

    threads = [threading.Thread(target=client) for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    result = {"rps": len(latencies) / elapsed, "requests": len(latencies), "non2xx": bad[0], "errors": ""}
    for pct in (50, 75, 90, 99):
        result[f"p{pct}"] = common.percentile(latencies, pct)
    return result


def run(args, db: common.BenchDB, procs: common.Procs) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    employer, user = common.seed_base(vip=True)
    t0 = time.perf_counter()
    status_pk = seed_history(employer, user, args.history)
    print(f"[bench] seeded {args.history} transactions in {time.perf_counter() - t0:.1f} s")
    common.vacuum_analyze()

    server, base = common.start_gunicorn(procs, db, workers=args.workers)
    cookie = login(base)
    urls = {"home": "/home/", "minimal": f"/tx/{status_pk}/status/"}
    status, body = fetch(base, urls["home"], cookie)
    assert status == 200 and "待办任务列表" in body, f"/home/ answered {status}"
    counts = re.findall(r'<span class="badge">(\d+)</span>', body)
    status, body = fetch(base, urls["minimal"], cookie)
    assert status == 200 and '"state"' in body, f"minimal view answered {status}"
    print(
        f"[bench] logged in; /home/ shows 待办 {counts[0]} and 已办 {counts[1]} transactions "
        f"({len(fetch(base, urls['home'], cookie)[1]) // 1024} KB page)"
    )

    # The page's query count, measured in-process with the same data.
    from django.test import Client

    client = Client()
    client.force_login(user)
    session = client.session
    session["employer_id"] = employer.pk
    session.save()
    with CaptureQueriesContext(connection) as home_q:  # the lists rendered (the first view)
        client.get(urls["home"])
    with CaptureQueriesContext(connection) as home_again_q:  # the lists from the cache
        client.get(urls["home"])
    with CaptureQueriesContext(connection) as min_q:
        client.get(urls["minimal"])

    use_wrk = args.loadgen == "wrk" or (args.loadgen == "auto" and shutil.which("wrk"))
    generator = wrk if use_wrk else python_load
    sampler = common.RssSampler({"gunicorn": server.pid}, interval=0.1)
    sampler.start()
    results = {}
    load_before = time_load()
    workers = common.descendants(server.pid)
    changes = 0
    for name, path in urls.items():
        generator(base + path, cookie, args.clients, 3)  # warm-up: connections, template caches
        cpu0 = sum(common.cpu_seconds(pid) for pid in workers)
        churn = Churn(employer, args.churn) if name == "home" and args.churn > 0 else None
        results[name] = generator(base + path, cookie, args.clients, args.seconds)
        if churn:
            changes = churn.stop()
        cpu = sum(common.cpu_seconds(pid) for pid in workers) - cpu0
        results[name]["cpu_ms"] = cpu * 1000 / max(1, results[name]["requests"])
    sampler.stop()
    load_after = time_load()

    print(
        f"\n== /home/ vs minimal view, {connection.vendor}, {args.history} transactions, {args.clients} clients, "
        f"gunicorn -w {args.workers}, {args.seconds:g} s each, load generator {'wrk' if use_wrk else 'python'} =="
    )
    print(f"  load average before {load_before}, after {load_after}")
    print(
        f"  {'view':30s} {'req/s':>8s} {'p50':>10s} {'p90':>10s} {'p99':>10s} {'requests':>9s} {'non-2xx':>8s} "
        f"queries (first/again)  gunicorn CPU/request"
    )
    for name, path in urls.items():
        r = results[name]
        q = (
            f"{len(home_q.captured_queries)}/{len(home_again_q.captured_queries)}"
            if name == "home"
            else f"{len(min_q.captured_queries)}"
        )
        print(
            f"  {name + ' ' + path:30s} {r['rps']:8.1f} {r['p50'] * 1000:8.1f}ms {r['p90'] * 1000:8.1f}ms "
            f"{r['p99'] * 1000:8.1f}ms {r['requests']:9d} {r['non2xx']:8d} {q:>21s}  {r['cpu_ms']:6.2f} ms  "
            f"{r['errors']}"
        )
    home, minimal = results["home"], results["minimal"]
    if args.churn > 0:
        print(
            f"  while /home/ was measured, {changes} changes to the employer's transactions "
            f"({changes / args.seconds:.1f}/s), each one a new task-list version"
        )
    print(
        f"  ratio home/minimal: throughput {home['rps'] / minimal['rps']:.2f}, p99 {home['p99'] / minimal['p99']:.2f}x"
    )
    met = home["rps"] >= 300 and home["p99"] < 0.25 and home["non2xx"] == 0
    print(f"  goal ≥ 300 req/s and p99 < 250 ms on /home/: {'MET' if met else 'NOT MET'}")
    sampler.report()


class Churn:
    """Changes one of the employer's transactions `rate` times a second, in a thread.

    A change of a listed field (保存时间) through the model's manager, as every service makes
    its changes: it bumps the employer's task-list version after commit.
    """

    def __init__(self, employer, rate: float) -> None:
        from shebao.workflow.models import State, Transaction

        self.pks = list(Transaction.objects.filter(employer=employer, state=State.SAVED).values_list("pk", flat=True))
        self.rate, self.count = rate, 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        import random

        from django.db import connection
        from django.utils import timezone

        from shebao.workflow.models import Transaction

        rng = random.Random(5)
        next_at = time.perf_counter()
        while not self.done.is_set():
            Transaction.objects.filter(pk=rng.choice(self.pks)).update(saved_at=timezone.now())
            self.count += 1
            next_at += 1 / self.rate
            self.done.wait(max(0.0, next_at - time.perf_counter()))
        connection.close()

    def stop(self) -> int:
        self.done.set()
        self.thread.join()
        return self.count


def time_load() -> str:
    import os

    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
