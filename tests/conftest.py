"""Shared fixtures. Folders may add their own conftest.py; a fixture defined there wins.

Fixtures (all need the database):
- ``params``: the published parameter rows of params migration 0002 (re-applied, because a
  transactional test flushes the tables) plus illustrative base limits for the years from
  2023 to next year, so tests can enrol in the current month. Returns a fresh ParamSnapshot.
- ``office``: a district office; ``other_office``: another district's.
- ``vip_employer`` / ``ordinary_employer``: employers of ``office``; ``other_employer``: of
  ``other_office``.
- ``operator_client(employer, user=None)``: a Django test Client logged in as an operator of
  that employer (created when not given), with the employer chosen in the session as the
  login page does. ``client.user`` is the user.
- ``clerk`` / ``clerk_client``: a clerk of ``office`` and a Client logged in as them.
- ``admin_user`` / ``admin_client`` (pytest-django's): a system administrator and their Client.
- ``login_client(user, employer=None)``: the same for any user.

Test data (rows and identifiers) comes from tests/factories.py; its counters start afresh
before every test (``_fresh_test_data``).

The clock: every test runs at a pinned instant, ``PINNED_NOW`` (10:00 on 15 June 2026 in
China), with time running on from there (``time_machine``), so that no test depends on the
day it runs. ``@pytest.mark.clock("2026-12-31T16:30:00Z")`` pins another instant (an ISO
time with its offset); ``pinned_clock`` is the traveller, for ``pinned_clock.move_to(...)``.
``@pytest.mark.real_clock`` leaves the clock alone, for tests whose child processes read it
(a real worker started with ``manage.py qcluster``; every browser test): they must pass on
any date, which the suite's second run under ``faketime`` checks.

Markers: ``browser`` (added automatically to tests in tests/browser/) and ``postgres``
(skipped unless the database is PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.test import Client

from tests.factories import (
    AdminFactory,
    ClerkFactory,
    EmployerFactory,
    OfficeFactory,
    OperatorFactory,
    reset_sequences,
)

BROWSER_DIR = Path(__file__).parent / "browser"

# Mid-month, mid-year, mid-morning in China: far from every boundary the calendar tests pin.
PINNED_NOW = dt.datetime(2026, 6, 15, 2, 0, tzinfo=dt.UTC)


def pytest_collection_modifyitems(config, items):
    on_postgres = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL=postgres://...)")
    for item in items:
        if BROWSER_DIR in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.real_clock)  # its audits run in real worker processes
        if not on_postgres and item.get_closest_marker("postgres"):
            item.add_marker(skip_pg)


@pytest.fixture(autouse=True)
def _site_language():
    """Every test starts and ends in the site's language: a request made in English (the
    language cookie) leaves English active in its thread afterwards, as Django's middleware
    does, and a later test of the same worker would read English where it expects Chinese."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _fresh_test_data():
    """Every test's made-up numbers and names start afresh (tests/factories.py)."""
    reset_sequences()


@pytest.fixture(autouse=True)
def pinned_clock(request):
    """The whole process's clock moved to PINNED_NOW or the test's ``clock`` marker, ticking."""
    if request.node.get_closest_marker("real_clock") is not None:
        yield None
        return
    marker = request.node.get_closest_marker("clock")
    instant = dt.datetime.fromisoformat(marker.args[0]) if marker else PINNED_NOW
    if instant.tzinfo is None:
        raise ValueError("a pinned instant names its offset, e.g. 2026-12-31T16:30:00Z")
    # An aware instant in UTC, so that time_machine leaves the process's time zone alone.
    with time_machine.travel(instant.astimezone(dt.UTC), tick=True) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def _no_cache(request, settings):
    """No caching, except in tests marked ``page_cache``.

    Cached pages are keyed by versions bumped after commit, and a test inside one rolled-back
    transaction never commits; ``page_cache`` tests run with real commits
    (``django_db(transaction=True)``) and an empty per-test cache instead.
    """
    from django.core.cache import cache

    if request.node.get_closest_marker("page_cache") is None:
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    cache.clear()
    yield
    cache.clear()


# --- parameters --------------------------------------------------------------------------


@pytest.fixture
def params(db):
    """Published parameters plus illustrative base limits from 2023 to next year."""
    from django.utils import timezone

    from shebao.demo.management.commands.seed_demo import seed_illustrative_limits, seed_published_parameters
    from shebao.params.services import ParamSnapshot

    seed_published_parameters()
    seed_illustrative_limits(list(range(2023, timezone.localdate().year + 2)))
    return ParamSnapshot.load()


# --- offices and employers ---------------------------------------------------------------


@pytest.fixture
def office(db):
    return OfficeFactory(code="420102", name="江岸区社会保险管理处", address="武汉市江岸区沿江大道188号")


@pytest.fixture
def other_office(db):
    return OfficeFactory(code="420106", name="武昌区社会保险管理处", address="武汉市武昌区中山路318号")


@pytest.fixture
def vip_employer(office):
    return EmployerFactory(office=office, is_vip=True, name="武汉VIP测试科技有限公司")


@pytest.fixture
def ordinary_employer(office):
    return EmployerFactory(office=office, is_vip=False, name="武汉普通测试商贸有限公司")


@pytest.fixture
def other_employer(other_office):
    return EmployerFactory(office=other_office, is_vip=False, name="武昌其他区测试有限公司")


# --- logged-in clients -------------------------------------------------------------------


def make_login_client(user, employer=None) -> Client:
    """A test Client logged in as `user`; for an operator, acting for `employer`."""
    client = Client()
    client.force_login(user)
    if employer is not None:
        session = client.session
        session["employer_id"] = employer.pk
        session.save()
    client.user = user
    client.employer = employer
    return client


@pytest.fixture
def login_client(db):
    return make_login_client


@pytest.fixture
def operator_client(db):
    """operator_client(employer, user=None) -> Client acting for that employer."""

    def make(employer, user=None, **user_kwargs):
        user = user or OperatorFactory(employer=employer, **user_kwargs)
        return make_login_client(user, employer)

    return make


@pytest.fixture
def clerk(office):
    return ClerkFactory(office=office)


@pytest.fixture
def clerk_client(clerk):
    return make_login_client(clerk)


@pytest.fixture
def admin_user(db):
    """Overrides pytest-django's: a role=admin superuser (pytest-django's admin_client uses it)."""
    return AdminFactory()


# --- browser tests -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Playwright drives Debian's chromium; `playwright install` is never run."""
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium"}
