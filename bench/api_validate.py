#!/usr/bin/env python
"""免费预检 through the API: POST /api/v1/enrol/validate of 10,000 JSON rows, end to end.

    .venv/bin/python bench/api_validate.py --db postgres --rows 10000 --runs 5
    .venv/bin/python bench/api_validate.py --db postgres --rows 10000 --profile   # + check_rows under cProfile

Creates its own database (bench/common.py), seeds the published parameters and a VIP employer
whose operator is its administrator, creates a token, starts `gunicorn config.wsgi -w 2` with an
access log of the server's time per request, and POSTs {"rows": [...]} with `--rows` enrolment
rows keyed by field name (the template's words, as bench.common.People.template_row writes
them: valid Hubei resident IDs, names, wages, the current month). `--bad` (default 0.02) of the
rows are wrong on purpose, in turns: a wrong ID check digit, no wage, the ID of an earlier row
again (a duplicate), a start month in the wrong format. Each of `--runs` requests is timed by the
client from the first byte sent to the last byte read (JSON encoding of the body excluded);
the server's time is gunicorn's (request read → response written). Prints min/median/max of
both, the answer's totals, and the time of `shebao.batch.services.check_rows` alone on the same
rows in this process (best of 3), so the rest is JSON, pydantic and the middleware.
`--profile` also runs check_rows once under cProfile and prints the top functions.

The validate quota (SHEBAO_API_VALIDATE_PER_DAY) and the rate limit are raised for the server
through its environment. Goal: ≤ 2 s per request on PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402

PATH = "/api/v1/enrol/validate"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common.add_db_args(parser)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--bad", type=float, default=0.02, help="share of rows wrong on purpose")
    parser.add_argument("--runs", type=int, default=5, help="timed requests (after one warm-up)")
    parser.add_argument("--profile", action="store_true", help="run check_rows under cProfile too")
    args = parser.parse_args()
    common.run_on_fresh_db(args, "api_validate", run)


def make_rows(count: int, bad: float, start_month: str) -> tuple[list[dict], int]:
    """The rows and how many were made wrong."""
    people = common.People(seed=count)
    rows = [people.template_row(start_month) for _ in range(count)]
    every = int(1 / bad) if bad > 0 else 0
    wrong = 0
    for n in range(every, count, every) if every else ():
        row, kind = rows[n], (n // every) % 4
        if kind == 0:  # a typo in the check digit
            row["id_number"] = row["id_number"][:17] + ("0" if row["id_number"][17] != "0" else "1")
        elif kind == 1:  # no wage
            row["wage"] = ""
        elif kind == 2:  # the person of an earlier row again
            row["id_number"] = rows[n - 1]["id_number"]
        else:  # a month not in YYYY-MM
            row["start_month"] = "六月"
        wrong += 1
    return rows, wrong


def run(args, db: common.BenchDB, procs: common.Procs) -> None:
    import os

    from shebao.batch import services as batch
    from shebao.core.months import current_month

    employer, user = common.seed_base(vip=True)
    token = common.api_token(employer, user)
    start_month = current_month().strftime("%Y-%m")
    rows, wrong = make_rows(args.rows, args.bad, start_month)
    body = json.dumps({"rows": rows}, ensure_ascii=False).encode()
    print(f"[bench] {args.rows} rows ({wrong} wrong on purpose), body {len(body) / 1e6:.2f} MB")

    db.env.update({"SHEBAO_API_VALIDATE_PER_DAY": "100000", "SHEBAO_API_RATE_PER_MINUTE": "100000"})
    log = db.tmpdir / "access.log"
    _server, base = common.start_gunicorn(procs, db, *common.gunicorn_timed_args(log), "--timeout", "120")
    print(f"[bench] gunicorn -w 2 at {base}; load average {common.load_average()}")

    status, answer = common.api_post(base, PATH, token, body)  # warm-up: imports, parameters, plans
    if status != 200:
        raise SystemExit(f"validate answered {status}: {answer[:500]!r}")
    result = json.loads(answer)
    print(
        f"[bench] answer: total {result['total']}, failed {result['failed']}, warned {result['warned']}, "
        f"{len(result['rows'])} rows with issues, {len(answer) / 1e3:.0f} kB"
    )
    codes: dict[str, int] = {}
    for row in result["rows"]:
        for issue in row["issues"]:
            codes[issue["code"]] = codes.get(issue["code"], 0) + 1
    print(f"[bench] issue codes: {dict(sorted(codes.items()))}")

    client: list[float] = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        status, answer = common.api_post(base, PATH, token, body)
        client.append(time.perf_counter() - t0)
        if status != 200:
            raise SystemExit(f"validate answered {status}: {answer[:500]!r}")
    time.sleep(0.3)  # the access log line is written after the response
    server = [s for status, s in common.server_times(log, "POST", PATH)][1:]  # without the warm-up

    in_process = []
    for _ in range(3):
        t0 = time.perf_counter()
        batch.check_rows(employer=employer, business_type="enrol", rows=rows)
        in_process.append(time.perf_counter() - t0)

    print(f"\n== POST {PATH}, {args.rows} rows, {args.runs} runs, {os.environ['DATABASE_URL'].split(':')[0]} ==")
    print(f"  {'':28s} {'min':>9s} {'median':>9s} {'max':>9s}")
    for label, values in (("client (request → answer)", client), ("server (gunicorn %(D)s)", server)):
        if values:
            print(f"  {label:28s} {min(values):8.3f}s {statistics.median(values):8.3f}s {max(values):8.3f}s")
    print(f"  {'check_rows alone (best of 3)':28s} {min(in_process):8.3f}s")
    print(f"  load average at the end: {common.load_average()}")
    goal = statistics.median(client) <= 2.0
    print(f"  goal ≤ 2 s (median of the client's time): {'MET' if goal else 'NOT MET'}")

    if args.profile:
        profile(employer, rows)


def profile(employer, rows: list[dict]) -> None:
    import cProfile
    import pstats

    from shebao.batch import services as batch

    profiler = cProfile.Profile()
    profiler.enable()
    batch.check_rows(employer=employer, business_type="enrol", rows=rows)
    profiler.disable()
    print("\n== check_rows under cProfile (cumulative, top 35) ==")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
    print("== tottime, top 25 ==")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
