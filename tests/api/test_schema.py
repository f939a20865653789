"""The served OpenAPI document against the API itself (schemathesis): every operation, with a
write token of an employer that has a saved enrolment and an imported batch, answers no 5xx
and only what the document says (status codes, content types, bodies)."""

from __future__ import annotations

import itertools

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from shebao.api import tokens
from shebao.batch import services as batch_services
from shebao.batch.jobs import import_job
from shebao.workflow import registry
from shebao.workflow import services as engine
from tests.batch.conftest import enrol_row, xlsx_bytes
from tests.factories import OperatorFactory, make_resident_id
from tests.workflow.helpers import enrol_raw

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance, status_code_conformance]


@pytest.fixture
def keep_connection():
    """Requests go straight to the WSGI application, not through Django's test Client: like
    the Client, keep the test's database connection open across them (it holds the test's
    transaction, which closing it at the end of a request would lose on PostgreSQL)."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_data(keep_connection, db, params, vip_employer, settings):
    """A write token of an employer with a saved single enrolment and an imported batch (one
    row failed); the rate and 免费预检 limits out of the way."""
    settings.SHEBAO_API_RATE_PER_MINUTE = 1_000_000
    settings.SHEBAO_API_VALIDATE_PER_DAY = 1_000_000
    admin = OperatorFactory(employer=vip_employer)
    saved = engine.transaction_save_single(
        employer=vip_employer, actor=admin, business_type="enrol", raw=enrol_raw(make_resident_id())
    )
    assert saved.ok, saved.issues
    data = xlsx_bytes([enrol_row(), enrol_row(), enrol_row("110101199003077777")])
    batch = batch_services.batch_upload(
        employer=vip_employer, actor=admin, business_type="enrol", filename="增员.xlsx", data=data
    )
    import_job(batch.pk)
    secret = tokens.token_create(employer=vip_employer, actor=admin, name="人事系统", scope="write").secret
    codes = [b.code for b in registry.all_types()]
    return {
        "secret": secret,
        "tx_ids": itertools.cycle([saved.transaction.pk, batch.pk, None]),
        "codes": itertools.cycle([*codes, None]),
        "kinds": itertools.cycle(["import", "audit", None]),
    }


def _aim(case, data: dict) -> None:
    """Most generated ids and type codes name nothing: two cases in three are sent to a real
    one (the saved enrolment, the batch, each registered type, each failure list)."""
    path = case.path_parameters if case.path_parameters is not None else {}
    for name, source in (("tx_id", "tx_ids"), ("business_type", "codes"), ("kind", "kinds")):
        if name in path:
            chosen = next(data[source])
            if chosen is not None:
                path[name] = chosen
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data['secret']}"}


def _fuzz(operation, mode: GenerationMode, examples: int, data: dict, seen: set[int]) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    def call(case) -> None:
        _aim(case, data)
        seen.add(case.call_and_validate(checks=CHECKS).status_code)

    call()


def test_every_operation_answers_as_documented(api_data):
    from config.wsgi import application

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
    failures: dict[str, str] = {}
    seen: dict[str, set[int]] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode, examples in ((GenerationMode.POSITIVE, 15), (GenerationMode.NEGATIVE, 8)):
            try:
                _fuzz(operation, mode, examples, api_data, seen.setdefault(operation.label, set()))
            except (Exception, BaseExceptionGroup) as error:  # every operation is tried; all failures are listed
                failures[f"{operation.label} ({mode})"] = f"{type(error).__name__}: {error}"[:3000]
    assert len(seen) >= 20
    assert not failures, "\n\n".join(f"{label}: {text}" for label, text in failures.items())
    # The real transactions were reached: each operation on one answered 200 at least once.
    for label in ("GET /api/v1/transactions/{tx_id}", "GET /api/v1/transactions/{tx_id}/items"):
        assert 200 in seen[label], seen[label]
