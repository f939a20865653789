"""Generated input on every form and every URL with an id: the answer is never a 5xx.

The test Client re-raises an unhandled exception, so a crash fails with its traceback and
the smallest input hypothesis found.
"""

from __future__ import annotations

import string
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shebao.business.enrol import FIELDS
from tests.security.conftest import fill, logged_in, project_urls

pytestmark = pytest.mark.django_db

FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                           HealthCheck.too_slow])

NASTY = [
    "", " ", "\x00", "0", "-1", "1e309", "NaN", "99999999999999999999999", "-99999999999999999999", "1.5",
    "9223372036854775808", "2147483648", "<script>alert(1)</script>", "' OR 1=1 --", "%00", "../../etc/passwd",
    "２０２５年１３月", "2025-02-30", "0000-00", "9999-12", "1900-01", "Ｘ", "𠀾", "\u202e", "\ufeff", "a" * 5000,
    "420102199001011236", "11010519491231002x", "130503670401001", "1.101051966011026e+17", "01", "02", "03",
    "男", "女", "养老、工伤", "是", "否", "城镇", "工人", "干部", "劳动合同", "13800000000", "6500", "3000",
    "1,000,000",
]

any_text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=40)
value = st.one_of(st.sampled_from(NASTY), any_text)
field_values = st.fixed_dictionaries({}, optional={spec.name: value for spec in FIELDS})
versions = st.one_of(st.integers(min_value=-(2**70), max_value=2**70).map(str), st.sampled_from(NASTY), any_text)
ids = st.one_of(st.integers(min_value=0, max_value=10**25).map(str), st.sampled_from(NASTY),
                st.text(alphabet=string.printable, max_size=20))


@pytest.fixture
def op(world):
    """One logged-in operator Client per test, reused by every example."""
    return logged_in(world.operator, world.employer)


@pytest.fixture
def clerk(world):
    return logged_in(world.clerk)


# Each example of these hashes a password with Argon2 or renders a PDF: fewer examples.
SLOW = settings(FUZZ, max_examples=20)


def ok(response) -> None:
    assert response.status_code < 500, response.status_code


def _post(fields: dict) -> dict:
    data = dict(fields)
    if "insurance_types" in data:
        data["insurance_types"] = [part for part in data["insurance_types"].split("、") if part] or [""]
    return data


# --- employer forms ---------------------------------------------------------------------


@FUZZ
@given(fields=field_values)
def test_fuzz_single_new(world, op, fields):
    client = op
    ok(client.post("/business/enrol/single/", _post(fields)))


@FUZZ
@given(fields=field_values, touched=st.lists(st.sampled_from([s.name for s in FIELDS] + ["x", ""]), max_size=4))
def test_fuzz_check_fields(world, op, fields, touched):
    client = op
    response = client.post("/business/enrol/check/", {**_post(fields), "_touched": touched})
    ok(response)


@FUZZ
@given(action=st.one_of(st.sampled_from(["save", "submit", "cancel", "withdraw", ""]), any_text),
       version=versions, fields=field_values, which=st.sampled_from(["saved", "review"]))
def test_fuzz_tx_action(world, op, action, version, fields, which):
    client = op
    tx = getattr(world, which)
    ok(client.post(f"/tx/{tx.pk}/action/", {"action": action, "version": version, **_post(fields)}))


@FUZZ
@given(version=versions, payload=st.binary(max_size=2048), name=st.sampled_from(["a.jpg", "a.png", "a", "照片.JPG"]))
def test_fuzz_tx_photo(world, op, version, payload, name):
    client = op
    photo = SimpleUploadedFile(name, payload, content_type="image/jpeg")
    ok(client.post(f"/tx/{world.saved.pk}/photo/", {"version": version, "photo": photo}))


@FUZZ
@given(params=st.fixed_dictionaries({}, optional={k: value for k in ("type", "serial", "from", "to", "todo_page",
                                                                       "done_page", "q", "page")}))
def test_fuzz_employer_lists(world, op, params):
    client = op
    ok(client.get("/home/", params))
    ok(client.get("/persons/", params))


@FUZZ
@given(code=st.one_of(st.sampled_from(["enrol", "suspend", "ENROL", "..", "x" * 300]), any_text))
def test_fuzz_business_code(world, op, code):
    client = op
    quoted = quote(code, safe="")
    for url in (f"/business/{quoted}/", f"/business/{quoted}/single/", f"/batch/template/{quoted}/",
                f"/batch/results/{quoted}/", f"/batch/upload/{quoted}/"):
        ok(client.get(url))
    ok(client.post(f"/business/{quoted}/check/", {"name": "张三"}))


# --- login and password forms -----------------------------------------------------------


@SLOW
@given(number=value, username=value, password=value)
def test_fuzz_login(db, number, username, password):
    from django.test import Client

    ok(Client().post("/accounts/login/", {"employer_number": number, "username": username, "password": password}))


@SLOW
@given(old=value, new1=value, new2=value)
def test_fuzz_password_change(world, op, old, new1, new2):
    client = op
    ok(client.post("/accounts/password/", {"old_password": old, "new_password1": new1, "new_password2": new2}))


# --- clerk forms ------------------------------------------------------------------------


@FUZZ
@given(action=st.sampled_from(["approve", "return", "cancel", "mark-failed"]), version=versions, reason=value,
       item=versions, result=value, page=value)
def test_fuzz_backoffice_actions(world, clerk, action, version, reason, item, result, page):
    client = clerk
    ok(client.post(f"/backoffice/tx/{world.review.pk}/{action}/",
                   {"version": version, "reason": reason, "item": item, "result": result, "page": page}))


@FUZZ
@given(params=st.fixed_dictionaries({}, optional={k: value for k in ("tab", "serial", "employer", "days", "page",
                                                                       "result", "q")}))
def test_fuzz_backoffice_lists(world, clerk, params):
    client = clerk
    ok(client.get("/backoffice/", params))
    ok(client.get(f"/backoffice/tx/{world.review.pk}/", params))


# --- batch upload -----------------------------------------------------------------------


@FUZZ
@given(payload=st.one_of(st.binary(max_size=4096), st.sampled_from([
    b"", b"PK\x03\x04" + b"\x00" * 100, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100,
    "证件号码,姓名\n420102199001011236,张三\n".encode("gb18030"), b"\xef\xbb\xbf\xe8\xaf\x81\n"])),
    name=st.sampled_from(["a.xlsx", "a.xls", "a.csv", "a.txt", "a"]), fields=field_values)
def test_fuzz_batch_upload(world, op, payload, name, fields):
    client = op
    ok(client.post("/batch/upload/enrol/", {**_post(fields), "file": SimpleUploadedFile(name, payload)}))


# --- every URL with an id ---------------------------------------------------------------


ID_ROUTES = [(route, name) for route, name in project_urls() if "<int:pk>" in route]


@FUZZ
@given(pk=ids, extra=ids)
def test_fuzz_urls_with_ids(world, op, clerk, pk, extra):
    operator = op
    for route, name in ID_ROUTES:
        url = fill(route, {"pk": quote(pk, safe=""), "code": "enrol", "fmt": quote(extra, safe=""),
                           "kind": quote(extra, safe=""), "job": quote(extra, safe=""), "number": quote(pk, safe="")})
        client = clerk if name.startswith("backoffice:") else operator
        ok(client.get(url))


@SLOW
@given(fmt=st.one_of(st.sampled_from(["pdf", "xlsx", "PDF", "exe", ""]), any_text), kind=any_text,
       which=st.sampled_from(["saved", "review"]))
def test_fuzz_urls_of_real_transactions(world, op, fmt, kind, which):
    client = op
    pk = getattr(world, which).pk
    for route, _name in ID_ROUTES:
        if route.startswith("/backoffice/"):
            continue
        url = fill(route, {"pk": pk, "code": "enrol", "fmt": quote(fmt, safe=""), "kind": quote(kind, safe=""),
                           "job": 1, "number": 1})
        ok(client.get(url))


def test_every_id_route_is_fuzzed():
    names = {name for _, name in ID_ROUTES}
    assert {"web:tx_detail", "web:tx_action", "web:tx_status", "web:tx_photo", "exports:form",
            "backoffice:detail"} <= names
