"""What a finished batch writes to the register, and that COPY (PostgreSQL) and the portable
bulk_create path (SQLite, the embedded default) write exactly the same rows."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from shebao.core import bulk
from shebao.core.choices import ALL_INSURANCE
from shebao.core.months import add_months, current_month, format_month
from shebao.register.models import ContributionBase, ContributionLine, Person, Relation
from shebao.workflow import services as engine
from shebao.workflow.models import Item, State
from tests.batch.conftest import BIRTH, create_batch, enrol_row, xlsx_bytes
from tests.factories import (
    ContributionBaseFactory,
    EmployerFactory,
    OperatorFactory,
    PersonFactory,
    make_resident_id,
)

pytestmark = pytest.mark.django_db


def _enrol_batch(params) -> tuple:
    """A VIP batch of four: plain, with a back payment, a wage under the floor, and a person
    already on the register (not contributing) with this employer's base for the year."""
    employer = EmployerFactory(is_vip=True)
    user = OperatorFactory(employer=employer)
    start = current_month()
    since = add_months(start, -2)
    known = make_resident_id(BIRTH)
    person = PersonFactory(
        id_number=known, name="张三", sex="1", birth_date=BIRTH, phone="13900000000", address="旧地址"
    )
    ContributionBaseFactory(
        person=person, employer=employer, year=start.year, declared_wage=Decimal("6000"), base=Decimal("6000")
    )
    rows = [
        enrol_row(make_resident_id(BIRTH), 申报月工资="8000.00"),
        enrol_row(make_resident_id(BIRTH), 补缴起始年月=format_month(since), 补缴基数="5000"),
        enrol_row(make_resident_id(BIRTH), 申报月工资="3000"),
        enrol_row(known, 申报月工资="9000.50", 联系电话="13700000000", 联系地址="新地址"),
    ]
    tx = create_batch(employer, user, xlsx_bytes(rows))
    engine.transaction_submit(tx=tx, actor=user, version=tx.version)
    before = timezone.now()
    assert engine.run_audit(tx.pk) == "finished"
    tx.refresh_from_db()
    assert tx.state == State.FINISHED and tx.applied_count == 4
    return tx, before


def _register(tx) -> dict:
    """The register rows of the batch's persons by row number, without ids and times."""
    out = {}
    for item in Item.objects.filter(transaction=tx).order_by("row_no"):
        person = Person.objects.get(id_key=item.id_key)
        out[item.row_no] = {
            "person": (
                person.id_type,
                person.name,
                person.sex,
                person.birth_date,
                person.hukou,
                person.identity,
                person.employment_form,
                person.first_work_date,
                person.phone,
                person.address,
                person.ethnicity,
                person.photo,
            ),
            "relations": sorted(
                (
                    r.employer_id == tx.employer_id,
                    r.insurance_type,
                    r.status,
                    r.start_month,
                    r.end_month,
                    r.end_reason,
                    r.started_by_id == tx.pk,
                    r.ended_by_id,
                )
                for r in Relation.objects.filter(person=person)
            ),
            "bases": sorted(
                (
                    b.employer_id == tx.employer_id,
                    b.year,
                    b.insurance_type,
                    b.declared_wage,
                    b.base,
                    b.transaction_id == tx.pk,
                )
                for b in ContributionBase.objects.filter(person=person)
            ),
            "lines": sorted(
                (
                    line.employer_id == tx.employer_id,
                    line.month,
                    line.insurance_type,
                    line.kind,
                    line.base,
                    line.employer_amount,
                    line.personal_amount,
                    line.transaction_id == tx.pk,
                    line.voided_by_id,
                )
                for line in ContributionLine.objects.filter(person=person)
            ),
        }
    return out


def _times_set(tx, before) -> None:
    for model, field in ((Relation, "started_by"), (ContributionBase, "transaction")):
        rows = model.objects.filter(**{field: tx})
        assert rows.exists() and all(r.created_at and r.updated_at >= before for r in rows)
    new = Person.objects.filter(bases__transaction=tx, created_at__gte=before).distinct()
    assert new.count() == 3 and all(p.updated_at >= before for p in new)


def test_a_finished_batch_writes_persons_relations_bases_and_lines(params):
    tx, before = _enrol_batch(params)
    register = _register(tx)
    start = current_month()
    plain, backpay, low, known = (register[n] for n in (2, 3, 4, 5))
    assert [r[1] for r in plain["relations"]] == sorted(["injury", "maternity", "medical", "pension", "unemployment"])
    assert all(r[2] == "contributing" and r[3] == start and r[6] for r in plain["relations"])
    # One base per insurance type.
    assert plain["bases"] == [
        (True, start.year, itype, Decimal("8000.00"), Decimal("8000.00"), True) for itype in sorted(ALL_INSURANCE)
    ]
    assert len(plain["lines"]) == 5 and {line[1] for line in plain["lines"]} == {start}
    pension = next(line for line in plain["lines"] if line[2] == "pension")
    assert pension[4:7] == (Decimal("8000.00"), Decimal("1280.00"), Decimal("640.00"))
    assert [line[1] for line in backpay["lines"] if line[3] == "backpay" and line[2] == "pension"] == [
        add_months(start, -2),
        add_months(start, -1),
    ]
    assert {b[3:5] for b in low["bases"]} == {(Decimal("3000.00"), Decimal("4498.00"))}  # clamped to the floor
    # The known person: fields updated, this employer's base for the year replaced.
    assert known["person"][8:10] == ("13700000000", "新地址")
    assert known["bases"] == [
        (True, start.year, itype, Decimal("9000.50"), Decimal("9000.50"), True) for itype in sorted(ALL_INSURANCE)
    ]
    _times_set(tx, before)


@pytest.mark.postgres
def test_copy_writes_the_same_register_rows_as_the_portable_path(params, monkeypatch):
    assert connection.vendor == "postgresql"
    results = {}
    for copy in (False, True):
        monkeypatch.setattr(bulk, "use_copy", lambda copy=copy: copy)
        tx, before = _enrol_batch(params)
        results[copy] = _register(tx)
        _times_set(tx, before)
    assert results[True] == results[False]
    assert sum(len(r["lines"]) for r in results[True].values()) == 5 * 4 + 4 * 2  # no work injury back pay
