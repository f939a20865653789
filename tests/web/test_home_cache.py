"""首页's task lists come from a cache, and every committed change shows on the next view.

These tests run with the page cache on and real commits (the cache is keyed by a version
bumped after commit; see shebao.workflow.tasklists).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shebao.accounts.models import Membership
from shebao.workflow import services
from shebao.workflow.models import Mode, State, Transaction
from tests.factories import ClerkFactory, EmployerFactory, OperatorFactory, make_resident_id, seed_params
from tests.workflow.helpers import enrol_raw, login

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.page_cache]


@pytest.fixture(autouse=True)
def _params():
    seed_params()


def _setup(client, *, vip: bool = True):
    employer = EmployerFactory(is_vip=vip)
    user = OperatorFactory(employer=employer)
    login(client, user, employer)
    return employer, user


def _row(client, serial: str) -> str:
    page = client.get("/home/").content.decode()
    match = re.search(rf'<tr data-serial="{serial}">.*?</tr>', page, re.S)
    assert match, f"{serial} is not on 首页"
    return match.group(0)


def _list_of(client, serial: str) -> str:
    page = client.get("/home/").content.decode()
    todo, _, done = page.partition('data-testid="done-list"')
    return "todo" if f'data-serial="{serial}"' in todo else "done" if f'data-serial="{serial}"' in done else ""


def _save(employer, user, seq: int) -> Transaction:
    raw = enrol_raw(make_resident_id(dt.date(1990, 1, 1), serial=seq))
    return services.transaction_save_single(employer=employer, actor=user, business_type="enrol", raw=raw).transaction


def test_a_repeated_view_does_not_query_the_lists(client):
    employer, user = _setup(client)
    _save(employer, user, 1)
    with CaptureQueriesContext(connection) as first:
        client.get("/home/")
    with CaptureQueriesContext(connection) as again:
        page = client.get("/home/").content.decode()
    assert len(again.captured_queries) < len(first.captured_queries)
    assert not any("workflow_transaction" in q["sql"] for q in again.captured_queries)
    assert "待办任务列表" in page and 'data-serial="' in page


def test_every_step_of_a_single_enrolment_shows_at_once(client):
    employer, user = _setup(client)
    tx = _save(employer, user, 1)
    assert "未提交" in _row(client, tx.serial) and _list_of(client, tx.serial) == "todo"

    tx = services.transaction_submit(tx=tx, actor=user, version=tx.version)
    row = _row(client, tx.serial)
    assert "已提交" in row and "进行中" in row and _list_of(client, tx.serial) == "done"

    services.run_audit(tx.pk)  # what the worker process does
    assert "结束" in _row(client, tx.serial)


def test_a_clerk_return_and_a_cancel_show_at_once(client):
    employer, user = _setup(client, vip=False)
    clerk = ClerkFactory(office=employer.office)
    tx = _save(employer, user, 1)
    tx = services.transaction_submit(tx=tx, actor=user, version=tx.version)
    services.run_audit(tx.pk)
    tx.refresh_from_db()
    assert tx.state == State.REVIEW and "进行中" in _row(client, tx.serial)

    tx = services.clerk_return(tx=tx, clerk=clerk, version=tx.version, reason="劳动合同复印件不清晰")
    row = _row(client, tx.serial)
    assert "回退" in row and "劳动合同复印件不清晰" in row and _list_of(client, tx.serial) == "todo"

    services.transaction_cancel(tx=tx, actor=user, version=tx.version)
    assert _list_of(client, tx.serial) == ""  # a cancelled transaction leaves both lists


def test_writes_outside_the_services_show_too(client):
    """Bulk updates, bulk creation and deletion through the model's manager count as changes."""
    employer, user = _setup(client)
    tx = _save(employer, user, 1)
    client.get("/home/")
    Transaction.objects.filter(pk=tx.pk).update(state=State.AUDITING)
    assert "进行中" in _row(client, tx.serial)

    Transaction.objects.bulk_create(
        [
            Transaction(
                serial="2026112799999999",
                employer=employer,
                operator=user,
                business_type="enrol",
                mode=Mode.SINGLE,
                total_count=1,
            )
        ]
    )
    assert "未提交" in _row(client, "2026112799999999")

    Transaction.objects.filter(serial="2026112799999999").delete()
    assert 'data-serial="2026112799999999"' not in client.get("/home/").content.decode()


def test_progress_alone_is_not_a_change(client):
    employer, user = _setup(client)
    tx = _save(employer, user, 1)
    client.get("/home/")
    Transaction.objects.filter(pk=tx.pk).update(progress_done=1, progress_total=2)
    with CaptureQueriesContext(connection) as again:
        client.get("/home/")
    assert not any("workflow_transaction" in q["sql"] for q in again.captured_queries)


def test_another_employer_never_sees_the_cached_lists(client):
    employer, user = _setup(client)
    tx = _save(employer, user, 1)
    assert tx.serial in client.get("/home/").content.decode()
    other = EmployerFactory(is_vip=True)
    login(client, OperatorFactory(employer=other), other)
    assert tx.serial not in client.get("/home/").content.decode()


def test_the_lists_follow_the_language(client):
    employer, user = _setup(client)
    tx = _save(employer, user, 1)
    assert "未提交" in _row(client, tx.serial)
    client.cookies["django_language"] = "en"
    row = _row(client, tx.serial)
    assert "未提交" not in row and "Not submitted" in row


def test_a_deactivated_employer_or_membership_loses_access(client):
    employer, user = _setup(client)
    assert client.get("/home/").status_code == 200
    Membership.objects.filter(user=user, employer=employer).update(active=False)
    assert client.get("/home/").status_code == 404
    Membership.objects.filter(user=user, employer=employer).update(active=True)
    assert client.get("/home/").status_code == 200
    type(employer).objects.filter(pk=employer.pk).update(active=False)
    assert client.get("/home/").status_code == 404
