#!/usr/bin/env python
"""The re-base engine as a June declaration uses it: new bases for every person of an
employer and an adjustment line (补差) for each of the five months already assessed.

    .venv/bin/python bench/rebase_declaration.py --db postgres --persons 100000
    .venv/bin/python bench/rebase_declaration.py --db sqlite --persons 10000

Seeds one employer with `--persons` persons (five insurance types, contributing since January,
this year's base), assesses January to May (shebao.register.assessment), then times
shebao.register.rebase.declare with a wage 500 yuan higher for everyone, in one database
transaction: 5 bases and 5 × 5 adjustment lines per person (issue 11's declaration goal:
100,000 persons, 2.5 million adjustment lines, 提交审批 → 结束 ≤ 2 min, no process above
600 MB). Prints the time, the lines written and the peak RSS of this process.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common.add_db_args(parser)
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--year", type=int, default=0, help="the declared year (default: this year)")
    parser.add_argument("--profile", action="store_true", help="print the 15 costliest functions of the re-base")
    args = parser.parse_args()
    common.run_on_fresh_db(args, "rebase", run)


def run(args, db, procs) -> None:
    from django.db import transaction

    from shebao.core import clock
    from shebao.params.services import ParamSnapshot
    from shebao.register import assessment, rebase
    from shebao.register.models import ContributionBase, ContributionLine, LineKind
    from shebao.workflow.models import Mode, State, Transaction

    employer, user = common.seed_base()
    year = args.year or clock.current_month().year
    t0 = time.perf_counter()
    with transaction.atomic():
        common.seed_contributing(
            [employer.pk],
            args.persons,
            start=dt.date(year, 1, 1),
            base_year=year,
            wage_of=lambda n: Decimal(6000 + (n * 37) % 10000),
        )
    for month in range(1, 6):
        assessment.assess_month(dt.date(year, month, 1))
    common.vacuum_analyze()
    seeded = ContributionLine.objects.count()
    print(f"[bench] seeded {args.persons} persons, {seeded} lines (Jan–May) in {time.perf_counter() - t0:.1f} s")
    print(f"[bench] load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    tx = Transaction.objects.create(
        employer=employer, operator=user, business_type="enrol", mode=Mode.BATCH, state=State.FINISHED
    )
    wages = dict(
        ContributionBase.objects.filter(employer=employer, year=year, insurance_type="pension").values_list(
            "person_id", "declared_wage"
        )
    )
    wages = {person: wage + 500 for person, wage in wages.items()}
    import cProfile

    profiler = cProfile.Profile() if args.profile else None
    t0 = time.perf_counter()
    if profiler:
        profiler.enable()
    with transaction.atomic():
        done = rebase.declare(
            tx=tx,
            employer=employer,
            year=year,
            from_month=dt.date(year, 1, 1),
            wages=wages,
            params=ParamSnapshot.load(),
        )
    seconds = time.perf_counter() - t0
    if profiler:
        import pstats

        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(15)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    adjustments = ContributionLine.objects.filter(kind=LineKind.ADJUSTMENT).count()
    print(f"[bench] {db.kind}: declaration re-base of {args.persons} persons")
    print(
        f"  {seconds:.1f} s: {done.bases_changed} bases, {done.lines_written} adjustment lines ({adjustments} stored)"
    )
    print(f"  peak RSS of the process: {peak} MB (seeding included)")


if __name__ == "__main__":
    main()
