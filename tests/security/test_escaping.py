"""HTML typed into names and free text is refused or shown escaped, never executed."""

from __future__ import annotations

import pytest

from shebao.workflow import services
from shebao.workflow.models import State, Transaction
from tests.security.conftest import logged_in
from tests.workflow.helpers import enrol_raw

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
IMG = '"><img src=x onerror=alert(2)>'


def _form(raw: dict) -> dict:
    data = dict(raw)
    data["insurance_types"] = []
    return data


def test_script_in_a_name_is_refused_and_shown_back_escaped(world):
    client = logged_in(world.operator, world.employer)
    before = Transaction.objects.count()
    response = client.post("/business/enrol/single/", _form(enrol_raw("420102199001011236", name=SCRIPT)))
    assert response.status_code == 422
    body = response.content.decode()
    assert SCRIPT not in body
    assert ESCAPED in body  # the user sees what they typed
    assert ">NAME_CHARS</small>" in body and "「姓名」只能包含汉字、英文字母" in body
    assert Transaction.objects.count() == before


def test_attribute_breaking_input_is_escaped_in_the_form(world):
    client = logged_in(world.operator, world.employer)
    response = client.post("/business/enrol/single/", _form(enrol_raw("420102199001011236", name=IMG, phone=IMG)))
    body = response.content.decode()
    assert "<img src=x" not in body
    assert "&lt;img src=x onerror=alert(2)&gt;" in body


def test_live_field_check_returns_json_not_html(world):
    client = logged_in(world.operator, world.employer)
    response = client.post("/business/enrol/check/", {"name": SCRIPT, "_touched": ["name"]})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    fields = response.json()["fields"]
    assert [issue["code"] for issue in fields["name"]] == ["NAME_CHARS"]


def test_free_text_with_markup_is_stored_as_text_and_escaped_everywhere(world):
    address = f"武汉市{SCRIPT}{IMG}"
    client = logged_in(world.operator, world.employer)
    response = client.post("/business/enrol/single/", _form(enrol_raw("420102199202021238", address=address)))
    assert response.status_code == 302
    tx = Transaction.objects.get(pk=int(response["Location"].strip("/").split("/")[-1]))
    assert tx.items.get().data["address"] == address  # kept exactly as typed
    page = client.get(f"/tx/{tx.pk}/").content.decode()
    assert SCRIPT not in page and "<img src=x" not in page
    assert ESCAPED in page
    # The clerk's detail page shows it escaped as well.
    services.transaction_submit(tx=tx, actor=world.operator, version=tx.version)
    services.run_audit(tx.pk)
    tx.refresh_from_db()
    assert tx.state == State.REVIEW
    clerk_page = logged_in(world.clerk).get(f"/backoffice/tx/{tx.pk}/").content.decode()
    assert SCRIPT not in clerk_page and "<img src=x" not in clerk_page
    assert ESCAPED in clerk_page


def test_return_reason_with_markup_is_escaped_for_the_employer(world):
    tx = world.review
    services.clerk_return(tx=tx, clerk=world.clerk, version=tx.version, reason=f"请补充材料{SCRIPT}")
    client = logged_in(world.operator, world.employer)
    for url in (f"/tx/{tx.pk}/", "/home/"):
        body = client.get(url).content.decode()
        assert SCRIPT not in body, url
        assert ESCAPED in body, url
    status = client.get(f"/tx/{tx.pk}/status/").json()
    assert any(SCRIPT in reason for reason in status["reasons"])  # JSON carries text; the page escapes it


@pytest.mark.parametrize("url", ["/home/?serial={q}", "/home/?type={q}", "/persons/?q={q}"])
def test_search_parameters_are_echoed_escaped(world, url):
    client = logged_in(world.operator, world.employer)
    response = client.get(url.format(q=SCRIPT))
    assert response.status_code == 200
    assert SCRIPT not in response.content.decode()


@pytest.mark.parametrize("url", ["/backoffice/?serial={q}", "/backoffice/?employer={q}", "/backoffice/?tab={q}"])
def test_backoffice_search_parameters_are_echoed_escaped(world, url):
    response = logged_in(world.clerk).get(url.format(q=SCRIPT))
    assert response.status_code < 500
    assert SCRIPT not in response.content.decode()


def test_pages_forbid_framing_and_sniffing(world):
    response = logged_in(world.operator, world.employer).get("/home/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
