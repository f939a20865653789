"""Login, lockout, forced password change, password policy, idle sessions, role pages (issue 2 §2)."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.db import connection
from django.db.models import F
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from shebao.accounts import lockout
from shebao.accounts.models import User
from tests.factories import (
    DEFAULT_PASSWORD,
    AdminFactory,
    ClerkFactory,
    EmployerFactory,
    MembershipFactory,
    OfficeFactory,
    OperatorFactory,
)

pytestmark = pytest.mark.django_db

WRONG = "单位编号、用户名或密码不正确。"
TOO_SIMPLE = "密码至少 10 位，并包含大写字母、小写字母、数字、符号中的至少三类。"
HAS_IDENTITY = "密码不能包含用户名或单位编号。"
REUSED = "新密码不能与最近 5 次使用过的密码相同。"


@pytest.fixture
def employer(db):
    return EmployerFactory(number="20260001", name="武汉登录测试有限公司")


@pytest.fixture
def operator(employer):
    return OperatorFactory(username="wangfang", employer=employer)


def post_login(client, username, password=DEFAULT_PASSWORD, number=""):
    return client.post("/accounts/login/", {"employer_number": number, "username": username, "password": password})


# --- login ------------------------------------------------------------------------------


def test_operator_logs_in_with_employer_number_user_name_and_password(client, operator, employer):
    response = post_login(client, "wangfang", number="20260001")
    assert response.status_code == 302
    assert response["Location"] == "/home/"
    assert client.session["employer_id"] == employer.pk
    page = client.get("/home/").content.decode()
    assert "wangfang" in page or operator.get_full_name() in page
    assert "20260001" in page and "武汉登录测试有限公司" in page


@pytest.mark.parametrize("number", ["", "20260002", "2026000", " "])
def test_operator_with_wrong_or_missing_employer_number_is_refused(client, operator, employer, number):
    EmployerFactory(number="20260002")  # exists, but the user does not act for it
    response = post_login(client, "wangfang", number=number)
    assert response.status_code == 401
    assert WRONG in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get("/home/").status_code == 302


def test_operator_of_several_employers_acts_for_the_one_named(client, operator, employer):
    second = EmployerFactory(number="20260003", name="武汉第二测试有限公司")
    MembershipFactory(user=operator, employer=second)
    assert post_login(client, "wangfang", number="20260003").status_code == 302
    assert client.session["employer_id"] == second.pk
    assert "武汉第二测试有限公司" in client.get("/home/").content.decode()


def test_wrong_password_and_unknown_user_read_the_same(client, operator):
    first = post_login(client, "wangfang", password="Wrong#Pass2026", number="20260001")
    second = post_login(client, "nobody", number="20260001")
    assert first.status_code == second.status_code == 401
    assert WRONG in first.content.decode() and WRONG in second.content.decode()


def test_clerk_logs_in_without_employer_number(client):
    clerk = ClerkFactory(username="clerkli", office=OfficeFactory(code="420102"))
    response = post_login(client, "clerkli")
    assert response.status_code == 302 and response["Location"] == "/backoffice/"
    assert client.get("/backoffice/").status_code == 200
    assert clerk.office.name in client.get("/backoffice/").content.decode()


def test_administrator_logs_in_to_the_admin_site(client):
    AdminFactory(username="sysadmin")
    response = post_login(client, "sysadmin")
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_passwords_are_hashed_with_argon2(operator):
    operator.set_password("Another#Pass2026")
    operator.save()
    operator.refresh_from_db()
    assert operator.password.startswith("argon2")
    created = User.objects.create_user(username="fresh", password="Fresh#Pass2026")
    assert created.password.startswith("argon2$argon2id$")
    assert "Fresh#Pass2026" not in created.password


# --- lockout ----------------------------------------------------------------------------


LOCKED = "连续登录失败次数过多，账号已锁定至"
ADDRESS_LOCKED = "此网络地址登录失败次数过多，暂停登录至"


def time_passes(minutes: float) -> None:
    """Every failure counted so far happened that many minutes earlier."""
    delta = dt.timedelta(minutes=minutes)
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - delta)
    AccessFailureLog.objects.update(attempt_time=F("attempt_time") - delta)


def fail(client, username, number, times=1, **extra):
    for _ in range(times):
        response = client.post(
            "/accounts/login/", {"employer_number": number, "username": username, "password": "Wrong#Pass2026"}, **extra
        )
        assert response.status_code == 401
    return response


def test_five_failures_lock_the_attempted_identity_for_15_minutes(client, operator):
    for _ in range(5):
        assert WRONG in fail(client, "wangfang", "20260001").content.decode()
    until = timezone.localtime(timezone.now() + dt.timedelta(minutes=15))

    # The 6th attempt, with the right password, is refused and says until when.
    response = post_login(client, "wangfang", number="20260001")
    assert response.status_code == 401
    body = response.content.decode()
    assert LOCKED in body
    assert until.strftime("%H:%M") in body or (until - dt.timedelta(minutes=1)).strftime("%H:%M") in body
    assert "_auth_user_id" not in client.session

    # 15 minutes later it works again, and the count starts afresh.
    time_passes(15.1)
    response = post_login(client, "wangfang", number="20260001")
    assert response.status_code == 302
    client.post("/accounts/logout/")
    fail(client, "wangfang", "20260001", times=4)
    assert post_login(client, "wangfang", number="20260001").status_code == 302


def test_four_failures_do_not_lock_and_a_success_resets_the_count(client, operator):
    fail(client, "wangfang", "20260001", times=4)
    assert post_login(client, "wangfang", number="20260001").status_code == 302
    client.post("/accounts/logout/")
    fail(client, "wangfang", "20260001", times=4)
    assert post_login(client, "wangfang", number="20260001").status_code == 302


def test_attempts_refused_during_a_lock_do_not_prolong_it(client, operator):
    fail(client, "wangfang", "20260001", times=5)
    time_passes(10)
    for _ in range(3):  # someone keeps trying while it is locked
        assert LOCKED in fail(client, "wangfang", "20260001").content.decode()
    assert LOCKED in post_login(client, "wangfang", number="20260001").content.decode()
    time_passes(5.1)  # 15 minutes after the 5th failure
    assert post_login(client, "wangfang", number="20260001").status_code == 302


def test_failures_are_counted_per_employer_number_and_user_name(client, operator):
    """The identity is (单位编号, 用户名): five tries under another number lock that pair only."""
    fail(client, "wangfang", "99999999", times=5)
    assert LOCKED in post_login(client, "wangfang", number="99999999").content.decode()
    assert post_login(client, "wangfang", number="20260001").status_code == 302


@pytest.mark.parametrize(
    "username,number,password",
    [
        ("wangfang", "20260001", "Wrong#Pass2026"),  # an account, wrong password
        ("wangfang", "20269999", DEFAULT_PASSWORD),  # an account, a number it does not act for
        ("nobody", "20260001", "Wrong#Pass2026"),  # no such user
        ("nobody", "", DEFAULT_PASSWORD),
    ],
)
def test_whether_an_account_exists_never_shows_before_or_after_the_lock(client, operator, username, number, password):
    """Every failure reads the same, and after five every identity reads locked, existing or not."""
    answers = []
    for _ in range(6):
        response = client.post(
            "/accounts/login/", {"employer_number": number, "username": username, "password": password}
        )
        body = response.content.decode()
        answers.append((response.status_code, WRONG in body, LOCKED in body))
    assert answers == [(401, True, False)] * 5 + [(401, False, True)]


def test_an_existing_and_an_unknown_locked_identity_answer_alike(client, operator):
    fail(client, "wangfang", "20260001", times=5)
    fail(client, "nobody", "20260001", times=5)
    existing = post_login(client, "wangfang", number="20260001")
    unknown = post_login(client, "nobody", number="20260001")
    assert existing.status_code == unknown.status_code == 401

    def strip(response):  # the time and the form's CSRF token vary
        body = re.sub(r"\d\d:\d\d", "hh:mm", response.content.decode())
        return re.sub(r'value="[A-Za-z0-9]{64}"', 'value="token"', body)

    assert LOCKED in strip(existing)
    assert strip(existing).replace("wangfang", "USER") == strip(unknown).replace("nobody", "USER")


@pytest.fixture
def hasher(settings):
    settings.PASSWORD_HASHERS = ["tests.accounts.hashers.CountingArgon2PasswordHasher"]
    from tests.accounts.hashers import CountingArgon2PasswordHasher

    CountingArgon2PasswordHasher.calls = 0
    return CountingArgon2PasswordHasher


def hashes_of(hasher, attempt) -> int:
    before = hasher.calls
    attempt()
    return hasher.calls - before


def test_every_attempt_hashes_the_password_once_whatever_the_answer(client, operator, hasher, settings):
    """The same work for every answer: an account, an unknown name, a locked identity, a locked address."""
    ClerkFactory(username="clerkli")
    cases = {
        "wrong password": lambda: fail(client, "wangfang", "20260001"),
        "wrong number": lambda: post_login(client, "wangfang", number="20260002"),
        "unknown name": lambda: fail(client, "nobody", "20260001"),
        "clerk with a number": lambda: post_login(client, "clerkli", number="20260001"),
    }
    for name, attempt in cases.items():
        assert hashes_of(hasher, attempt) == 1, name

    fail(client, "wangfang", "20260001", times=4)
    fail(client, "nobody", "20260001", times=4)
    locked_account = lambda: post_login(client, "wangfang", number="20260001")  # noqa: E731
    locked_unknown = lambda: post_login(client, "nobody", number="20260001")  # noqa: E731
    assert LOCKED in locked_account().content.decode()
    assert hashes_of(hasher, locked_account) == 1
    assert hashes_of(hasher, locked_unknown) == 1

    settings.LOGIN_ADDRESS_MAX_FAILURES = 1

    def blocked():
        return client.post(
            "/accounts/login/",
            {"employer_number": "20260001", "username": "someone", "password": "Wrong#Pass2026"},
        )

    assert ADDRESS_LOCKED in blocked().content.decode()
    assert hashes_of(hasher, blocked) == 1

    client.post("/accounts/logout/")
    AccessAttempt.objects.all().delete()
    AccessFailureLog.objects.all().delete()
    assert hashes_of(hasher, lambda: post_login(client, "wangfang", number="20260001")) == 1


def test_clerk_who_types_an_employer_number_is_refused(client):
    """A typed number would be a fresh identity with five more tries at a clerk's password."""
    ClerkFactory(username="clerkli", office=OfficeFactory(code="420102"))
    assert "经办机构人员及系统管理员不填" in client.get("/accounts/login/").content.decode()
    response = post_login(client, "clerkli", number="20260001")
    assert response.status_code == 401 and WRONG in response.content.decode()
    assert post_login(client, "clerkli").status_code == 302


# --- the limit per client address --------------------------------------------------------


OFFICE = {"REMOTE_ADDR": "10.1.2.3"}
ELSEWHERE = {"REMOTE_ADDR": "10.9.9.9"}


def test_many_failures_from_one_address_refuse_that_address_only(client, operator, settings):
    settings.LOGIN_ADDRESS_MAX_FAILURES = 12
    for n in range(11):  # eleven operators of one office mistype once each: nobody is refused
        fail(client, f"clerk{n}", "20260001", **OFFICE)
    assert post_login_from(client, OFFICE).status_code == 302
    client.post("/accounts/logout/")

    # A success does not reset the address (an attacker's own account would wipe the count).
    fail(client, "someone", "20260001", **OFFICE)
    response = post_login_from(client, OFFICE)
    assert response.status_code == 401
    assert ADDRESS_LOCKED in response.content.decode()
    assert "_auth_user_id" not in client.session
    # The same user elsewhere logs in.
    assert post_login_from(client, ELSEWHERE).status_code == 302
    client.post("/accounts/logout/")

    # A day later the address is free again.
    time_passes(24 * 60 + 1)
    assert post_login_from(client, OFFICE).status_code == 302


def test_one_address_cannot_keep_an_account_locked_day_after_day(client, operator, settings):
    """Five tries every 15 minutes would keep an identity locked for ever: the address stops first."""
    settings.LOGIN_ADDRESS_MAX_FAILURES = 20
    attacker = {"REMOTE_ADDR": "203.0.113.9"}
    for _ in range(4):
        fail(client, "wangfang", "20260001", times=5, **attacker)
        assert LOCKED in post_login_from(client, OFFICE).content.decode()
        time_passes(15.1)
    # The attacker's address is refused now: its attempts no longer count, the clerk logs in.
    assert ADDRESS_LOCKED in fail(client, "wangfang", "20260001", **attacker).content.decode()
    fail(client, "wangfang", "20260001", times=5, **attacker)
    assert post_login_from(client, OFFICE).status_code == 302


def post_login_from(client, meta, username="wangfang", number="20260001"):
    return client.post(
        "/accounts/login/", {"employer_number": number, "username": username, "password": DEFAULT_PASSWORD}, **meta
    )


def test_behind_a_proxy_the_address_is_the_one_the_proxy_saw(client, operator, settings):
    """X-Forwarded-For is believed only as far as the proxies the setting names."""
    settings.SHEBAO_PROXY_COUNT = 1
    settings.LOGIN_ADDRESS_MAX_FAILURES = 3
    proxy = "172.16.0.1"
    for spoofed in ("1.1.1.1", "2.2.2.2", "garbage"):  # what the client writes itself changes nothing
        fail(client, f"x{spoofed}", "", REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=f"{spoofed}, 198.51.100.7")
    refused = post_login_from(client, {"REMOTE_ADDR": proxy, "HTTP_X_FORWARDED_FOR": "198.51.100.7"})
    assert ADDRESS_LOCKED in refused.content.decode()
    # Another client behind the same proxy is not refused.
    assert post_login_from(client, {"REMOTE_ADDR": proxy, "HTTP_X_FORWARDED_FOR": "198.51.100.8"}).status_code == 302


@pytest.mark.parametrize(
    "count,remote,forwarded,expected",
    [
        (0, "10.0.0.1", "1.2.3.4", "10.0.0.1"),  # no proxy: the header is the client's own text
        (1, "10.0.0.1", "1.2.3.4", "1.2.3.4"),
        (1, "10.0.0.1", "6.6.6.6, 1.2.3.4", "1.2.3.4"),
        (2, "10.0.0.1", "6.6.6.6, 1.2.3.4, 10.0.0.2", "1.2.3.4"),
        (2, "10.0.0.1", "1.2.3.4", "1.2.3.4"),  # fewer entries than proxies: the outermost one's
        (1, "10.0.0.1", "", "10.0.0.1"),
        (1, "10.0.0.1", "not-an-address", "10.0.0.1"),
        (1, "10.0.0.1", "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_address(settings, rf, count, remote, forwarded, expected):
    settings.SHEBAO_PROXY_COUNT = count
    request = rf.post("/accounts/login/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert lockout.client_address(request) == expected


# --- forced password change and the policy ----------------------------------------------


def change(client, old, new, confirm=None):
    return client.post(
        "/accounts/password/",
        {"old_password": old, "new_password1": new, "new_password2": new if confirm is None else confirm},
    )


def test_first_login_forces_a_password_change(client, employer):
    OperatorFactory(username="newbie", employer=employer, must_change_password=True)
    response = post_login(client, "newbie", number="20260001")
    assert response.status_code == 302
    for url in (
        "/home/",
        "/persons/",
        "/business/enrol/",
        "/business/enrol/single/",
        "/backoffice/",
        "/exports/tx/1/form.pdf",
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == "/accounts/password/", url
    page = client.get("/accounts/password/")
    assert page.status_code == 200
    assert "首次登录或密码已重置，请先修改密码。" in page.content.decode()

    response = change(client, DEFAULT_PASSWORD, "Brand#New2026pw")
    assert response.status_code == 302 and response["Location"] == "/home/"
    assert client.get("/home/").status_code == 200  # still logged in, no redirect any more
    user = User.objects.get(username="newbie")
    assert user.must_change_password is False
    assert user.check_password("Brand#New2026pw")


@pytest.mark.parametrize(
    "new,message",
    [
        ("Ab1!xyz", TOO_SIMPLE),  # too short
        ("Abcdef1!x", TOO_SIMPLE),  # 9 characters
        ("abcdefghijkl", TOO_SIMPLE),  # one class
        ("abcdefgh1234", TOO_SIMPLE),  # two classes
        ("ABCDEFGH!!!!", TOO_SIMPLE),  # two classes
        ("xWangFang#2026", HAS_IDENTITY),  # the user name, any case
        ("Abc#20260001x", HAS_IDENTITY),  # the 单位编号
    ],
)
def test_password_policy_messages(client, operator, new, message):
    client.force_login(operator)
    response = change(client, DEFAULT_PASSWORD, new)
    assert response.status_code == 200
    assert message in response.content.decode()
    operator.refresh_from_db()
    assert operator.check_password(DEFAULT_PASSWORD)


@pytest.mark.parametrize("new", ["abcdefgh1!", "ABCDEFGH1!", "Abcdefghij1", "Abcdefghij!", "密码Abcdefgh1"])
def test_three_of_four_classes_and_ten_characters_are_enough(client, operator, new):
    client.force_login(operator)
    response = change(client, DEFAULT_PASSWORD, new)
    assert response.status_code == 302
    operator.refresh_from_db()
    assert operator.check_password(new)


def test_wrong_old_password_and_mismatched_confirmation(client, operator):
    client.force_login(operator)
    body = change(client, "Wrong#Pass2026", "Brand#New2026pw").content.decode()
    assert "原密码不正确。" in body
    body = change(client, DEFAULT_PASSWORD, "Brand#New2026pw", confirm="Brand#New2026px").content.decode()
    assert "两次输入的新密码不一致。" in body


def test_new_password_differs_from_the_last_five(client, operator):
    client.force_login(operator)
    passwords = [DEFAULT_PASSWORD] + [f"Rotate#{n}Pass2026" for n in range(1, 6)]
    # The current password can never be kept.
    assert REUSED in change(client, DEFAULT_PASSWORD, DEFAULT_PASSWORD).content.decode()
    assert change(client, passwords[0], passwords[1]).status_code == 302
    # The initial password (set by an administrator, never "changed" to) is one of the last 5.
    assert REUSED in change(client, passwords[1], passwords[0]).content.decode()
    for old, new in zip(passwords[1:], passwords[2:], strict=False):
        assert change(client, old, new).status_code == 302
    # Now the last five are passwords[1:]: each is refused with the policy's message.
    for recent in (passwords[1], passwords[3], passwords[5]):
        response = change(client, passwords[-1], recent)
        assert response.status_code == 200
        assert REUSED in response.content.decode(), recent
    # Five changes later the first password is old enough to be used again.
    assert change(client, passwords[-1], passwords[0]).status_code == 302
    operator.refresh_from_db()
    assert operator.check_password(passwords[0])
    assert operator.password_history.count() == 5


# --- sessions ---------------------------------------------------------------------------


def test_idle_session_expires_after_30_minutes(client, operator, employer):
    post_login(client, "wangfang", number="20260001")
    assert client.get("/home/").status_code == 200
    session = client.session
    session["last_seen"] = int(time.time()) - 31 * 60
    session.save()
    response = client.get("/home/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    # Logged out for good: the next request goes to the login page too, which says why.
    assert client.get("/home/")["Location"].startswith("/accounts/login/")
    assert "您已超过 30 分钟未操作，请重新登录。" in client.get(response["Location"]).content.decode()


def test_29_idle_minutes_keep_the_session(client, operator, employer):
    post_login(client, "wangfang", number="20260001")
    session = client.session
    session["last_seen"] = int(time.time()) - 29 * 60
    session.save()
    assert client.get("/home/").status_code == 200
    assert client.session["last_seen"] >= int(time.time()) - 5  # refreshed


def test_requests_within_a_minute_do_not_write_the_session(client, operator, employer):
    post_login(client, "wangfang", number="20260001")
    client.get("/home/")  # the first page after login may set the idle clock
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/home/").status_code == 200
        assert client.get("/persons/").status_code == 200
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if "django_session" in q["sql"] and q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE"))
    ]
    assert writes == []


def test_logout_ends_the_session(client, operator, employer):
    post_login(client, "wangfang", number="20260001")
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert client.get("/home/")["Location"].startswith("/accounts/login/")
    assert client.get("/accounts/logout/").status_code == 405


# --- each role sees only its own pages --------------------------------------------------


def test_each_role_sees_only_its_own_pages(employer):
    office = employer.office
    operator = Client()
    operator.force_login(OperatorFactory(employer=employer))
    session = operator.session
    session["employer_id"] = employer.pk
    session.save()
    clerk = Client()
    clerk.force_login(ClerkFactory(office=office))
    admin = Client()
    admin.force_login(AdminFactory())

    assert operator.get("/home/").status_code == 200
    assert operator.get("/backoffice/").status_code == 404
    assert operator.get("/backoffice/tx/1/").status_code == 404
    assert operator.get("/admin/")["Location"].startswith("/admin/login/")

    assert clerk.get("/backoffice/").status_code == 200
    assert clerk.get("/home/").status_code == 404
    assert clerk.get("/persons/").status_code == 404
    assert clerk.get("/business/enrol/single/").status_code == 404
    assert clerk.get("/admin/")["Location"].startswith("/admin/login/")

    assert admin.get("/admin/").status_code == 200
    assert admin.get("/home/").status_code == 404
    assert admin.get("/backoffice/").status_code == 404


def test_anonymous_user_is_sent_to_login():
    anonymous = Client()
    for url in ("/", "/home/", "/persons/", "/business/enrol/single/", "/backoffice/", "/tx/1/"):
        response = anonymous.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/"), url


@pytest.mark.django_db(transaction=True)
def test_while_another_writer_holds_sqlite_the_idle_clock_waits_for_a_later_request(client, operator, employer):
    """SQLite has one write lock, held by a big batch while it is applied: a page or a poll
    whose only write would be the idle clock answers at once and refreshes it later."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's single write lock")
    from django.db import connections

    post_login(client, "wangfang", number="20260001")
    session = client.session
    session["last_seen"] = stale = int(time.time()) - 5 * 60
    session.save()
    writer = connections.create_connection("default")
    writer.ensure_connection()
    writer.connection.execute("BEGIN IMMEDIATE")
    try:
        assert client.get("/home/").status_code == 200
        assert client.session["last_seen"] == stale  # not written: the lock is held
    finally:
        writer.connection.execute("ROLLBACK")
        writer.close()
    assert client.get("/home/").status_code == 200
    assert client.session["last_seen"] >= int(time.time()) - 5  # refreshed once the lock is free


def test_every_user_finds_change_password_on_every_page_and_is_told_it_worked(client, employer):
    from tests.factories import ClerkFactory, OfficeFactory

    operator = OperatorFactory(username="everyday", employer=employer, must_change_password=False)
    post_login(client, "everyday", number="20260001")
    home = client.get("/home/").content.decode()
    assert 'href="/accounts/password/"' in home and "修改密码" in home
    response = change(client, DEFAULT_PASSWORD, "Brand#New2026pw")
    assert response.status_code == 302
    assert "密码已修改，下次登录请使用新密码。" in client.get(response["Location"]).content.decode()
    operator.refresh_from_db()
    assert operator.check_password("Brand#New2026pw")
    clerk = ClerkFactory(office=OfficeFactory(), must_change_password=False)
    desk = Client()
    desk.force_login(clerk)
    assert 'href="/accounts/password/"' in desk.get("/backoffice/").content.decode()
