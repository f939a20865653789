"""首页 runs a constant number of queries, however long the employer's history is."""

from __future__ import annotations

import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shebao.workflow.models import Mode, State
from tests.factories import ItemFactory, TransactionFactory

pytestmark = pytest.mark.django_db

# Every state, single and batch, returned with reasons: whatever a row of either list shows.
# The first three fill both lists (an empty list skips its page query).
MIX = [
    (State.SAVED, Mode.SINGLE),
    (State.FINISHED, Mode.BATCH),
    (State.RETURNED, Mode.SINGLE),
    (State.IMPORTING, Mode.BATCH),
    (State.AUDITING, Mode.SINGLE),
    (State.REVIEW, Mode.BATCH),
    (State.FINISHED, Mode.SINGLE),
    (State.CANCELLED, Mode.SINGLE),
    (State.RETURNED, Mode.BATCH),
    (State.SAVED, Mode.BATCH),
]


def _add_transactions(mix, employer, user, count: int) -> None:
    for state, mode in itertools.islice(mix, count):
        tx = TransactionFactory(
            employer=employer,
            business_type="enrol",
            mode=mode,
            operator=user,
            state=state,
            total_count=3 if mode == Mode.BATCH else 1,
            returned=state == State.RETURNED,
            return_reasons=[{"code": "CLERK_RETURNED", "field": "", "params": {"reason": "材料不全"}}]
            if state == State.RETURNED
            else [],
            applied_count=2 if state == State.FINISHED else 0,
            audit_failed_count=1 if mode == Mode.BATCH else 0,
        )
        ItemFactory(transaction=tx, row_no=1, id_number="420102199001010011", name="张三", data={"name": "张三"})


def _home_queries(client) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/home/")
    assert response.status_code == 200
    return len(queries.captured_queries), response.content.decode()


def test_home_query_count_does_not_grow_with_history(operator_client, vip_employer):
    client = operator_client(vip_employer)
    mix = itertools.cycle(MIX)
    _add_transactions(mix, vip_employer, client.user, 3)
    client.get("/home/")  # the first request may load per-process caches
    few, page = _home_queries(client)
    assert page.count('data-serial="') == 3

    _add_transactions(mix, vip_employer, client.user, 27)
    many, page = _home_queries(client)
    assert page.count('data-serial="') == 27  # 3 are cancelled; each list holds less than a page
    assert many == few

    _add_transactions(mix, vip_employer, client.user, 70)
    paged, page = _home_queries(client)
    assert page.count('data-serial="') == 40  # 20 per list: the pages are full
    assert paged == few
