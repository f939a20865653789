"""The person lock holds for batches (DOMAIN §4, issue 3 point 8)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.urls import reverse

from shebao.workflow import services as engine
from shebao.workflow.models import Item, ItemStatus, PersonLock, State, Transaction
from tests.batch.conftest import BIRTH, create_batch, enrol_row, upload_and_import, xlsx_bytes
from tests.factories import make_resident_id


def _row(tx, row_no) -> Item:
    return Item.objects.get(transaction=tx, row_no=row_no)


def _codes(item: Item) -> list[str]:
    return [i["code"] for i in item.import_issues]


def test_second_batch_naming_a_locked_person_fails_naming_the_serial_with_a_link(vip_client):
    a, b = make_resident_id(BIRTH), make_resident_id(BIRTH)
    first = upload_and_import(vip_client, xlsx_bytes([enrol_row(a), enrol_row(b)]))
    second = upload_and_import(vip_client, xlsx_bytes([enrol_row(a), enrol_row(make_resident_id(BIRTH))]))
    row = _row(second, 2)
    assert row.status == ItemStatus.IMPORT_FAILED and _codes(row) == ["LOCKED_HERE"]
    assert row.import_issues[0]["params"]["serial"] == first.serial
    assert _row(second, 3).status == ItemStatus.IMPORTED
    assert PersonLock.objects.get(id_key=f"01:{a}").transaction_id == first.pk
    html = vip_client.get(reverse("batch:detail", kwargs={"pk": second.pk})).content.decode()
    assert first.serial in html
    assert reverse("web:tx_detail", kwargs={"pk": first.pk}) in html  # one click to open (and 退单) it
    # The holder is a batch: its transaction page is the batch page, with 退单.
    response = vip_client.get(reverse("web:tx_detail", kwargs={"pk": first.pk}))
    assert response.status_code == 302 and response["Location"] == reverse("batch:detail", kwargs={"pk": first.pk})
    # 退单 the first: its locks go; a corrected upload now takes the person.
    vip_client.post(reverse("batch:action", kwargs={"pk": first.pk}), {"action": "cancel", "version": first.version})
    first.refresh_from_db()
    assert first.state == State.CANCELLED
    assert not PersonLock.objects.filter(transaction=first).exists()
    third = upload_and_import(vip_client, xlsx_bytes([enrol_row(a)]))
    assert _row(third, 2).status == ItemStatus.IMPORTED


def test_rows_that_failed_import_still_lock_when_their_id_is_valid(vip_client, vip_employer):
    a = make_resident_id(BIRTH)
    batch = upload_and_import(vip_client, xlsx_bytes([enrol_row(a, 申报月工资="abc"), enrol_row("123")]))
    assert [i.status for i in Item.objects.filter(transaction=batch)] == [ItemStatus.IMPORT_FAILED] * 2
    assert list(PersonLock.objects.filter(transaction=batch).values_list("id_key", flat=True)) == [f"01:{a}"]


def test_single_transaction_naming_a_person_in_an_open_batch_is_refused(vip_client, vip_employer):
    a = make_resident_id(BIRTH)
    batch = upload_and_import(vip_client, xlsx_bytes([enrol_row(a)]))
    raw = {
        "id_type": "01",
        "id_number": a,
        "name": "张三",
        "hukou": "urban",
        "identity": "worker",
        "employment_form": "contract",
        "first_work_date": "2012-07-01",
        "start_month": _row(batch, 2).data["start_month"],
        "wage": "8000",
        "phone": "13800000000",
    }
    result = engine.transaction_save_single(
        employer=vip_employer, actor=vip_client.user, business_type="enrol", raw=raw
    )
    assert not result.ok
    assert result.issues[0].code == "LOCKED_HERE" and result.lock.serial == batch.serial
    assert result.lock.transaction_id == batch.pk


def test_batch_naming_a_person_of_an_open_single_fails(vip_client, vip_employer):
    a = make_resident_id(BIRTH)
    raw = {
        "id_type": "01",
        "id_number": a,
        "name": "张三",
        "hukou": "urban",
        "identity": "worker",
        "employment_form": "contract",
        "first_work_date": "2012-07-01",
        "start_month": enrol_row(a)["参保起始年月"],
        "wage": "8000",
        "phone": "13800000000",
    }
    single = engine.transaction_save_single(
        employer=vip_employer, actor=vip_client.user, business_type="enrol", raw=raw
    ).transaction
    batch = upload_and_import(vip_client, xlsx_bytes([enrol_row(a)]))
    row = _row(batch, 2)
    assert _codes(row) == ["LOCKED_HERE"] and row.import_issues[0]["params"]["serial"] == single.serial


def test_another_employers_lock_does_not_name_its_serial(vip_client, other_employer, operator_client):
    a = make_resident_id(BIRTH)
    upload_and_import(operator_client(other_employer), xlsx_bytes([enrol_row(a)]))
    mine = upload_and_import(vip_client, xlsx_bytes([enrol_row(a)]))
    row = _row(mine, 2)
    assert _codes(row) == ["LOCKED_ELSEWHERE"] and row.import_issues[0]["params"] == {}
    html = vip_client.get(reverse("batch:detail", kwargs={"pk": mine.pk})).content.decode()
    assert "其他单位" in html


def test_delete_ticked_row_releases_its_lock_and_is_kept_in_history(vip_client):
    a, b = make_resident_id(BIRTH), make_resident_id(BIRTH)
    tx = upload_and_import(vip_client, xlsx_bytes([enrol_row(a), enrol_row(b, 申报月工资="x")]))
    failed = _row(tx, 3)
    response = vip_client.post(
        reverse("batch:action", kwargs={"pk": tx.pk}), {"action": "delete", "version": tx.version, "items": [failed.pk]}
    )
    assert response.status_code == 302
    tx.refresh_from_db()
    failed.refresh_from_db()
    assert failed.status == ItemStatus.DELETED and failed.deleted_at is not None
    assert (tx.total_count, tx.import_failed_count) == (1, 0)
    assert not PersonLock.objects.filter(id_key=f"01:{b}").exists()
    assert PersonLock.objects.filter(id_key=f"01:{a}", transaction=tx).exists()
    event = tx.events.get(action="delete_rows")
    assert event.detail["rows"] == [3] and event.actor == vip_client.user
    # Not shown any more; the person is free for another transaction.
    html = vip_client.get(reverse("batch:detail", kwargs={"pk": tx.pk})).content.decode()
    assert 'data-row="3"' not in html
    other = upload_and_import(vip_client, xlsx_bytes([enrol_row(b)]))
    assert _row(other, 2).status == ItemStatus.IMPORTED
    # A stale delete (old version) changes nothing.
    vip_client.post(
        reverse("batch:action", kwargs={"pk": tx.pk}),
        {"action": "delete", "version": tx.version - 1, "items": [_row(tx, 2).pk]},
    )
    assert _row(tx, 2).status == ItemStatus.IMPORTED


def test_deleting_one_duplicate_moves_the_lock_and_frees_the_other_row(vip_client):
    a = make_resident_id(BIRTH)
    tx = upload_and_import(vip_client, xlsx_bytes([enrol_row(a), enrol_row(a), enrol_row(make_resident_id(BIRTH))]))
    first, second = _row(tx, 2), _row(tx, 3)
    lock = PersonLock.objects.get(id_key=f"01:{a}")
    holder = lock.item
    other = second if holder.pk == first.pk else first
    vip_client.post(
        reverse("batch:action", kwargs={"pk": tx.pk}), {"action": "delete", "version": tx.version, "items": [holder.pk]}
    )
    lock.refresh_from_db()
    other.refresh_from_db()
    assert lock.item_id == other.pk and lock.transaction_id == tx.pk
    assert other.status == ItemStatus.IMPORTED and other.import_issues == []
    tx.refresh_from_db()
    assert (tx.total_count, tx.import_failed_count) == (2, 0)


def test_finishing_the_batch_releases_its_locks(vip_client):
    a = make_resident_id(BIRTH)
    tx = upload_and_import(vip_client, xlsx_bytes([enrol_row(a)]))
    engine.transaction_submit(tx=tx, actor=vip_client.user, version=tx.version)
    engine.run_audit(tx.pk)
    tx.refresh_from_db()
    assert tx.state == State.FINISHED
    assert not PersonLock.objects.filter(transaction=tx).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_uploads_naming_the_same_person_exactly_one_gets_the_lock(params, vip_employer):
    from tests.factories import OperatorFactory

    user = OperatorFactory(employer=vip_employer)
    shared = make_resident_id(BIRTH)
    files = [xlsx_bytes([enrol_row(shared), enrol_row(make_resident_id(BIRTH))]) for _ in range(4)]
    txs = [engine_upload(vip_employer, user, data) for data in files]
    barrier = threading.Barrier(len(txs))
    errors = []

    def work(tx):
        try:
            barrier.wait()
            from shebao.batch.jobs import import_job

            import_job(tx.pk)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(tx,)) for tx in txs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    rows = Item.objects.filter(transaction__in=txs, id_key=f"01:{shared}")
    assert rows.count() == 4
    assert rows.filter(status=ItemStatus.IMPORTED).count() == 1
    assert rows.filter(status=ItemStatus.IMPORT_FAILED).count() == 3
    lock = PersonLock.objects.get(id_key=f"01:{shared}")
    assert rows.get(status=ItemStatus.IMPORTED).transaction_id == lock.transaction_id
    assert set(Transaction.objects.filter(pk__in=[t.pk for t in txs]).values_list("state", flat=True)) == {State.SAVED}


def engine_upload(employer, user, data):
    from shebao.batch import services

    return services.batch_upload(employer=employer, actor=user, business_type="enrol", filename="f.xlsx", data=data)


def test_create_batch_helper_matches_upload(params, vip_employer, operator_client):
    client = operator_client(vip_employer)
    tx = create_batch(vip_employer, client.user, xlsx_bytes([enrol_row(make_resident_id(BIRTH))]))
    assert tx.state == State.SAVED and tx.total_count == 1


@pytest.mark.parametrize("hostile", ["9" * 30, "²", "-3", "1e3", ""])
def test_a_ticked_id_that_cannot_exist_is_simply_not_found(vip_client, hostile):
    tx = upload_and_import(
        vip_client, xlsx_bytes([enrol_row(make_resident_id(BIRTH)), enrol_row(make_resident_id(BIRTH))])
    )
    url = reverse("batch:action", kwargs={"pk": tx.pk})
    alone = vip_client.post(url, {"action": "delete", "version": tx.version, "items": [hostile]})
    assert alone.status_code == 400 and "请先勾选要删除的人员" in alone.content.decode()
    tx.refresh_from_db()
    assert tx.total_count == 2
    # Beside a real row, the real row is deleted.
    vip_client.post(url, {"action": "delete", "version": tx.version, "items": [hostile, str(_row(tx, 2).pk)]})
    assert _row(tx, 2).status == ItemStatus.DELETED and _row(tx, 3).status == ItemStatus.IMPORTED
