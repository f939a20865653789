"""The pinyin sort key of a person's name: its order, and every path that writes persons fills it."""

import datetime as dt

import pytest

from shebao.core.pinyin import name_sort_key
from shebao.register.models import Person
from shebao.workflow import services
from tests.factories import EmployerFactory, OperatorFactory, PersonFactory, make_resident_id, seed_params
from tests.workflow.helpers import enrol_raw

NAMES = ["赵六", "安静", "李明", "连杰", "刘洋", "吕布", "王五", "曾志伟", "张三", "阿依古丽·买买提", "John Smith"]
PINYIN_ORDER = [
    "阿依古丽·买买提",
    "安静",
    "John Smith",
    "李明",
    "连杰",
    "刘洋",
    "吕布",
    "王五",
    "曾志伟",
    "张三",
    "赵六",
]


def test_the_key_sorts_names_by_pinyin():
    assert sorted(NAMES, key=name_sort_key) == PINYIN_ORDER


def test_the_key_is_plain_ascii_letters_and_digits():
    for name in NAMES:
        assert name_sort_key(name).isascii() and name_sort_key(name).isalnum()


@pytest.mark.django_db
def test_the_database_sorts_by_the_key_as_python_does():
    # Runs on SQLite and, with DATABASE_URL, on PostgreSQL: the key sorts alike on both.
    for name in reversed(NAMES):
        PersonFactory(name=name)
    assert list(Person.objects.order_by("name_key", "id").values_list("name", flat=True)) == PINYIN_ORDER


@pytest.mark.django_db
def test_the_sort_key_follows_a_changed_name():
    person = PersonFactory(name="张三")
    person.name = "安静"
    person.save(update_fields=["name"])
    person.refresh_from_db()
    assert person.name_key == name_sort_key("安静")


def test_a_surname_is_read_as_a_surname():
    assert name_sort_key("曾志伟").startswith("zeng")
    assert name_sort_key("单雄信").startswith("shan")


@pytest.mark.django_db
def test_persons_written_by_the_enrolments_bulk_insert_get_their_sort_key():
    employer = EmployerFactory(is_vip=True)
    user = OperatorFactory(employer=employer)
    seed_params()
    raw = enrol_raw(make_resident_id(dt.date(1990, 3, 7)), name="曾小贤")
    tx = services.transaction_save_single(
        employer=employer, actor=user, business_type="enrol", raw=raw, header={}
    ).transaction
    assert tx is not None
    services.transaction_submit(tx=tx, actor=user, version=tx.version)
    services.run_audit(tx.pk)
    person = Person.objects.get(name="曾小贤")
    assert person.name_key == name_sort_key("曾小贤") != ""


@pytest.mark.django_db
def test_the_migration_fills_the_key_of_persons_already_registered():
    import importlib

    from django.apps import apps

    fill = importlib.import_module("shebao.register.migrations.0005_fill_person_name_key").fill
    for name in NAMES:
        PersonFactory(name=name)
    Person.objects.update(name_key="")
    fill(apps, None)
    assert list(Person.objects.order_by("name_key", "id").values_list("name", flat=True)) == PINYIN_ORDER
