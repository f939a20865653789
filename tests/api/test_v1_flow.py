"""The API end to end on the test client: a token of the employer's administrator, then every
kind of operation an HR system makes, each answered as documented."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from shebao.api import tokens
from shebao.workflow import services
from shebao.workflow.models import Event, Transaction
from tests.factories import OperatorFactory, make_resident_id
from tests.workflow.helpers import enrol_raw

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(params, vip_employer):
    return OperatorFactory(employer=vip_employer)


def bearer(secret: str, **headers) -> dict:
    return {
        "HTTP_AUTHORIZATION": f"Bearer {secret}",
        **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()},
    }


@pytest.fixture
def writer(vip_employer, admin) -> str:
    return tokens.token_create(employer=vip_employer, actor=admin, name="人事系统", scope="write").secret


@pytest.fixture
def reader(vip_employer, admin) -> str:
    return tokens.token_create(employer=vip_employer, actor=admin, name="报表", scope="read").secret


def post(client: Client, path: str, body: dict, secret: str, **headers):
    return client.post(path, data=json.dumps(body), content_type="application/json", **bearer(secret, **headers))


def test_single_enrolment_is_saved_submitted_and_finished(writer, vip_employer):
    client = Client()
    created = post(client, "/api/v1/enrol/transactions", {"row": enrol_raw(make_resident_id())}, writer)
    assert created.status_code == 201, created.content
    tx = created.json()
    assert tx["state"] == "saved" and tx["row"]["name"] == "张三"
    assert created["Location"] == f"/api/v1/transactions/{tx['id']}"
    submitted = post(client, f"/api/v1/transactions/{tx['id']}/submit", {"version": tx["version"]}, writer)
    assert submitted.status_code == 200, submitted.content
    assert submitted.json()["state"] == "auditing" and submitted.json()["final"] is False
    assert services.run_audit(tx["id"]) == "finished"
    got = client.get(f"/api/v1/transactions/{tx['id']}", **bearer(writer)).json()
    assert got["state"] == "finished" and got["final"] is True and got["counts"]["applied"] == 1
    listed = client.get("/api/v1/transactions?state=finished", **bearer(writer)).json()
    assert [t["id"] for t in listed["items"]] == [tx["id"]]


def test_a_row_with_errors_is_a_problem_with_the_rule_codes_in_both_languages(writer):
    response = post(Client(), "/api/v1/enrol/transactions", {"row": enrol_raw("110101199003077777")}, writer)
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422 and problem["code"] == problem["issues"][0]["code"]
    assert problem["issues"][0]["field"] == "id_number"
    assert problem["messages"]["zh-hans"] != problem["messages"]["en"]
    assert Transaction.objects.count() == 0


def test_english_detail_when_asked(writer):
    response = post(
        Client(),
        "/api/v1/enrol/transactions",
        {"row": enrol_raw("110101199003077777")},
        writer,
        **{"Accept-Language": "en"},
    )
    problem = response.json()
    assert problem["detail"] == problem["messages"]["en"]


def test_read_only_token_is_refused_for_writes_and_reads_fine(reader):
    client = Client()
    response = post(client, "/api/v1/enrol/transactions", {"row": enrol_raw(make_resident_id())}, reader)
    assert response.status_code == 403 and response.json()["code"] == "TOKEN_READ_ONLY"
    assert client.get("/api/v1/types", **bearer(reader)).status_code == 200
    assert Transaction.objects.count() == 0


def test_idempotency_key_replays_and_refuses_another_body(writer):
    client = Client()
    body = {"row": enrol_raw(make_resident_id())}
    first = post(client, "/api/v1/enrol/transactions", body, writer, **{"Idempotency-Key": "k-1"})
    again = post(client, "/api/v1/enrol/transactions", body, writer, **{"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again["Idempotent-Replayed"] == "true"
    assert Transaction.objects.count() == 1 and Event.objects.filter(action="create").count() == 1
    other = post(
        client,
        "/api/v1/enrol/transactions",
        {"row": enrol_raw(make_resident_id())},
        writer,
        **{"Idempotency-Key": "k-1"},
    )
    assert other.status_code == 422 and other.json()["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_validate_saves_nothing_and_reports_rows(writer):
    rows = [enrol_raw(make_resident_id()), enrol_raw("110101199003077777"), enrol_raw(make_resident_id())]
    rows[2]["id_number"] = rows[0]["id_number"]
    response = post(Client(), "/api/v1/enrol/validate", {"rows": rows}, writer)
    assert response.status_code == 200, response.content
    out = response.json()
    assert out["total"] == 3 and out["failed"] == 3 and out["saved"] is False
    codes = {r["row"]: {i["code"] for i in r["issues"]} for r in out["rows"]}
    # Numbered as the same rows in the template, after its title row: the first object is row 2.
    assert "DUPLICATE_IN_FILE" in codes[2] and "DUPLICATE_IN_FILE" in codes[4]
    assert Transaction.objects.count() == 0


def test_catalogue_and_schema(writer):
    client = Client()
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["openapi"].startswith("3.1")
    types = client.get("/api/v1/types", **bearer(writer)).json()
    assert any(t["code"] == "enrol" and t["batch"] for t in types)
    rules = client.get("/api/v1/rules", **bearer(writer)).json()
    assert any(r["code"] == "ID_CHECKSUM" and r["messages"]["en"] for r in rules["rules"])
    params = client.get("/api/v1/params?month=2026-06", **bearer(writer)).json()
    assert params["month"] == "2026-06" and params["limits"]
    assert client.get("/api/v1/me", **bearer(writer)).json()["scope"] == "write"
    assert client.get("/api/v1/docs").status_code == 200


def test_no_token_and_a_bad_token(writer):
    client = Client()
    missing = client.get("/api/v1/types")
    assert missing.status_code == 401 and missing["Content-Type"] == "application/problem+json"
    bad = client.get("/api/v1/types", HTTP_AUTHORIZATION="Bearer sb_nope")
    assert bad.status_code == 401 and bad.json()["code"] == "TOKEN_INVALID"


def test_a_field_the_type_does_not_have_is_refused_by_name(writer):
    row = {**enrol_raw(make_resident_id()), "nmae": "张三"}
    response = post(Client(), "/api/v1/enrol/transactions", {"row": row}, writer)
    assert response.status_code == 400 and response.json()["code"] == "UNKNOWN_FIELD"
    assert "nmae" in response.json()["messages"]["zh-hans"] and "nmae" in response.json()["messages"]["en"]
    assert Transaction.objects.count() == 0


def test_a_session_and_the_pages_language_cookie_count_for_nothing(writer, vip_employer, operator_client):
    """A browser's session does not authenticate at the API, and the pages' language cookie
    does not change the language the services answer in (Accept-Language does)."""
    browser = operator_client(vip_employer)
    browser.cookies["django_language"] = "en"
    assert browser.get("/home/").status_code == 200  # logged in on the pages
    assert browser.get("/api/v1/types").status_code == 401
    browser.defaults["HTTP_AUTHORIZATION"] = f"Bearer {writer}"
    problem = browser.post(
        "/api/v1/enrol/transactions",
        json.dumps({"row": enrol_raw("110101199003077777")}),
        content_type="application/json",
    ).json()
    assert problem["detail"] == problem["messages"]["zh-hans"] != problem["messages"]["en"]


def test_the_history_names_the_token_an_action_came_through(writer, admin, vip_employer, operator_client, clerk_client):
    client = Client()
    tx = post(client, "/api/v1/enrol/transactions", {"row": enrol_raw(make_resident_id())}, writer).json()
    post(client, f"/api/v1/transactions/{tx['id']}/submit", {"version": tx["version"]}, writer)
    assert services.run_audit(tx["id"]) == "finished"
    events = {e.action: e.detail for e in Event.objects.filter(transaction_id=tx["id"])}
    assert events["create"]["via"]["token"] == events["submit"]["via"]["token"] == "人事系统"
    assert "via" not in events["audit_passed"]  # the audit is the system's, not the token's
    page = operator_client(vip_employer, admin).get(reverse("web:tx_detail", kwargs={"pk": tx["id"]}))
    assert page.content.decode().count("经接口令牌“人事系统”") == 2
    clerk_page = clerk_client.get(reverse("backoffice:detail", kwargs={"pk": tx["id"]}))
    assert clerk_page.status_code == 200 and clerk_page.content.decode().count("经接口令牌“人事系统”") == 2
    # A page's own save names nobody's token, even right after an API request in this thread.
    saved = services.transaction_save_single(
        employer=vip_employer, actor=admin, business_type="enrol", raw=enrol_raw(make_resident_id(serial=2))
    )
    assert "via" not in Event.objects.get(transaction=saved.transaction, action="create").detail


def test_a_page_of_transactions_costs_the_same_queries_for_one_row_as_for_many(writer, admin, vip_employer):
    client = Client()

    def listed() -> int:
        with CaptureQueriesContext(connection) as queries:
            answer = client.get("/api/v1/transactions", **bearer(writer))
        assert answer.status_code == 200
        return len(queries.captured_queries)

    save = services.transaction_save_single
    listed()  # the token's first use writes its last-used time
    save(employer=vip_employer, actor=admin, business_type="enrol", raw=enrol_raw(make_resident_id(serial=1)))
    one = listed()
    for n in range(2, 7):
        save(employer=vip_employer, actor=admin, business_type="enrol", raw=enrol_raw(make_resident_id(serial=n)))
    assert listed() == one  # no query per row (a deferred column read row by row)


@pytest.mark.parametrize(("asked", "answered"), [("en-GB,en;q=0.9", "en"), ("zh-CN", "zh-hans"), ("", "zh-hans")])
def test_the_answer_names_the_language_it_is_in(writer, asked, answered):
    headers = {"Accept-Language": asked} if asked else {}
    answer = Client().get("/api/v1/me", **bearer(writer, **headers))
    assert answer.status_code == 200 and answer["Content-Language"] == answered
    refused = Client().get("/api/v1/me", **bearer("sb_nope", **headers))
    assert refused.status_code == 401 and refused["Content-Language"] == answered


def test_a_batch_row_with_a_field_the_type_does_not_have_is_refused_in_both_languages(writer):
    rows = [enrol_raw(make_resident_id(serial=1)), {**enrol_raw(make_resident_id(serial=2)), "nmae": "李四"}]
    response = post(Client(), "/api/v1/enrol/validate", {"rows": rows}, writer, **{"Accept-Language": "en"})
    problem = response.json()
    assert response.status_code == 400 and problem["code"] == "UNKNOWN_FIELD"
    assert problem["messages"]["zh-hans"].startswith("第 3 行含有该业务没有的字段：nmae")
    assert problem["detail"] == problem["messages"]["en"] and "nmae" in problem["detail"]
    assert "第" not in problem["detail"]  # in English, not the Chinese text again
