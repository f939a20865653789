"""The person lock under real concurrency: several processes save the same person at once."""

import datetime as dt
import multiprocessing

import pytest
from django.db import connection, connections

from shebao.workflow.models import PersonLock, Transaction
from tests.factories import EmployerFactory, OperatorFactory, make_resident_id, seed_params
from tests.workflow.helpers import enrol_raw

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WORKERS = 6
ROUNDS = 8


def _race(barrier, employer_id: int, user_id: int, id_number: str, results) -> None:
    connections.close_all()  # each process opens its own connection
    from shebao.accounts.models import User
    from shebao.employers.models import Employer
    from shebao.workflow import services

    employer, user = Employer.objects.get(pk=employer_id), User.objects.get(pk=user_id)
    barrier.wait()
    result = services.transaction_save_single(
        employer=employer, actor=user, business_type="enrol", raw=enrol_raw(id_number)
    )
    results.put("won" if result.ok else result.issues[0].code)
    connections.close_all()


def test_exactly_one_process_wins_the_person_lock_every_round():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    seed_params()
    employers = [EmployerFactory(is_vip=True) for _ in range(2)]
    users = [OperatorFactory(employer=e) for e in employers]
    ctx = multiprocessing.get_context("fork")
    for _ in range(ROUNDS):
        id_number = make_resident_id(dt.date(1990, 1, 1))
        barrier, results = ctx.Barrier(WORKERS), ctx.Queue()
        connections.close_all()
        procs = [
            ctx.Process(target=_race, args=(barrier, employers[i % 2].pk, users[i % 2].pk, id_number, results))
            for i in range(WORKERS)
        ]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join(60)
            assert proc.exitcode == 0
        outcomes = sorted(results.get(timeout=5) for _ in range(WORKERS))
        assert outcomes.count("won") == 1, outcomes
        assert set(outcomes) - {"won"} <= {"LOCKED_HERE", "LOCKED_ELSEWHERE"}
    assert PersonLock.objects.count() == ROUNDS
    assert Transaction.objects.count() == ROUNDS  # the losers left no transaction behind
