"""A token reaches its own employer's data and nothing else: another employer's transactions
do not exist for it, a revoked or orphaned token is refused everywhere, a read-only token
changes nothing, and a token is never a login to the pages or the back office."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from shebao.accounts.models import Membership
from shebao.api import tokens
from shebao.batch import services as batch_services
from shebao.batch.jobs import import_job
from shebao.workflow import services as engine
from shebao.workflow.models import Item, Transaction
from tests.batch.conftest import enrol_row, xlsx_bytes
from tests.factories import OperatorFactory, make_resident_id
from tests.workflow.helpers import enrol_raw

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def bearer(secret: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


@pytest.fixture
def world(params, vip_employer, ordinary_employer):
    """A: the ordinary employer, with its own saved enrolment; B: the VIP employer, with a
    finished enrolment (its person is B's), a saved one and an imported batch."""
    admin_a = OperatorFactory(employer=ordinary_employer)
    admin_b = OperatorFactory(employer=vip_employer)
    own = engine.transaction_save_single(
        employer=ordinary_employer, actor=admin_a, business_type="enrol", raw=enrol_raw(make_resident_id())
    ).transaction
    b_person = make_resident_id()
    finished = engine.transaction_save_single(
        employer=vip_employer, actor=admin_b, business_type="enrol", raw=enrol_raw(b_person, name="李四")
    ).transaction
    finished = engine.transaction_submit(tx=finished, actor=admin_b, version=finished.version)
    assert engine.run_audit(finished.pk) == "finished"
    saved = engine.transaction_save_single(
        employer=vip_employer, actor=admin_b, business_type="enrol", raw=enrol_raw(make_resident_id())
    ).transaction
    batch = batch_services.batch_upload(
        employer=vip_employer,
        actor=admin_b,
        business_type="enrol",
        filename="增员.xlsx",
        data=xlsx_bytes([enrol_row(), enrol_row("110101199003077777")]),
    )
    import_job(batch.pk)
    batch.refresh_from_db()
    return {
        "a": ordinary_employer,
        "admin_a": admin_a,
        "own": own,
        "b_person": b_person,
        "b_txs": [finished, saved, batch],
        "b_batch": batch,
        "writer": tokens.token_create(employer=ordinary_employer, actor=admin_a, name="人事系统", scope="write"),
        "reader": tokens.token_create(employer=ordinary_employer, actor=admin_a, name="报表", scope="read"),
    }


def _calls(tx: Transaction, item_id: int) -> list[tuple[str, str, dict | None]]:
    """Every operation on one transaction: (method, path, JSON body)."""
    base = f"/api/v1/transactions/{tx.pk}"
    version = {"version": tx.version}
    return [
        ("get", base, None),
        ("put", base, {"version": tx.version, "row": enrol_raw(make_resident_id())}),
        ("post", f"{base}/submit", version),
        ("post", f"{base}/withdraw", version),
        ("post", f"{base}/cancel", version),
        ("get", f"{base}/items", None),
        ("post", f"{base}/items/delete", {"version": tx.version, "item_ids": [item_id]}),
        ("post", f"{base}/attachments", "multipart"),
        ("get", f"{base}/failures/import", None),
        ("get", f"{base}/failures/import/xlsx", None),
        ("get", f"{base}/failures/audit", None),
        ("get", f"{base}/failures/audit/xlsx", None),
    ]


def _send(client: Client, method: str, path: str, body, secret: str):
    if body == "multipart":
        from django.core.files.uploadedfile import SimpleUploadedFile

        scan = SimpleUploadedFile("a.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
        return client.post(path, {"material": "身份证", "file": scan}, **bearer(secret))
    if body is None:
        return getattr(client, method)(path, **bearer(secret))
    return getattr(client, method)(path, data=json.dumps(body), content_type="application/json", **bearer(secret))


def _snapshot() -> list[tuple]:
    return sorted(Transaction.objects.values_list("id", "state", "version")) + sorted(
        Item.objects.values_list("id", "status")
    )


def test_another_employers_transactions_do_not_exist(world):
    client = Client()
    before = _snapshot()
    for tx in world["b_txs"]:
        item = Item.objects.filter(transaction=tx).first()
        for method, path, body in _calls(tx, item.pk if item else 1):
            response = _send(client, method, path, body, world["writer"].secret)
            assert response.status_code == 404, (method, path, response.content[:300])
            assert response["Content-Type"] == PROBLEM
            assert response.json()["code"] == "NOT_FOUND"
    assert _snapshot() == before
    listed = client.get("/api/v1/transactions", **bearer(world["writer"].secret)).json()
    assert [t["id"] for t in listed["items"]] == [world["own"].pk]


def test_persons_and_retirees_never_show_another_employers_persons(world):
    client = Client()
    for q in ("", world["b_person"], world["b_person"][:6], "李四"):
        persons = client.get("/api/v1/persons", {"q": q}, **bearer(world["writer"].secret))
        assert persons.status_code == 200
        assert world["b_person"] not in json.dumps(persons.json())
        retirees = client.get("/api/v1/retirees", {"q": q}, **bearer(world["writer"].secret))
        assert retirees.status_code == 200 and retirees.json()["items"] == []


def test_a_revoked_token_is_refused_everywhere(world):
    client = Client()
    tokens.token_revoke(employer=world["a"], actor=world["admin_a"], token_id=world["writer"].token.pk)
    own = world["own"]
    paths = ["/api/v1/me", "/api/v1/types", "/api/v1/transactions", "/api/v1/persons", "/api/v1/enrol/template"]
    for path in paths:
        response = client.get(path, **bearer(world["writer"].secret))
        assert response.status_code == 401 and response["Content-Type"] == PROBLEM, path
    before = _snapshot()
    for method, path, body in _calls(own, 1):
        response = _send(client, method, path, body, world["writer"].secret)
        assert response.status_code == 401, (method, path)
        assert response.json()["code"] == "TOKEN_INVALID"
    assert _snapshot() == before


def test_a_read_only_token_changes_nothing(world):
    client = Client()
    own = world["own"]
    before = _snapshot()
    item = Item.objects.get(transaction=own)
    writes = [(m, p, b) for m, p, b in _calls(own, item.pk) if m != "get"]
    writes += [
        ("post", "/api/v1/enrol/transactions", {"row": enrol_raw(make_resident_id())}),
        ("post", "/api/v1/enrol/batches", {"rows": [enrol_raw(make_resident_id())]}),
    ]
    for method, path, body in writes:
        response = _send(client, method, path, body, world["reader"].secret)
        # items/delete of a single transaction does not exist as a batch: 404 before the scope
        assert response.status_code in (403, 404), (method, path, response.content[:300])
        if response.status_code == 403:
            assert response.json()["code"] == "TOKEN_READ_ONLY"
    assert _snapshot() == before
    assert client.get(f"/api/v1/transactions/{own.pk}", **bearer(world["reader"].secret)).status_code == 200


def test_a_token_is_not_a_login_to_the_pages(world):
    client = Client()
    for path in ("/backoffice/", "/home/", "/admin/", "/", "/batch/enrol/", "/inbox/"):
        response = client.get(path, **bearer(world["writer"].secret))
        assert response.status_code in (301, 302, 404), (path, response.status_code)
        if response.status_code in (301, 302):
            assert "login" in response["Location"], (path, response["Location"])


def test_a_token_stops_when_its_creators_membership_ends(world):
    client = Client()
    assert client.get("/api/v1/me", **bearer(world["writer"].secret)).status_code == 200
    Membership.objects.filter(user=world["admin_a"], employer=world["a"]).update(active=False)
    response = client.get("/api/v1/me", **bearer(world["writer"].secret))
    assert response.status_code == 401 and response.json()["code"] == "TOKEN_INVALID"


def test_validate_never_reveals_another_employers_person(world):
    client = Client()

    def codes(id_number: str) -> list:
        response = client.post(
            "/api/v1/enrol/validate",
            data=json.dumps({"rows": [enrol_raw(id_number, name="李四")]}),
            content_type="application/json",
            **bearer(world["writer"].secret),
        )
        assert response.status_code == 200, response.content
        out = response.json()
        assert "武汉VIP" not in json.dumps(out, ensure_ascii=False)
        return [sorted(i["code"] for i in row["issues"]) for row in out["rows"]]

    assert codes(world["b_person"]) == codes(make_resident_id())
