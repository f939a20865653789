"""Generated input against every clerk URL: never a server error."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import review_tx

pytestmark = pytest.mark.django_db

junk = st.one_of(st.text(max_size=60), st.integers(min_value=-(2**70), max_value=2**70).map(str), st.just(""))


@pytest.fixture
def clerk_client(params, employer_a, operator_a, clerk_a):
    tx = review_tx(employer_a, operator_a, 1)
    client = Client()
    client.force_login(clerk_a)
    return client, tx


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.dictionaries(st.sampled_from(["version", "reason", "item", "result", "page"]), junk, max_size=5),
    name=st.sampled_from(["approve", "return", "cancel", "mark_failed"]),
)
def test_actions_never_answer_5xx(clerk_client, data, name):
    client, tx = clerk_client
    data = {k: v.replace("\x00", "") for k, v in data.items()}
    response = client.post(reverse(f"backoffice:{name}", args=[tx.pk]), data)
    assert response.status_code < 500


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    query=st.dictionaries(
        st.sampled_from(["tab", "serial", "employer", "days", "page", "result", "item"]), junk, max_size=5
    )
)
def test_pages_never_answer_5xx(clerk_client, query):
    client, tx = clerk_client
    query = {k: v.replace("\x00", "") for k, v in query.items()}
    for url in (
        reverse("backoffice:queue"),
        reverse("backoffice:detail", args=[tx.pk]),
        reverse("backoffice:photo", args=[tx.pk]),
    ):
        assert client.get(url, query).status_code < 500


def test_huge_ids_are_404(clerk_client):
    client, _tx = clerk_client
    for url in ("/backoffice/tx/99999999999999999999999999/", "/backoffice/tx/99999999999999999999999999/photo/"):
        assert client.get(url).status_code == 404
    assert client.post("/backoffice/tx/99999999999999999999999999/approve/", {"version": 1}).status_code == 404


def test_pages_work_in_english(clerk_client):
    client, tx = clerk_client
    client.post(reverse("set_language"), {"language": "en"})
    page = client.get(reverse("backoffice:detail", args=[tx.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "ID number" in body and "Enrolment (resume)" in body
    assert client.get(reverse("backoffice:queue")).status_code == 200
