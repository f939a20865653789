"""月度缴费核定 (issue 11 part 1): for a month, the due regular lines of every relation
contributing in it, from that month's base and rates; idempotent, resumable, catching up the
months it missed. Runs on SQLite (the Python path) and PostgreSQL (one statement per chunk)."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from shebao.params.models import BaseLimit, InjuryRate
from shebao.register import assessment
from shebao.register.models import (
    AssessmentRun,
    AssessmentState,
    ContributionBase,
    ContributionLine,
    LineKind,
    Relation,
    RelationStatus,
)
from tests.factories import EmployerFactory, PersonFactory

MARCH = dt.date(2026, 3, 1)
TYPES = ("pension", "medical", "unemployment", "injury", "maternity")


def _enrolled(employer, *, wage="8000", year=2026, start=dt.date(2026, 1, 1), end=None, types=TYPES, base=None):
    person = PersonFactory()
    for itype in types:
        Relation.objects.create(
            person=person,
            employer=employer,
            insurance_type=itype,
            status=RelationStatus.SUSPENDED if end else RelationStatus.CONTRIBUTING,
            start_month=start,
            end_month=end,
        )
        if year is not None:
            ContributionBase.objects.create(
                person=person,
                employer=employer,
                year=year,
                insurance_type=itype,
                declared_wage=Decimal(wage),
                base=Decimal(base or wage),
            )
    return person


def _lines(person, month=MARCH) -> dict[str, tuple]:
    return {
        line.insurance_type: (line.base, line.employer_amount, line.personal_amount, line.kind)
        for line in ContributionLine.objects.filter(person=person, month=month, voided_by__isnull=True)
    }


@pytest.fixture
def employer(params):
    return EmployerFactory(risk_class=3, injury_float_percent=120)


def test_a_contributing_person_gets_one_regular_line_per_type_from_the_years_base_and_rates(employer):
    person = _enrolled(employer, wage="8000")
    run = assessment.assess_month(MARCH)
    assert run.state == AssessmentState.FINISHED and run.lines_written == 5 and run.skipped == 0
    lines = _lines(person)
    assert lines["pension"] == (Decimal("8000.00"), Decimal("1280.00"), Decimal("640.00"), LineKind.REGULAR)
    # Work injury: class 3 is 0.7 %, floated 120 % → 0.84 %, employer only.
    injury = InjuryRate.objects.get(risk_class=3)
    assert injury.rate == Decimal("0.007")
    assert lines["injury"][1:3] == (Decimal("67.20"), Decimal("0.00"))
    line = ContributionLine.objects.get(person=person, month=MARCH, insurance_type="injury")
    assert line.injury_rate_id == injury.pk and line.rate_id is None and line.transaction_id is None


def test_running_a_month_again_or_a_finished_month_adds_nothing(employer):
    person = _enrolled(employer)
    first = assessment.assess_month(MARCH)
    before = list(ContributionLine.objects.order_by("pk").values_list("pk", "base", "employer_amount"))
    assert assessment.assess_month(MARCH).lines_written == first.lines_written == 5  # finished: left as it is
    again = assessment.assess_month(MARCH, again=True)
    assert again.state == AssessmentState.FINISHED and again.lines_written == 0
    assert list(ContributionLine.objects.order_by("pk").values_list("pk", "base", "employer_amount")) == before
    assert len(_lines(person)) == 5


def test_a_line_the_enrolment_already_wrote_stays_as_it_is(employer):
    person = _enrolled(employer, wage="8000")
    written = ContributionLine.objects.create(
        person=person,
        employer=employer,
        month=MARCH,
        insurance_type="pension",
        kind=LineKind.BACKPAY,
        base=Decimal("5000"),
        employer_amount=Decimal("800"),
        personal_amount=Decimal("400"),
    )
    run = assessment.assess_month(MARCH)
    assert run.lines_written == 4
    written.refresh_from_db()
    assert (written.kind, written.base) == (LineKind.BACKPAY, Decimal("5000.00"))
    assert ContributionLine.objects.filter(person=person, month=MARCH, insurance_type="pension").count() == 1


def test_an_undeclared_year_uses_the_latest_earlier_wage_clamped_to_the_years_limits(employer):
    floor = BaseLimit.objects.filter(year=2026, insurance_type="pension").order_by("-effective_from").first().floor
    low = _enrolled(employer, wage="3000", year=2025, start=dt.date(2025, 6, 1))
    this_year = _enrolled(employer, wage="9000", year=2026, start=dt.date(2025, 6, 1))
    ContributionBase.objects.filter(person=this_year, year=2026).update(base=Decimal("9100"))  # the year's own base
    assessment.assess_month(MARCH)
    assert _lines(low)["pension"][0] == floor and floor > Decimal("3000")
    assert _lines(this_year)["pension"][0] == Decimal("9100.00")


def test_only_months_a_relation_contributes_in_are_charged(employer):
    stopped = _enrolled(employer, end=MARCH)  # 停保年月 March: February was the last month paid
    stops_after = _enrolled(employer, end=dt.date(2026, 4, 1))
    not_yet = _enrolled(employer, start=dt.date(2026, 4, 1))
    no_base = _enrolled(employer, year=None)
    run = assessment.assess_month(MARCH)
    assert _lines(stopped) == {} and _lines(not_yet) == {} and _lines(no_base) == {}
    assert len(_lines(stops_after)) == 5
    assert (run.lines_written, run.skipped) == (5, 5)  # no base: counted, never guessed


def test_a_person_enrolled_and_suspended_within_the_months(employer):
    person = _enrolled(employer, start=dt.date(2026, 2, 1), end=dt.date(2026, 4, 1), types=("pension",))
    for month in (dt.date(2026, m, 1) for m in range(1, 6)):
        assessment.assess_month(month)
    charged = sorted(ContributionLine.objects.filter(person=person).values_list("month", flat=True))
    assert charged == [dt.date(2026, 2, 1), dt.date(2026, 3, 1)]


def test_the_job_catches_up_the_months_it_missed_and_resumes_a_failed_one(employer):
    person = _enrolled(employer, start=dt.date(2025, 10, 1), year=2025)
    AssessmentRun.objects.create(month=dt.date(2025, 12, 1), state=AssessmentState.FINISHED)
    assert assessment.due_months(MARCH) == [dt.date(2026, 1, 1), dt.date(2026, 2, 1), MARCH]
    runs = assessment.assess_due_months(MARCH)
    assert [r.state for r in runs] == [AssessmentState.FINISHED] * 3
    assert sorted(set(ContributionLine.objects.filter(person=person).values_list("month", flat=True))) == [
        dt.date(2026, 1, 1),
        dt.date(2026, 2, 1),
        MARCH,
    ]
    assert assessment.due_months(MARCH) == []


def test_a_run_that_stopped_resumes_after_the_last_employer_committed(params):
    employers = [EmployerFactory() for _ in range(3)]
    persons = [_enrolled(e, types=("pension",)) for e in employers]

    def stop_after_the_first(run):
        if run.employers_done == 1:
            raise RuntimeError("worker killed")

    with pytest.raises(RuntimeError):
        assessment.assess_month(MARCH, chunk=1, on_chunk=stop_after_the_first)
    run = AssessmentRun.objects.get(month=MARCH)
    assert run.state == AssessmentState.FAILED and "worker killed" in run.error
    assert [len(_lines(p)) for p in persons] == [1, 0, 0]  # the first chunk was committed
    assert MARCH in assessment.due_months(MARCH)
    resumed = assessment.assess_month(MARCH, chunk=1)
    assert resumed.state == AssessmentState.FINISHED and resumed.lines_written == 3
    assert [len(_lines(p)) for p in persons] == [1, 1, 1]
    assert resumed.employers_done >= 3 and resumed.percent == 100


def test_the_management_command_assesses_a_month_and_reports(employer, capsys):
    _enrolled(employer)
    call_command("assess_month", "2026-03")
    out = capsys.readouterr().out
    assert "2026-03" in out and "5" in out
    assert AssessmentRun.objects.get(month=MARCH).state == AssessmentState.FINISHED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_of_a_month_at_once_write_each_line_once(params):
    employers = [EmployerFactory() for _ in range(4)]
    for employer in employers:
        for _ in range(5):
            _enrolled(employer)
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def work():
        try:
            barrier.wait()
            assessment.assess_month(MARCH, chunk=1)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert ContributionLine.objects.filter(month=MARCH).count() == 4 * 5 * 5
    # Whichever finished, a third run finds nothing to add.
    assert assessment.assess_month(MARCH, again=True).lines_written == 0
