"""Fixtures for the security tests: real employers, users and transactions in known states."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from shebao.workflow import services
from shebao.workflow.models import State, Transaction
from tests.factories import ClerkFactory, EmployerFactory, OfficeFactory, OperatorFactory, make_resident_id, seed_params
from tests.workflow.helpers import enrol_raw


@dataclass
class World:
    employer: object
    operator: object
    clerk: object
    saved: Transaction  # the operator's draft (保存, 未提交)
    review: Transaction  # the operator's transaction waiting for the clerk


def save_tx(employer, user, raw) -> Transaction:
    result = services.transaction_save_single(employer=employer, actor=user, business_type="enrol", raw=raw)
    assert result.ok, [i.code for i in result.issues]
    return result.transaction


@pytest.fixture
def world(db) -> World:
    seed_params()
    office = OfficeFactory(code="420102")
    employer = EmployerFactory(office=office, is_vip=False)
    operator = OperatorFactory(employer=employer)
    clerk = ClerkFactory(office=office)
    saved = save_tx(employer, operator, enrol_raw(make_resident_id(dt.date(1990, 5, 17))))
    review = save_tx(employer, operator, enrol_raw(make_resident_id(dt.date(1988, 3, 4))))
    services.transaction_submit(tx=review, actor=operator, version=review.version)
    assert services.run_audit(review.pk) == "review"
    review.refresh_from_db()
    assert review.state == State.REVIEW
    return World(employer, operator, clerk, saved, review)


def logged_in(user, employer=None, **client_kwargs) -> Client:
    client = Client(**client_kwargs)
    client.force_login(user)
    if employer is not None:
        session = client.session
        session["employer_id"] = employer.pk
        session.save()
    return client


def project_urls(*, admin: bool = False) -> list[tuple[str, str]]:
    """(route, name) of every URL of the project; the administration's only with admin=True."""
    out = []

    def walk(patterns, prefix, namespace):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if entry.namespace == "admin" and not admin:
                    continue
                walk(entry.url_patterns, prefix + str(entry.pattern), entry.namespace or namespace)
            elif isinstance(entry, URLPattern):
                name = f"{namespace}:{entry.name}" if namespace else str(entry.name)
                out.append(("/" + prefix + str(entry.pattern), name))

    walk(get_resolver().url_patterns, "", "")
    return out


def route_parameters(route: str) -> list[str]:
    """The names of a route's parts: <conv:name> of a path, (?P<name>…) of a regex."""
    import re

    return re.findall(r"<(?:\w+:)?(\w+)>", route.replace("(?P<", "(")) + re.findall(r"\(\?P<(\w+)>", route)


def fill(route: str, values: dict[str, str]) -> str:
    """Replace <conv:name> parts of a route (and a regex route's groups) with values by name
    (default "1")."""
    import re

    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(values.get(m.group(1), "1")), route)
    route = route.replace("^", "").replace("$", "")
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values.get(m.group(1), "1")), route)
