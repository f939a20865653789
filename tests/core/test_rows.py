"""The hand-written look-ups of every request give the same objects the ORM gives."""

from __future__ import annotations

import pytest
from django.db import connection

from shebao.accounts.backends import ShebaoBackend
from shebao.accounts.scoping import _active_employer
from shebao.core import rows
from shebao.employers.models import Employer
from tests.factories import DEFAULT_PASSWORD, EmployerFactory, OperatorFactory

pytestmark = pytest.mark.django_db


def _values(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def test_user_and_employer_match_the_orm():
    employer = EmployerFactory(is_vip=True)
    user = OperatorFactory(employer=employer)
    loaded = ShebaoBackend().get_user(user.pk)
    assert _values(loaded) == _values(type(user).objects.get(pk=user.pk))
    assert loaded.check_password(DEFAULT_PASSWORD)  # a real, usable instance
    mine = _active_employer(user.pk, employer.pk)
    assert _values(mine) == _values(Employer.objects.get(pk=employer.pk))
    assert mine.office.code == employer.office.code  # relations still load on demand


def test_instance_converts_each_backends_types():
    employer = EmployerFactory(is_vip=False)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {rows.select_list(Employer, 'e')} FROM {rows.table(Employer)} e WHERE e.id = %s", [employer.pk]
        )
        obj, end = rows.instance(Employer, cursor.fetchone())
    assert end == len(Employer._meta.concrete_fields)
    assert obj.is_vip is False and obj.active is True  # SQLite hands back 0 and 1
    assert obj.created_at == Employer.objects.get(pk=employer.pk).created_at  # aware datetimes on both


def test_unknown_or_inactive_users_are_not_loaded():
    employer = EmployerFactory(is_vip=True)
    user = OperatorFactory(employer=employer)
    backend = ShebaoBackend()
    assert backend.get_user(user.pk + 1000) is None
    assert backend.get_user("not a number") is None
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    assert backend.get_user(user.pk) is None
    assert _active_employer(user.pk, "x") is None


@pytest.mark.django_db
def test_an_integer_in_ignores_numbers_its_column_cannot_hold():
    from shebao.workflow.models import Transaction
    from tests.factories import EmployerFactory, OperatorFactory, TransactionFactory

    employer = EmployerFactory(is_vip=True)
    tx = TransactionFactory(
        employer=employer,
        business_type="enrol",
        mode="single",
        operator=OperatorFactory(employer=employer),
        state="saved",
    )
    assert list(Transaction.objects.filter(pk__in=[10**30, -(10**30), tx.pk])) == [tx]
    assert not Transaction.objects.filter(pk__in=[10**30]).exists()
    assert Transaction.objects.exclude(pk__in=[10**30]).count() == 1
