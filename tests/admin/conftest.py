"""Fixtures of the administration tests: a system administrator and one district."""

from __future__ import annotations

import pytest
from django.test import Client

from shebao.accounts.models import Role, User
from shebao.core.identity import USCC_CHARS, USCC_WEIGHTS
from shebao.employers.models import Office


def make_uscc(seed: int) -> str:
    body = f"9144{seed:013d}"[:17]
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(body, USCC_WEIGHTS, strict=True))
    return body + USCC_CHARS[(31 - total % 31) % 31]


@pytest.fixture
def sysadmin(db):
    return User.objects.create_user(
        username="sysadmin",
        password="Adminpass!2345",
        role=Role.ADMIN,
        is_staff=True,
        is_superuser=True,
        must_change_password=False,
    )


@pytest.fixture
def sysadmin_client(sysadmin):
    client = Client()
    client.force_login(sysadmin)
    return client


@pytest.fixture
def office(db):
    return Office.objects.create(code="A01", name="东区社保处", address="东区一路1号", hours="周一至周五 9:00-17:00")
