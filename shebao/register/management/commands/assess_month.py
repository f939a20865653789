"""manage.py assess_month [YYYY-MM] [--again]: 月度缴费核定 from the command line.

Without a month: every month due through the current one (what the scheduled job does).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from shebao.core import clock
from shebao.core.months import format_month, parse_month
from shebao.register import assessment


class Command(BaseCommand):
    help = "Write the due regular contribution lines of a month (default: every month due through this one)."

    def add_arguments(self, parser):
        parser.add_argument("month", nargs="?", help="the month, YYYY-MM")
        parser.add_argument(
            "--again", action="store_true", help="assess a finished month again (adds only missing lines)"
        )

    def handle(self, *args, month=None, again=False, **options):
        def progress(run):
            self.stdout.write(f"  {format_month(run.month)}: {run.employers_done}/{run.employers_total} employers")

        if month:
            parsed = parse_month(month)
            if parsed is None:
                raise CommandError(f"not a month: {month!r} (YYYY-MM)")
            months = [parsed]
        else:
            months = assessment.due_months(clock.current_month())
        if not months:
            self.stdout.write("nothing due")
        for each in months:
            run = assessment.assess_month(each, again=again, on_chunk=progress)
            self.stdout.write(
                f"{format_month(run.month)} {run.state}: {run.lines_written} lines written, {run.skipped} skipped"
            )
