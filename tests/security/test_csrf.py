"""CSRF is enforced on every POST: without the token nothing happens (403)."""

from __future__ import annotations

import pytest
from django.test import Client

from shebao.workflow.models import State, Transaction
from tests.factories import DEFAULT_PASSWORD, AdminFactory, ClerkFactory
from tests.security.conftest import fill, logged_in, project_urls
from tests.workflow.helpers import enrol_raw

pytestmark = pytest.mark.django_db


def _post_data(route: str) -> dict:
    if "action" in route:
        return {"action": "cancel", "version": "1"}
    if "single" in route or "check" in route:
        data = enrol_raw("420102199001011236")
        data["insurance_types"] = []
        return data
    return {"reason": "测试", "version": "1"}


def test_every_project_url_refuses_a_post_without_token(world):
    urls = project_urls()
    assert len(urls) >= 20  # the walk found the employer, clerk, batch and export URLs
    clients = {
        "anonymous": Client(enforce_csrf_checks=True),
        "operator": logged_in(world.operator, world.employer, enforce_csrf_checks=True),
        "clerk": logged_in(world.clerk, enforce_csrf_checks=True),
    }
    failures = []
    for route, name in urls:
        pk = world.review.pk if name.startswith("backoffice:") else world.saved.pk
        url = fill(
            route,
            {
                **{"pk": pk, "code": "enrol", "fmt": "pdf", "kind": "import", "job": 1, "number": 1},
                **{"tx_id": pk, "business_type": "enrol", "delivery": 1},
            },
        )
        # The API takes no session, only a token in the Authorization header, which no other
        # site can make a browser send: a session's POST there is refused as unauthenticated
        # (401), by CSRF where the operation is the document or its docs (403), or as a method
        # the operation does not take (405).
        expected = {401, 403, 405} if name.startswith("api-v1:") else {403}
        for who, client in clients.items():
            response = client.post(url, _post_data(route))
            if response.status_code not in expected:
                failures.append((name, url, who, response.status_code))
    assert failures == []
    # Nothing happened: the draft is still a draft, the review still waits for the clerk.
    assert Transaction.objects.get(pk=world.saved.pk).state == State.SAVED
    assert Transaction.objects.get(pk=world.review.pk).state == State.REVIEW


@pytest.mark.parametrize(
    "url",
    [
        "/accounts/login/",
        "/accounts/logout/",
        "/accounts/password/",
        "/i18n/setlang/",
        "/business/enrol/single/",
        "/business/enrol/check/",
    ],
)
def test_named_endpoints_answer_403_without_token(world, url):
    client = logged_in(world.operator, world.employer, enforce_csrf_checks=True)
    assert client.post(url, {"username": "x", "password": "y", "language": "en"}).status_code == 403


def test_transaction_endpoints_answer_403_without_token(world):
    client = logged_in(world.operator, world.employer, enforce_csrf_checks=True)
    tx = world.saved
    for action in ("save", "submit", "cancel"):
        assert client.post(f"/tx/{tx.pk}/action/", {"action": action, "version": tx.version}).status_code == 403
    assert client.post(f"/tx/{tx.pk}/photo/", {"version": tx.version}).status_code == 403
    tx.refresh_from_db()
    assert tx.state == State.SAVED and tx.version == world.saved.version


def test_backoffice_actions_answer_403_without_token(world):
    client = logged_in(world.clerk, enforce_csrf_checks=True)
    tx = world.review
    for action in ("approve", "return", "cancel", "mark-failed"):
        response = client.post(f"/backoffice/tx/{tx.pk}/{action}/", {"version": tx.version, "reason": "测试原因"})
        assert response.status_code == 403, action
    tx.refresh_from_db()
    assert tx.state == State.REVIEW


def test_admin_site_posts_need_the_token(db):
    admin = AdminFactory()
    client = logged_in(admin, enforce_csrf_checks=True)
    assert client.post("/admin/accounts/user/add/", {"username": "evil"}).status_code == 403
    assert (
        Client(enforce_csrf_checks=True)
        .post("/admin/login/", {"username": admin.username, "password": DEFAULT_PASSWORD})
        .status_code
        == 403
    )


def test_a_post_with_the_token_is_accepted(db):
    """The control: the same checks pass with the token the page hands out."""
    ClerkFactory(username="csrfclerk")
    client = Client(enforce_csrf_checks=True)
    page = client.get("/accounts/login/")
    assert 'name="csrfmiddlewaretoken"' in page.content.decode()
    token = page.context["csrf_token"]
    response = client.post(
        "/accounts/login/", {"username": "csrfclerk", "password": DEFAULT_PASSWORD, "csrfmiddlewaretoken": str(token)}
    )
    assert response.status_code == 302 and response["Location"] == "/backoffice/"


def test_csrf_cookie_and_session_cookie_flags(db):
    client = Client()
    client.get("/accounts/login/")
    ClerkFactory(username="cookieclerk")
    response = client.post("/accounts/login/", {"username": "cookieclerk", "password": DEFAULT_PASSWORD})
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
