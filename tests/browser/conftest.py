"""Browser tests: Playwright (sync API) driving Debian's chromium against pytest-django's
live server, with REAL django-q2 worker processes running against the same test database.

How the pieces fit:
- The test database must be visible to other processes, so on SQLite it is a file
  (``django_db_modify_db_settings`` below points the test DB at a file in the session's
  tmp dir unless ``TEST_SQLITE_NAME`` already names one); on PostgreSQL it is the test
  database pytest-django creates (``TEST_DATABASE_NAME``).
- ``short_worker`` / ``long_worker`` start ``manage.py qcluster`` with ``Q_CLUSTER_NAME``
  short/long (a third serves outbox: messages and webhooks) and ``DATABASE_URL`` naming that
  test database, once per session, after the migrations ran (the ORM broker polls the
  django_q tables). Their logs are kept in ``test-artifacts/browser/worker-*.log``.
- Every test uses ``live_server`` and a transactional database, so rows are committed and
  the worker sees them; the tables are flushed after each test.
- Screenshots of key steps, and of every open page when a test fails, go to
  ``test-artifacts/browser/<test name>/`` (gitignored).

Run them alone (the Makefile's ``test-browser`` stage does): ``pytest -m browser tests/browser``.
In a session that already created an in-memory SQLite test DB for other tests they skip.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connections

from tests.factories import DEFAULT_PASSWORD

# Playwright's sync API runs an event loop in this thread; the test code still uses the ORM.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = os.environ.get("SHEBAO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = DEFAULT_PASSWORD  # what tests/factories.py gives every user
# Generous upper bound for a background audit; a healthy run takes well under a second.
AUDIT_TIMEOUT_MS = 30_000


# --- browser --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium); `playwright install` is never used")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "headless": True, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {
        **browser_context_args,
        "locale": "zh-CN",
        "timezone_id": "Asia/Shanghai",
        "accept_downloads": True,
        "viewport": {"width": 1280, "height": 900},
    }


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[:120]


class Shots:
    """Numbered screenshots of one test in test-artifacts/browser/<test>/."""

    def __init__(self, name: str):
        self.dir = ARTIFACTS / _slug(name)
        self.n = 0
        self.pages: list = []

    def __call__(self, page, step: str) -> Path:
        self.n += 1
        path = self.dir / f"{self.n:02d}-{_slug(step)}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def shot(request):
    shots = Shots(request.node.name)
    if shots.dir.exists():
        for old in shots.dir.glob("*"):
            old.unlink()
    shots.dir.mkdir(parents=True, exist_ok=True)
    return shots


@pytest.fixture
def new_page(request, browser, browser_context_args, shot):
    """new_page() -> a page in a fresh context (one per actor: employer, clerk...).
    When the test fails, every page's screenshot and HTML are kept as FAILED-page<n>.*"""
    contexts = []

    def make():
        context = browser.new_context(**browser_context_args)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        shot.pages.append(page)
        return page

    yield make
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        for i, page in enumerate(shot.pages):
            try:
                page.screenshot(path=str(shot.dir / f"FAILED-page{i}.png"), full_page=True)
                (shot.dir / f"FAILED-page{i}.html").write_text(page.content())
            except Exception:  # noqa: BLE001 - the page may already be closed
                pass
    for context in contexts:
        context.close()


# --- database and workers -------------------------------------------------------------------


def _is_sqlite(db: dict) -> bool:
    return db["ENGINE"] == "django.db.backends.sqlite3"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """A file-backed SQLite test database, so the worker processes share it."""
    db = connections["default"].settings_dict
    if _is_sqlite(db):
        test = db.setdefault("TEST", {})
        name = test.get("NAME") or ""
        if not name or name == ":memory:" or "mode=memory" in name:
            test["NAME"] = str(tmp_path_factory.mktemp("browser-db") / "shebao-test.sqlite3")
        settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = test["NAME"]


def _database_url(db: dict) -> str:
    if _is_sqlite(db):
        return f"sqlite://{Path(db['NAME']).resolve()}"
    auth = quote(db.get("USER") or "postgres", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}@{host}{port}/{quote(db['NAME'], safe='')}"


@pytest.fixture(scope="session")
def test_database_url(django_db_setup) -> str:
    db = connections["default"].settings_dict
    name = str(db["NAME"])
    if _is_sqlite(db) and (name == ":memory:" or "mode=memory" in name or not Path(name).exists()):
        pytest.skip(
            "browser tests need a file-backed test database; run them on their own: pytest -m browser tests/browser"
        )
    return _database_url(db)


class Worker:
    """One `manage.py qcluster` process group for one django-q2 cluster (short, long or outbox)."""

    def __init__(self, cluster: str, database_url: str):
        self.cluster = cluster
        self.database_url = database_url
        self.log_path = ARTIFACTS / f"worker-{cluster}.log"
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self, timeout: float = 30) -> None:
        self.launch()
        self.wait_ready(timeout)

    def launch(self) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": self.database_url,
            "Q_CLUSTER_NAME": self.cluster,
            "PYTHONUNBUFFERED": "1",
            # django-q2 logs through the root logger: INFO makes "cluster running" visible.
            "LOG_LEVEL": "INFO",
            # Webhooks to a receiver the test runs on this machine, over http.
            "SHEBAO_WEBHOOK_ALLOW_LOOPBACK": "1",
            "SHEBAO_WEBHOOK_HTTPS_ONLY": "0",
        }
        for name in ("TEST_SQLITE_NAME", "TEST_DATABASE_NAME", "DJANGO_ALLOW_ASYNC_UNSAFE"):
            env.pop(name, None)
        self.starts += 1
        with self.log_path.open("a" if self.starts > 1 else "w") as log:
            self.log_offset = log.tell()
            self.proc = subprocess.Popen(
                [sys.executable, "manage.py", "qcluster"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker {self.cluster} exited: see {self.log_path}")
            with self.log_path.open() as fh:
                fh.seek(self.log_offset)
                # "Q Cluster <name> [short] running." (translated when the locale is zh-hans)
                if re.search(rf"\[{self.cluster}\] (running|正在运行)", fh.read()):
                    return
            time.sleep(0.05)
        self.stop(kill=True)
        raise RuntimeError(f"worker {self.cluster} did not start in {timeout}s: see {self.log_path}")

    def terminate(self) -> None:
        """Ask qcluster to stop (once); stop() then waits for it."""
        if self.running and not getattr(self.proc, "terminating", False):
            self.proc.send_signal(signal.SIGTERM)
            self.proc.terminating = True

    def stop(self, *, kill: bool = False) -> None:
        """Stop the process group started above (qcluster and the processes it forked).

        Gracefully: SIGTERM to qcluster alone (it stops its sentinel, which stops the
        others; signalling the whole group at once can leave the sentinel hanging).
        kill=True is a crash: SIGKILL to the whole group, nothing is cleaned up.
        """
        proc, self.proc = self.proc, None
        if proc is None:
            return
        pgid = proc.pid  # start_new_session: the group id is qcluster's pid
        if not kill and proc.poll() is None:
            if not getattr(proc, "terminating", False):
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=8)
            except subprocess.TimeoutExpired:
                pass
        try:  # anything left in the group (or everything, for kill=True)
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=5)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


@pytest.fixture(scope="session")
def workers(test_database_url):
    """The clusters, started together once per session: short (single audits), long (batch
    imports and audits) and outbox (messages and webhooks)."""
    pool = {name: Worker(name, test_database_url) for name in (settings.Q_SHORT, settings.Q_LONG, settings.Q_OUTBOX)}
    for w in pool.values():
        w.launch()
    try:
        for w in pool.values():
            w.wait_ready()
        yield pool
    finally:
        for w in pool.values():  # all are asked first: they stop in parallel
            w.terminate()
        for w in pool.values():
            w.stop()


@pytest.fixture(scope="session")
def short_worker(workers):
    return workers[settings.Q_SHORT]


@pytest.fixture
def long_worker(workers):
    worker = workers[settings.Q_LONG]
    if not worker.running:
        worker.start()
    return worker


@pytest.fixture
def worker(short_worker):
    """The short-queue worker, (re)started if a test stopped it."""
    if not short_worker.running:
        short_worker.start()
    return short_worker


# --- data -----------------------------------------------------------------------------------


@pytest.fixture
def site(live_server, transactional_db, params, worker):
    """A live server, a district office with a VIP and an ordinary employer, their operators
    and a clerk of the district, all with the known password. `params` (root conftest)
    re-applies the published parameters the previous test's flush removed."""
    from tests.factories import ClerkFactory, EmployerFactory, OfficeFactory, OperatorFactory

    office = OfficeFactory()
    vip = EmployerFactory(office=office, is_vip=True)
    ordinary = EmployerFactory(office=office, is_vip=False)

    class Site:
        url = live_server.url

    s = Site()
    s.office = office
    s.vip, s.vip_user = vip, OperatorFactory(employer=vip)
    s.ordinary, s.ordinary_user = ordinary, OperatorFactory(employer=ordinary)
    s.clerk = ClerkFactory(office=office)
    s.worker = worker
    return s
