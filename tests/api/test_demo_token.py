"""make demo: seed_demo gives the demo VIP employer a read-write API token that the logins
table prints, so the API can be tried at once; running it again keeps one working token."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client

from shebao.api.models import ApiToken
from shebao.demo import data

pytestmark = pytest.mark.django_db


def test_the_demo_token_acts_for_the_demo_employer(capsys):
    call_command("seed_demo")
    assert f"Bearer {data.DEMO_API_TOKEN}" in capsys.readouterr().out
    ApiToken.objects.update(revoked_at="2026-06-01T00:00:00Z")  # revoked in an earlier demo
    call_command("seed_demo", "--quiet-logins")
    assert ApiToken.objects.count() == 1
    me = Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {data.DEMO_API_TOKEN}")
    assert me.status_code == 200, me.content
    assert (me.json()["employer_code"], me.json()["scope"]) == (data.DEMO_API_EMPLOYER, "write")
