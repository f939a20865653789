import datetime as dt

import pytest
from django.utils import timezone
from django_q.models import OrmQ

from shebao.core.errors import ApplicationError, Conflict
from shebao.workflow import services
from shebao.workflow.models import PersonLock, State, Transaction
from tests.factories import (
    ClerkFactory,
    EmployerFactory,
    MembershipFactory,
    OfficeFactory,
    OperatorFactory,
    make_resident_id,
    seed_params,
)
from tests.workflow.helpers import enrol_raw

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _params():
    seed_params()


def _saved(employer, user, seq=1):
    return services.transaction_save_single(
        employer=employer,
        actor=user,
        business_type="enrol",
        raw=enrol_raw(make_resident_id(dt.date(1990, 1, 1), serial=seq)),
    ).transaction


def test_untouched_drafts_expire_and_release_the_person_lock():
    employer = EmployerFactory(is_vip=True)
    user = OperatorFactory(employer=employer)
    old, fresh = _saved(employer, user, 1), _saved(employer, user, 2)
    Transaction.objects.filter(pk=old.pk).update(touched_at=timezone.now() - dt.timedelta(days=31))
    assert services.expire_drafts() == 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.state == State.CANCELLED and old.return_reasons[0]["code"] == "EXPIRED"
    assert fresh.state == State.SAVED
    assert list(PersonLock.objects.values_list("transaction_id", flat=True)) == [fresh.pk]


def test_sweeper_requeues_an_audit_whose_job_was_lost():
    employer = EmployerFactory(is_vip=True)
    user = OperatorFactory(employer=employer)
    tx = _saved(employer, user)
    services.transaction_submit(tx=tx, actor=user, version=tx.version)
    assert OrmQ.objects.count() == 1  # enqueued in the same commit as the state change
    OrmQ.objects.all().delete()  # the job is lost
    assert services.sweep_stuck_audits() == 0  # not stuck yet
    Transaction.objects.filter(pk=tx.pk).update(heartbeat_at=timezone.now() - dt.timedelta(hours=1))
    assert services.sweep_stuck_audits() == 1
    assert OrmQ.objects.count() == 1
    assert services.run_audit(tx.pk) == "finished"
    assert services.run_audit(tx.pk) == "skipped"  # a redelivered job applies nothing twice


def test_illegal_transitions_are_refused():
    employer = EmployerFactory(is_vip=False)
    user = OperatorFactory(employer=employer)
    tx = _saved(employer, user)
    services.transaction_submit(tx=tx, actor=user, version=tx.version)
    services.run_audit(tx.pk)
    tx.refresh_from_db()
    assert tx.state == State.REVIEW
    with pytest.raises(Conflict):  # edit an in-review one
        services.transaction_save_single(
            employer=employer,
            actor=user,
            business_type="enrol",
            raw=enrol_raw(make_resident_id(dt.date(1990, 1, 1), serial=1)),
            tx=tx,
            version=tx.version,
        )
    with pytest.raises(Conflict):  # cancel an in-review one as the employer
        services.transaction_cancel(tx=tx, actor=user, version=tx.version)
    other_office_clerk = ClerkFactory(office=OfficeFactory(code="420103"))
    with pytest.raises(ApplicationError):  # another district's clerk
        services.clerk_approve(tx=tx, clerk=other_office_clerk, version=tx.version)
    own_clerk = ClerkFactory(office=employer.office)
    MembershipFactory(user=own_clerk, employer=employer)
    with pytest.raises(ApplicationError) as refused:  # one's own employer's
        services.clerk_approve(tx=tx, clerk=own_clerk, version=tx.version)
    assert refused.value.code == "SEPARATION_OF_DUTIES"
    clerk = ClerkFactory(office=employer.office)
    services.clerk_approve(tx=tx, clerk=clerk, version=tx.version)
    tx.refresh_from_db()
    for call in (
        lambda: services.transaction_submit(tx=tx, actor=user, version=tx.version),
        lambda: services.transaction_cancel(tx=tx, actor=user, version=tx.version),
        lambda: services.transaction_withdraw(tx=tx, actor=user, version=tx.version),
        lambda: services.clerk_return(tx=tx, clerk=clerk, version=tx.version, reason="x"),
    ):
        with pytest.raises(ApplicationError):
            call()
    tx.refresh_from_db()
    assert tx.state == State.FINISHED


def test_withdraw_returns_to_saved_until_a_clerk_acts():
    employer = EmployerFactory(is_vip=False)
    user = OperatorFactory(employer=employer)
    tx = _saved(employer, user)
    services.transaction_submit(tx=tx, actor=user, version=tx.version)
    services.run_audit(tx.pk)
    tx.refresh_from_db()
    services.transaction_withdraw(tx=tx, actor=user, version=tx.version)
    tx.refresh_from_db()
    assert tx.state == State.SAVED and PersonLock.objects.filter(transaction=tx).exists()


def test_stale_save_is_refused_not_overwritten():
    employer = EmployerFactory(is_vip=True)
    user = OperatorFactory(employer=employer)
    tx = _saved(employer, user)
    shown = tx.version
    services.transaction_save_single(
        employer=employer,
        actor=user,
        business_type="enrol",
        raw=enrol_raw(make_resident_id(dt.date(1990, 1, 1), serial=1), wage="7000"),
        tx=tx,
        version=shown,
    )
    with pytest.raises(Conflict):
        services.transaction_save_single(
            employer=employer,
            actor=user,
            business_type="enrol",
            raw=enrol_raw(make_resident_id(dt.date(1990, 1, 1), serial=1), wage="8000"),
            tx=tx,
            version=shown,
        )
    assert tx.items.get().data["wage"] == "7000.00"
