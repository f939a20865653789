"""Production settings: `check --deploy` is clean, and a default or weak secret key refuses to start."""

from __future__ import annotations

import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest

from config.settings import DEFAULT_SECRET_KEY

ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str, **env_overrides: str) -> subprocess.CompletedProcess:
    # The deploy check must see a production environment, not the test run's (the browser
    # suite's conftest sets DJANGO_ALLOW_ASYNC_UNSAFE for its live server).
    drop = ("SECRET_KEY", "SECRET_KEY_FILE", "DEBUG", "DJANGO_ENV", "DJANGO_ALLOW_ASYNC_UNSAFE")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def random_key(n: int = 60) -> str:
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    return "".join(secrets.choice(alphabet) for _ in range(n))


def test_check_deploy_is_clean_with_production_settings():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_ENV="production",
        SECRET_KEY=random_key(),
        ALLOWED_HOSTS="example.org",
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues (0 silenced)." in output
    assert "WARNING" not in output and "security.W" not in output


def test_production_settings_are_hardened():
    code = (
        "from django.conf import settings as s; print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS >= 31536000, s.ALLOWED_HOSTS)"
    )
    result = manage("shell", "-c", code, DJANGO_ENV="production", SECRET_KEY=random_key(), ALLOWED_HOSTS="example.org")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False True True True True ['example.org']"


@pytest.mark.parametrize("key", [None, DEFAULT_SECRET_KEY, "short-key", ""])
def test_production_refuses_to_start_with_a_default_or_weak_secret_key(key):
    env = {"DJANGO_ENV": "production", "ALLOWED_HOSTS": "example.org"}
    if key is not None:
        env["SECRET_KEY"] = key
    result = manage("check", **env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_secret_key_may_come_from_a_file(tmp_path):
    key_file = tmp_path / "secret"
    key_file.write_text(random_key() + "\n")
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_ENV="production",
        SECRET_KEY_FILE=str(key_file),
        ALLOWED_HOSTS="example.org",
    )
    assert result.returncode == 0, result.stdout + result.stderr
