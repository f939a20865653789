#!/usr/bin/env python
"""月度缴费核定 of a month over a big register (issue 11: 1,000,000 person-relations ≤ 60 s on
PostgreSQL).

    .venv/bin/python bench/monthly_assessment.py --db postgres --employers 10000 --persons 200000
    .venv/bin/python bench/monthly_assessment.py --db sqlite --employers 1000 --persons 20000

Creates its own database, seeds the published parameters, `--employers` employers and
`--persons` persons spread over them, each with the five insurance types contributing since
January of last year and a base for last year only (so every line takes the earlier declared
wage clamped to this year's limits, the slower path), then measures in this process:

- the assessment of the current month (shebao.register.assessment.assess_month), wall clock,
  lines written, and the peak RSS of this process;
- the same month again (`again=True`): every relation checked, nothing written.
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
    parser.add_argument("--employers", type=int, default=10_000)
    parser.add_argument("--persons", type=int, default=200_000, help="persons; relations are 5 per person")
    args = parser.parse_args()
    common.run_on_fresh_db(args, "assessment", run)


def seed(employers: int, persons: int) -> None:
    from django.db import transaction

    from shebao.core import clock
    from shebao.demo.data import credit_code
    from shebao.employers.models import Employer, Office

    common.seed_base()
    office = Office.objects.get()
    this_year = clock.current_month().year
    start = dt.date(this_year - 1, 1, 1)
    t0 = time.perf_counter()
    with transaction.atomic():
        Employer.objects.bulk_create(
            [
                Employer(
                    number=f"3{n:07d}",
                    name=f"压测单位{n}",
                    credit_code=credit_code("420103", n % 100_000),
                    office=office,
                    risk_class=1 + n % 8,
                    injury_float_percent=100,
                )
                for n in range(1, employers + 1)
            ],
            batch_size=2000,
        )
        employer_ids = list(Employer.objects.order_by("pk").values_list("pk", flat=True))
        relations = common.seed_contributing(
            employer_ids,
            persons,
            start=start,
            base_year=this_year - 1,
            wage_of=lambda n: Decimal(4000 + (n * 37) % 16000),
        )
    common.vacuum_analyze()
    print(
        f"[bench] seeded {employers} employers, {persons} persons, {relations} relations "
        f"in {time.perf_counter() - t0:.1f} s"
    )


def run(args, db, procs) -> None:
    from shebao.core import clock
    from shebao.register import assessment
    from shebao.register.models import ContributionLine

    seed(args.employers, args.persons)
    month = clock.current_month()
    print(f"[bench] load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    t0 = time.perf_counter()
    run = assessment.assess_month(month)
    first = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    lines = ContributionLine.objects.filter(month=month).count()
    t0 = time.perf_counter()
    again = assessment.assess_month(month, again=True)
    second = time.perf_counter() - t0
    relations = args.persons * 5  # five insurance types each
    print(f"[bench] {db.kind}: monthly assessment of {relations} relations ({args.employers} employers)")
    print(
        f"  first run:  {first:.1f} s, {run.lines_written} lines written ({lines} in the month), {run.skipped} skipped"
    )
    print(f"  again:      {second:.1f} s, {again.lines_written} lines written")
    print(f"  peak RSS of the process: {peak} MB")
    print(f"  rate: {relations / first:,.0f} relations/s (goal on PostgreSQL: 1,000,000 in ≤ 60 s)")


if __name__ == "__main__":
    main()
