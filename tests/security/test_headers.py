"""Content-Security-Policy on every page, and no-store on what a logged-in user is shown."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from tests.security.conftest import logged_in

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2] / "shebao"
NOT_SERVED = {"form_pdf.html"}  # rendered by WeasyPrint into a PDF, never sent to a browser


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in header.split(";") if part.strip())}


def test_every_page_allows_only_the_products_own_files(world):
    reader = ["'self'", "http://127.0.0.1:19196"]  # a form with the 读卡器 button: the reader's origin too
    pages = [
        (Client(), "/accounts/login/", ["'self'"]),
        (logged_in(world.operator, world.employer), "/home/", ["'self'"]),
        (logged_in(world.operator, world.employer), f"/tx/{world.saved.pk}/", reader),
        (logged_in(world.clerk), f"/backoffice/tx/{world.review.pk}/", ["'self'"]),
    ]
    for client, url, connect in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        policy = directives(response)
        assert policy["default-src"] == ["'none'"], url
        for name in ("script-src", "style-src", "img-src", "form-action"):
            assert policy[name] == ["'self'"], (url, name)
        assert policy["connect-src"] == connect, url
        assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"], url


def test_a_refused_request_carries_the_policy_too(world):
    assert "Content-Security-Policy" in logged_in(world.operator, world.employer).get("/backoffice/")


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline script"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "inline event handler"),
    (re.compile(r"\sstyle\s*=", re.I), "inline style attribute"),
    (re.compile(r"<style[\s>]", re.I), "style element"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_no_served_template_has_inline_script_or_style():
    found = []
    for path in ROOT.rglob("templates/**/*.html"):
        if path.name in NOT_SERVED:
            continue
        text = path.read_text()
        found += [f"{path.relative_to(ROOT)}: {what}" for pattern, what in INLINE if pattern.search(text)]
    assert found == []


def test_pages_of_a_logged_in_user_are_not_stored(world):
    operator = logged_in(world.operator, world.employer)
    for url in ("/home/", "/persons/", f"/tx/{world.saved.pk}/", "/accounts/password/"):
        response = operator.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url
    clerk = logged_in(world.clerk)
    assert "no-store" in clerk.get(f"/backoffice/tx/{world.review.pk}/")["Cache-Control"]
