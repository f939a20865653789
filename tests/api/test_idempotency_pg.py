"""Idempotency-Key under concurrency (PostgreSQL): eight clients send the same create with the
same key at once; one transaction is made, every answer is its 201 or 409 in progress, and a
retry replays the 201. The rate limit, counted in the database, refuses the request past it."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import connection
from django.test import Client

from shebao.api import tokens
from shebao.workflow.models import Transaction
from tests.factories import OperatorFactory, make_resident_id
from tests.workflow.helpers import enrol_raw

N = 8


def bearer(secret: str, **headers) -> dict:
    return {
        "HTTP_AUTHORIZATION": f"Bearer {secret}",
        **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()},
    }


@pytest.fixture
def writer(params, vip_employer) -> str:
    admin = OperatorFactory(employer=vip_employer)
    return tokens.token_create(employer=vip_employer, actor=admin, name="人事系统", scope="write").secret


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_with_one_key_make_one_transaction(writer):
    body = json.dumps({"row": enrol_raw(make_resident_id())})
    barrier = threading.Barrier(N)
    answers: list = [None] * N

    def send(index: int) -> None:
        try:
            client = Client()
            barrier.wait(timeout=30)
            answers[index] = client.post(
                "/api/v1/enrol/transactions",
                data=body,
                content_type="application/json",
                **bearer(writer, **{"Idempotency-Key": "same-key-1"}),
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(N)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(a is not None for a in answers)
    statuses = sorted(a.status_code for a in answers)
    assert set(statuses) <= {201, 409}, statuses
    created = [a for a in answers if a.status_code == 201]
    assert created, statuses
    for answer in created:
        assert answer.json() == created[0].json()
    for answer in answers:
        if answer.status_code == 409:
            assert answer.json()["code"] == "IDEMPOTENCY_IN_PROGRESS" and answer["Retry-After"]
    assert Transaction.objects.count() == 1
    retry = Client().post(
        "/api/v1/enrol/transactions",
        data=body,
        content_type="application/json",
        **bearer(writer, **{"Idempotency-Key": "same-key-1"}),
    )
    assert retry.status_code == 201 and retry["Idempotent-Replayed"] == "true"
    assert retry.json() == created[0].json()
    assert Transaction.objects.count() == 1


@pytest.mark.django_db
def test_the_rate_limit_refuses_the_request_past_it(writer, settings):
    settings.SHEBAO_API_RATE_PER_MINUTE = 5
    client = Client()
    for _ in range(5):
        assert client.get("/api/v1/me", **bearer(writer)).status_code == 200
    refused = client.get("/api/v1/types", **bearer(writer))
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["code"] == "RATE_LIMITED"
    assert 1 <= int(refused["Retry-After"]) <= 60
