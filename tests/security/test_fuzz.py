"""Generated input on every form and every URL with an id: the answer is never a 5xx.

The test Client re-raises an unhandled exception, so a crash fails with its traceback and
the smallest input hypothesis found.
"""

from __future__ import annotations

import functools
import re
import string
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shebao.business.enrol import FIELDS
from tests.security.conftest import fill, logged_in, project_urls, route_parameters

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)

NASTY = [
    "",
    " ",
    "\x00",
    "0",
    "-1",
    "1e309",
    "NaN",
    "99999999999999999999999",
    "-99999999999999999999",
    "1.5",
    "9223372036854775808",
    "2147483648",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%00",
    "../../etc/passwd",
    "２０２５年１３月",
    "2025-02-30",
    "0000-00",
    "9999-12",
    "1900-01",
    "Ｘ",
    "𠀾",
    "\u202e",
    "\ufeff",
    "a" * 5000,
    "420102199001011236",
    "11010519491231002x",
    "130503670401001",
    "1.101051966011026e+17",
    "01",
    "02",
    "03",
    "男",
    "女",
    "养老、工伤",
    "是",
    "否",
    "城镇",
    "工人",
    "干部",
    "劳动合同",
    "13800000000",
    "6500",
    "3000",
    "1,000,000",
]

any_text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=40)
value = st.one_of(st.sampled_from(NASTY), any_text)
field_values = st.fixed_dictionaries({}, optional={spec.name: value for spec in FIELDS})
versions = st.one_of(st.integers(min_value=-(2**70), max_value=2**70).map(str), st.sampled_from(NASTY), any_text)
ids = st.one_of(
    st.integers(min_value=0, max_value=10**25).map(str),
    st.sampled_from(NASTY),
    st.text(alphabet=string.printable, max_size=20),
)


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
@given(
    action=st.one_of(st.sampled_from(["save", "submit", "cancel", "withdraw", ""]), any_text),
    version=versions,
    fields=field_values,
    which=st.sampled_from(["saved", "review"]),
)
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
@given(
    params=st.fixed_dictionaries(
        {}, optional={k: value for k in ("type", "serial", "from", "to", "todo_page", "done_page", "q", "page")}
    )
)
def test_fuzz_employer_lists(world, op, params):
    client = op
    ok(client.get("/home/", params))
    ok(client.get("/persons/", params))


@FUZZ
@given(code=st.one_of(st.sampled_from(["enrol", "suspend", "ENROL", "..", "x" * 300]), any_text))
def test_fuzz_business_code(world, op, code):
    client = op
    quoted = quote(code, safe="")
    for url in (
        f"/business/{quoted}/",
        f"/business/{quoted}/single/",
        f"/batch/template/{quoted}/",
        f"/batch/results/{quoted}/",
        f"/batch/upload/{quoted}/",
    ):
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
@given(
    action=st.sampled_from(["approve", "return", "cancel", "mark-failed"]),
    version=versions,
    reason=value,
    item=versions,
    result=value,
    page=value,
)
def test_fuzz_backoffice_actions(world, clerk, action, version, reason, item, result, page):
    client = clerk
    ok(
        client.post(
            f"/backoffice/tx/{world.review.pk}/{action}/",
            {"version": version, "reason": reason, "item": item, "result": result, "page": page},
        )
    )


@FUZZ
@given(
    params=st.fixed_dictionaries(
        {}, optional={k: value for k in ("tab", "serial", "employer", "days", "page", "result", "q")}
    )
)
def test_fuzz_backoffice_lists(world, clerk, params):
    client = clerk
    ok(client.get("/backoffice/", params))
    ok(client.get(f"/backoffice/tx/{world.review.pk}/", params))


# --- batch upload -----------------------------------------------------------------------


@FUZZ
@given(
    payload=st.one_of(
        st.binary(max_size=4096),
        st.sampled_from(
            [
                b"",
                b"PK\x03\x04" + b"\x00" * 100,
                b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100,
                "证件号码,姓名\n420102199001011236,张三\n".encode("gb18030"),
                b"\xef\xbb\xbf\xe8\xaf\x81\n",
            ]
        ),
    ),
    name=st.sampled_from(["a.xlsx", "a.xls", "a.csv", "a.txt", "a"]),
    fields=field_values,
)
def test_fuzz_batch_upload(world, op, payload, name, fields):
    client = op
    ok(client.post("/batch/upload/enrol/", {**_post(fields), "file": SimpleUploadedFile(name, payload)}))


# --- every URL pattern, every id, every query parameter ----------------------------------
#
# The URL resolver is walked (the administration's URLs included), every part of every route
# and every query parameter any page reads gets hostile values, as an operator, another
# employer's operator, a clerk, an administrator and nobody: no answer is ever a 5xx.

ROUTES = project_urls(admin=True)

# Ids as a hostile client sends them: beyond 64 bits, at and around its edges, negative,
# non-ASCII digits, dates at the ends of the calendar, empty, NUL, very long.
HOSTILE = [
    "9" * 30,
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551616",
    "999999999999999999",
    "-1",
    "-9223372036854775809",
    "0",
    "00",
    "1",
    "²",
    "٣",
    "１",
    "1e3",
    "0x10",
    "",
    " ",
    "\x00",
    "%00",
    "a" * 5000,
    "𠀾",
    "\u202e1",
    "0001-01-01",
    "9999-12-31",
    "0000-00-00",
    "9999-12",
    "0001-01",
    "2025-02-30",
    "../1",
]
hostile = st.one_of(st.sampled_from(HOSTILE + NASTY), any_text, st.integers(-(2**80), 2**80).map(str))
# A real id now and then, so that a hostile value in a later part of a route or in a query
# parameter reaches the code behind a found object.
REAL = "<real>"
part_value = st.one_of(st.just(REAL), hostile)
ROLES = ["operator", "other_operator", "clerk", "admin", "anonymous"]
REAL_CODES = {"code": ["enrol", "suspend"], "fmt": ["pdf", "xlsx"], "kind": ["import", "audit"]}


def query_parameters() -> set[str]:
    """Every query parameter a page of the product reads, found in the source: request.GET.get
    and getlist with a literal name, and the fields of the forms bound to request.GET."""
    from shebao.backoffice.forms import QueueFilterForm, RowFilterForm

    forms = {"QueueFilterForm": QueueFilterForm, "RowFilterForm": RowFilterForm}
    root = Path(__file__).resolve().parents[2] / "shebao"
    # Names given at run time, by the file and the argument that gives them: 首页's dates and
    # the page numbers of its two lists.
    computed = {("web/views.py", "key"): {"from", "to"}, ("web/views.py", 'f"{key}_page"'): {"todo_page", "done_page"}}
    names: set[str] = set()
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for argument in re.findall(r"GET\.(?:get|getlist)\(\s*([^,)]+)", text):
            literal = re.fullmatch(r"[\"']([^\"']+)[\"']", argument.strip())
            if literal:
                names.add(literal.group(1))
                continue
            where = (path.relative_to(root).as_posix(), argument.strip())
            assert where in computed, f"{where}: a query parameter named at run time: list its names here"
            names |= computed[where]
        for form in re.findall(r"(\w+Form)\(request\.GET", text):
            assert form in forms, f"{path}: {form} is bound to request.GET: add it to the forms here"
            names |= set(forms[form].base_fields)
    return names


@functools.cache
def admin_query_parameters() -> frozenset[str]:
    """The administration's change lists: search, order, page, popups, and every filter's and
    date hierarchy's parameters of every registered model; the autocomplete view's."""
    from django.contrib import admin
    from django.contrib.admin.filters import FieldListFilter
    from django.contrib.admin.utils import get_fields_from_path
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    names = {
        "q",
        "o",
        "p",
        "e",
        "all",
        "_popup",
        "_to_field",
        "_changelist_filters",
        "next",
        "app_label",
        "model_name",
        "field_name",
        "term",
        "page",
    }
    for model, model_admin in admin.site._registry.items():
        for entry in model_admin.list_filter:
            if isinstance(entry, str):
                field = get_fields_from_path(model, entry)[-1]
                spec = FieldListFilter.create(field, request, {}, model, model_admin, field_path=entry)
                names |= set(spec.expected_parameters())
            elif isinstance(entry, (tuple, list)):
                field = get_fields_from_path(model, entry[0])[-1]
                names |= set(
                    entry[1](field, request, {}, model, model_admin, field_path=entry[0]).expected_parameters()
                )
            else:
                names.add(entry.parameter_name)
        if model_admin.date_hierarchy:
            names |= {f"{model_admin.date_hierarchy}__{part}" for part in ("year", "month", "day")}
    return frozenset(names)


QUERY_PARAMETERS = sorted(query_parameters())


def _params_for(route: str) -> list[str]:
    # The administration's filters are read from the database's rows (their choices): found in a test.
    return sorted(admin_query_parameters()) if route.startswith("/admin/") else QUERY_PARAMETERS


class Clients(dict):
    """A logged-in Client per role; a role's client is logged in again after a logout URL."""

    def __init__(self, users: dict) -> None:
        super().__init__()
        self.users = users

    def __missing__(self, role: str):
        from django.test import Client

        user, employer = self.users[role]
        self[role] = client = logged_in(user, employer) if user else Client()
        return client

    def after(self, role: str, url: str) -> None:
        if "logout" in url:
            self.pop(role, None)


@pytest.fixture
def clients(world) -> Clients:
    from tests.factories import AdminFactory, EmployerFactory, OperatorFactory

    other = EmployerFactory(office=world.employer.office, is_vip=False)
    admin = AdminFactory(username="fuzz-admin")
    return Clients(
        {
            "operator": (world.operator, world.employer),
            "other_operator": (OperatorFactory(employer=other), other),
            "clerk": (world.clerk, None),
            "admin": (admin, None),
            "anonymous": (None, None),
        }
    )


def _real_id(world, route: str, name: str) -> str:
    if route.startswith("/batch/"):
        return str(_batch(world).pk)
    if name in ("job", "number"):
        return "1"
    return str((world.review if route.startswith("/backoffice/") else world.saved).pk)


def _batch(world):
    from shebao.workflow.models import Mode, State, Transaction
    from tests.factories import TransactionFactory

    tx = Transaction.objects.filter(employer=world.employer, mode=Mode.BATCH).first()
    if tx is None:
        tx = TransactionFactory(
            employer=world.employer,
            business_type="enrol",
            mode=Mode.BATCH,
            operator=world.operator,
            state=State.SAVED,
            serial="2026120199999999",
        )
    return tx


def _url(world, route: str, parts: dict) -> str:
    values = {}
    for name in route_parameters(route):
        value = parts.get(name, REAL)
        if value == REAL:
            value = REAL_CODES.get(name, [None])[0] or _real_id(world, route, name)
        values[name] = quote(str(value), safe="")
    return fill(route, values)


def _form(query: dict) -> dict:
    """Hostile form data for a POST: every field any of the product's forms posts."""
    data = dict(query)
    for key in (
        "version",
        "item",
        "reason",
        "action",
        "result",
        "page",
        "items",
        "return_query",
        "photo",
        "language",
        "next",
        "employer_number",
        "username",
        "password",
        "_selected_action",
    ):
        data.setdefault(key, query.get("q", ""))
    data["items"] = [data["items"], data.get("item", "")]
    data["_selected_action"] = [data["_selected_action"], data.get("version", "")]
    data["action"] = (
        data["action"] if data["action"] in ("delete", "save", "submit", "cancel", "withdraw") else ("delete_selected")
    )
    return data


def _check(clients: Clients, role: str, url: str, query: dict, *, post: bool) -> None:
    client = clients[role]
    response = client.post(url, _form(query)) if post else client.get(url, query)
    clients.after(role, url)
    assert response.status_code < 500, (response.status_code, role, url, query)


def _posts_to(route: str, name: str) -> bool:
    """The product's own URLs take POSTs with any data; of the administration's, the change
    lists (their actions take a list of ticked ids)."""
    return not route.startswith("/admin/") or name.endswith("_changelist")


# Three examples per route on average (the route is drawn first): a fuzz of every
# route with a single world of test data; every route meets the edge values in the next test.
@settings(FUZZ, max_examples=len(ROUTES) * 3)
@given(data=st.data())
def test_fuzz_every_route_part_and_query_parameter(world, clients, data):
    route, name = data.draw(st.sampled_from(ROUTES), label="route")
    parts = {p: data.draw(part_value, label=p) for p in route_parameters(route)}
    query = data.draw(st.fixed_dictionaries({}, optional={k: hostile for k in _params_for(route)}), label="query")
    role = data.draw(st.sampled_from(ROLES), label="role")
    url = _url(world, route, parts)
    _check(clients, role, url, query, post=False)
    if _posts_to(route, name):
        _check(clients, role, url, query, post=True)


# The values that broke something once, on every route, by the role the route is for.
EDGE_IDS = ["9" * 30, "9223372036854775808", "-1", "²", "0"]
EDGE_QUERY = ["9" * 30, "-1", "0001-01-01", "9999-12-31", "", "²", "a" * 5000, "𠀾\u202e"]


def _role_for(route: str) -> str:
    if route.startswith("/admin/"):
        return "admin"
    return "clerk" if route.startswith("/backoffice/") else "operator"


def test_every_route_answers_edge_values_without_a_server_error(world, clients):
    for route, name in ROUTES:
        role = _role_for(route)
        names = route_parameters(route)
        for value in EDGE_IDS if names else [REAL]:
            url = _url(world, route, dict.fromkeys(names, value))
            _check(clients, role, url, {}, post=False)
            if _posts_to(route, name):
                _check(
                    clients,
                    role,
                    url,
                    {"version": value, "item": value, "items": value, "_selected_action": value},
                    post=True,
                )
        url = _url(world, route, {})
        for value in EDGE_QUERY:
            _check(clients, role, url, dict.fromkeys(_params_for(route), value), post=False)


def test_every_query_parameter_is_found(db):
    assert {
        "type",
        "serial",
        "from",
        "to",
        "todo_page",
        "done_page",
        "q",
        "page",
        "result",
        "item",
        "tab",
        "employer",
        "days",
        "expired",
    } <= set(QUERY_PARAMETERS)
    assert {"effective_from_month", "created_at__day", "office__id__exact", "q", "o", "p"} <= admin_query_parameters()


def test_every_id_route_is_fuzzed():
    names = {name for route, name in ROUTES if "<id:" in route}
    assert {
        "web:tx_detail",
        "web:tx_action",
        "web:tx_status",
        "web:tx_photo",
        "exports:form",
        "exports:part",
        "batch:action",
        "backoffice:detail",
        "backoffice:mark_failed",
    } <= names
    assert any("<path:object_id>" in route for route, _name in ROUTES)  # the administration's too
    # No id of the product's own URLs is an unbounded <int:…>.
    assert not [route for route, _name in ROUTES if "<int:" in route]


# --- another employer's object ----------------------------------------------------------


def test_another_employers_objects_are_not_found_on_every_route(world, clients):
    from tests.factories import ClerkFactory, OfficeFactory

    stranger_clerk = logged_in(ClerkFactory(office=OfficeFactory(code="420199")))
    checked = 0
    for route, name in ROUTES:
        if route.startswith("/admin/") or not route_parameters(route) or "<id:pk>" not in route:
            continue
        url = _url(world, route, {})
        client = stranger_clerk if route.startswith("/backoffice/") else clients["other_operator"]
        for method in ("get", "post"):
            response = getattr(client, method)(url, {"version": "1", "item": "1", "reason": "x", "action": "cancel"})
            assert response.status_code in (404, 405), (name, method, response.status_code)
            checked += response.status_code == 404
        if route.startswith("/exports/"):
            assert stranger_clerk.get(url).status_code == 404, name
    assert checked >= 20
    # The owner finds them (the 404s above are not for want of a real id).
    owner = clients["operator"]
    assert owner.get(f"/tx/{world.saved.pk}/").status_code == 200
    assert owner.get(f"/batch/{_batch(world).pk}/").status_code == 200
    assert clients["clerk"].get(f"/backoffice/tx/{world.review.pk}/").status_code == 200
