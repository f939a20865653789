"""The re-base engine and its adjustment lines (补差), issue 11 part 1, computed by hand.

Rates of the published parameters: 养老 16 % / 8 %, 医疗 8 % / 2 % (示例数据). An adjustment
is fen(new base × rate) − everything already charged for the person, month, type and part.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection

from shebao.params.models import BaseLimit, Setting
from shebao.params.services import ParamSnapshot
from shebao.register import assessment, rebase
from shebao.register.models import (
    ContributionBase,
    ContributionLine,
    LineKind,
    Rebase,
    RebaseCause,
    RebaseState,
    Relation,
    RelationStatus,
)
from tests.factories import EmployerFactory, PersonFactory, TransactionFactory

JAN, FEB, MAR, APR = (dt.date(2026, m, 1) for m in (1, 2, 3, 4))
D = Decimal


def _contributing(person, employer, *, wage="6000", start=JAN, end=None, types=("pension", "medical"), year=2026):
    for itype in types:
        Relation.objects.create(
            person=person,
            employer=employer,
            insurance_type=itype,
            status=RelationStatus.SUSPENDED if end else RelationStatus.CONTRIBUTING,
            start_month=start,
            end_month=end,
        )
        ContributionBase.objects.create(
            person=person,
            employer=employer,
            year=year,
            insurance_type=itype,
            declared_wage=D(wage),
            base=D(wage),
        )


def _assess(*months):
    for month in months:
        assessment.assess_month(month, again=True)


def _declare(employer, person, wage, *, from_month=JAN):
    tx = TransactionFactory(employer=employer, business_type="enrol")
    return rebase.declare(
        tx=tx,
        employer=employer,
        year=2026,
        from_month=from_month,
        wages={person.pk: D(wage)},
        params=ParamSnapshot.load(),
    )


def _adjustments(person, itype="pension", **filters) -> dict[dt.date, tuple[Decimal, Decimal]]:
    lines = ContributionLine.objects.filter(person=person, insurance_type=itype, kind=LineKind.ADJUSTMENT, **filters)
    return {line.month: (line.employer_amount, line.personal_amount) for line in lines.order_by("month")}


def _charged(person, month, itype="pension") -> tuple[Decimal, Decimal]:
    lines = ContributionLine.objects.filter(person=person, month=month, insurance_type=itype, voided_by__isnull=True)
    return (sum((x.employer_amount for x in lines), D(0)), sum((x.personal_amount for x in lines), D(0)))


@pytest.fixture
def employer(params):
    return EmployerFactory()


def test_a_base_that_rises_is_charged_the_difference_for_every_month_already_assessed(employer):
    person = PersonFactory()
    _contributing(person, employer, wage="6000")
    _assess(JAN, FEB, MAR)
    done = _declare(employer, person, "7000")
    assert done.state == RebaseState.FINISHED and done.lines_written == 6  # 3 months × 2 types
    # 7000 × 16 % = 1120.00 − 960.00; 7000 × 8 % = 560.00 − 480.00
    assert _adjustments(person) == {m: (D("160.00"), D("80.00")) for m in (JAN, FEB, MAR)}
    # 7000 × 8 % = 560.00 − 480.00; 7000 × 2 % = 140.00 − 120.00
    assert _adjustments(person, "medical") == {m: (D("80.00"), D("20.00")) for m in (JAN, FEB, MAR)}
    line = ContributionLine.objects.filter(person=person, kind=LineKind.ADJUSTMENT).first()
    assert line.rebase_id == done.pk and line.transaction_id == done.transaction_id and line.base == D("7000.00")
    # The regular lines are never edited; the year's base is the declared one from now on.
    assert set(
        ContributionLine.objects.filter(person=person, kind=LineKind.REGULAR).values_list("base", flat=True)
    ) == {D("6000.00")}
    assert ContributionBase.objects.get(person=person, year=2026, insurance_type="pension").base == D("7000.00")
    _assess(APR)
    assert _charged(person, APR) == (D("1120.00"), D("560.00"))


def test_a_base_that_falls_is_not_refunded_by_default(employer):
    person = PersonFactory()
    _contributing(person, employer, wage="6000")
    _assess(JAN, FEB)
    assert _declare(employer, person, "5000").lines_written == 0
    assert _adjustments(person) == {}


def test_a_base_that_falls_is_refunded_when_the_parameter_says_so(employer):
    Setting.objects.create(key="refund_negative_adjustment", value=D(1), effective_from=JAN)
    person = PersonFactory()
    _contributing(person, employer, wage="6000")
    _assess(JAN, FEB)
    _declare(employer, person, "5000")
    # 5000 × 16 % = 800.00 − 960.00; 5000 × 8 % = 400.00 − 480.00
    assert _adjustments(person) == {m: (D("-160.00"), D("-80.00")) for m in (JAN, FEB)}
    assert _charged(person, FEB) == (D("800.00"), D("400.00"))


def test_a_corrected_declaration_charges_only_what_is_left_and_rerunning_adds_nothing(employer):
    person = PersonFactory()
    _contributing(person, employer, wage="6000")
    _assess(JAN, FEB)
    first = _declare(employer, person, "7000")
    assert rebase.adjust(first, {(person.pk, employer.pk, "pension")}, ParamSnapshot.load()) == 0  # again: nothing
    second = _declare(employer, person, "7500")
    # 7500 × 16 % = 1200.00 − (960.00 + 160.00); 7500 × 8 % = 600.00 − (480.00 + 80.00)
    assert _adjustments(person, rebase=second) == {m: (D("80.00"), D("40.00")) for m in (JAN, FEB)}
    assert _charged(person, JAN) == (D("1200.00"), D("600.00"))  # never a fen of drift


def test_only_months_with_lines_are_adjusted_enrolled_late_suspended_or_moved(employer, params):
    late, stopped, moved = PersonFactory(), PersonFactory(), PersonFactory()
    _contributing(late, employer, start=MAR, types=("pension",))
    _contributing(stopped, employer, end=MAR, types=("pension",))  # 停保年月 March: paid Jan–Feb
    other = EmployerFactory()
    _contributing(moved, employer, end=MAR, types=("pension",))
    _contributing(moved, other, start=MAR, types=("pension",))
    _assess(JAN, FEB, MAR)
    for person in (late, stopped, moved):
        _declare(employer, person, "7000")
    assert list(_adjustments(late)) == [MAR]
    assert list(_adjustments(stopped)) == [JAN, FEB]
    assert list(_adjustments(moved)) == [JAN, FEB]  # only this employer's months
    assert not ContributionLine.objects.filter(person=moved, employer=other, kind=LineKind.ADJUSTMENT).exists()


def test_publishing_a_years_limits_rebases_what_was_provisional(params):
    employer = EmployerFactory()
    person = PersonFactory()
    _contributing(person, employer, wage="3000", types=("pension",), year=2026)
    jan, feb = dt.date(2029, 1, 1), dt.date(2029, 2, 1)
    _assess(jan, feb)  # 2029 has no limits of its own yet: another year's apply, provisionally
    first = ContributionLine.objects.get(person=person, month=jan)
    provisional_floor = first.base
    assert first.provisional and provisional_floor > D("3000")
    row = BaseLimit.objects.create(
        year=2029,
        insurance_type="pension",
        effective_from=jan,
        average_wage=D("7800"),
        floor=D("4680"),
        ceiling=D("23400"),
    )
    published = Rebase.objects.get(cause=RebaseCause.LIMITS, limits=row)
    assert (published.year, published.from_month, published.state) == (2029, jan, RebaseState.RUNNING)
    done = rebase.run_limits_rebase(published.pk)
    assert done.state == RebaseState.FINISHED and done.lines_written == 2
    # 4680 × 16 % = 748.80 − floor × 16 %; 4680 × 8 % = 374.40 − floor × 8 %
    expected = (
        D("748.80") - (provisional_floor * D("0.16")).quantize(D("0.01")),
        D("374.40") - (provisional_floor * D("0.08")).quantize(D("0.01")),
    )
    assert _adjustments(person) == {jan: expected, feb: expected}
    first.refresh_from_db()
    assert first.provisional and first.base == provisional_floor  # never edited
    assert rebase.run_limits_rebase(published.pk).lines_written == 2  # finished: left as it is
    # A later notice for the same year, from February: only what is left, from February.
    later = BaseLimit.objects.create(
        year=2029,
        insurance_type="pension",
        effective_from=feb,
        average_wage=D("7800"),
        floor=D("4700"),
        ceiling=D("23400"),
    )
    again = rebase.run_limits_rebase(Rebase.objects.get(limits=later).pk)
    assert _adjustments(person, rebase=again) == {feb: (D("3.20"), D("1.60"))}  # 752.00 − 748.80; 376.00 − 374.40


def test_publishing_limits_nothing_was_computed_on_queues_nothing(params):
    BaseLimit.objects.create(
        year=2031,
        insurance_type="pension",
        effective_from=dt.date(2031, 1, 1),
        average_wage=D("8000"),
        floor=D("4800"),
        ceiling=D("24000"),
    )
    assert not Rebase.objects.exists()


def test_the_bases_of_a_published_year_are_reclamped_from_their_declared_wage(params):
    employer = EmployerFactory()
    person = PersonFactory()
    _contributing(person, employer, wage="3000", types=("pension",), year=2029, start=dt.date(2029, 1, 1))
    row = BaseLimit.objects.create(
        year=2029,
        insurance_type="pension",
        effective_from=dt.date(2029, 1, 1),
        average_wage=D("7800"),
        floor=D("4680"),
        ceiling=D("23400"),
    )
    done = rebase.run_limits_rebase(Rebase.objects.get(limits=row).pk)
    base = ContributionBase.objects.get(person=person, year=2029)
    assert (base.declared_wage, base.base, base.limits_id, base.provisional) == (
        D("3000.00"),
        D("4680.00"),
        row.pk,
        False,
    )
    assert done.bases_changed == 1


def test_a_publication_that_failed_midway_resumes_without_charging_twice(params, monkeypatch):
    employer = EmployerFactory()
    persons = [PersonFactory() for _ in range(3)]
    for person in persons:
        _contributing(person, employer, wage="3000", types=("pension",), year=2026)
    _assess(dt.date(2029, 1, 1))
    row = BaseLimit.objects.create(
        year=2029,
        insurance_type="pension",
        effective_from=dt.date(2029, 1, 1),
        average_wage=D("7800"),
        floor=D("4680"),
        ceiling=D("23400"),
    )
    published = Rebase.objects.get(limits=row)
    real = rebase.adjust
    calls = []

    def dies_on_the_second_chunk(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(rebase, "adjust", dies_on_the_second_chunk)
    with pytest.raises(RuntimeError):
        rebase.run_limits_rebase(published.pk, chunk=1)
    published.refresh_from_db()
    assert published.state == RebaseState.FAILED and "worker killed" in published.error
    if connection.vendor == "postgresql":  # all or nothing: the first chunk was rolled back
        assert published.done == 0 and not ContributionLine.objects.filter(rebase=published).exists()
    else:  # SQLite commits chunk by chunk, the state flip last
        assert published.done == 1 and ContributionLine.objects.filter(rebase=published).count() == 1
    monkeypatch.setattr(rebase, "adjust", real)
    done = rebase.run_limits_rebase(published.pk, chunk=1)
    assert done.state == RebaseState.FINISHED and done.lines_written == 3
    assert ContributionLine.objects.filter(rebase=done).count() == 3  # one per person, none twice


def test_saving_limits_in_the_admin_queues_the_rebase_on_the_long_cluster(params, django_capture_on_commit_callbacks):
    from django.test import Client
    from django_q.models import OrmQ

    from tests.factories import AdminFactory

    employer = EmployerFactory()
    person = PersonFactory()
    _contributing(person, employer, wage="3000", types=("pension",), year=2026)
    _assess(dt.date(2029, 1, 1))
    client = Client()
    client.force_login(AdminFactory())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/params/baselimit/add/",
            {
                "year": "2029",
                "insurance_type": "pension",
                "effective_from": "2029-01",
                "average_wage": "7800",
                "floor": "4680",
                "ceiling": "23400",
                "note": "2029 年公布",
            },
        )
    assert response.status_code == 302, response.content.decode()[:3000]
    queued = OrmQ.objects.get(key="long")
    assert queued.task["func"] == "shebao.register.jobs.rebase_job"
    from shebao.register.jobs import rebase_job

    assert "finished" in rebase_job(*queued.task["args"])
    assert list(_adjustments(person)) == [dt.date(2029, 1, 1)]
