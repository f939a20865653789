"""Fixtures of the administration tests: a system administrator and one district."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import AdminFactory, OfficeFactory


@pytest.fixture
def sysadmin(db):
    return AdminFactory(username="sysadmin")


@pytest.fixture
def sysadmin_client(sysadmin):
    client = Client()
    client.force_login(sysadmin)
    return client


@pytest.fixture
def office(db):
    return OfficeFactory(code="A01", name="东区社保处", address="东区一路1号", hours="周一至周五 9:00-17:00")
