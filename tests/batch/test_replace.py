"""用新文件替换未提交的批次 (issue 10 point 11): a corrected file replaces the open batch in
one step; the person locks pass from the old batch to the new one in the commit that ends the
import; a file refused as a whole leaves the old batch as it was."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.urls import reverse

from shebao.batch import services as batch_services
from shebao.batch.models import Upload
from shebao.core.errors import ApplicationError
from shebao.workflow import services as engine
from shebao.workflow.models import Item, ItemStatus, PersonLock, State, Transaction
from tests.batch.conftest import BIRTH, enrol_row, run_import, upload, upload_and_import, xlsx_bytes
from tests.factories import make_resident_id
from tests.workflow.helpers import enrol_raw


def _row(tx, row_no) -> Item:
    return Item.objects.get(transaction=tx, row_no=row_no)


def _codes(item: Item) -> list[str]:
    return [i["code"] for i in item.import_issues]


def _holder(id_number: str) -> int | None:
    return PersonLock.objects.filter(id_key=f"01:{id_number}").values_list("transaction_id", flat=True).first()


def test_without_replacing_the_corrected_file_fails_with_locked_here_and_offers_the_replacement(vip_client):
    a, b = make_resident_id(BIRTH), make_resident_id(BIRTH)
    first = upload_and_import(vip_client, xlsx_bytes([enrol_row(a), enrol_row(b, 申报月工资="abc")]))
    second = upload_and_import(vip_client, xlsx_bytes([enrol_row(a), enrol_row(b)]))
    assert [_codes(_row(second, n)) for n in (2, 3)] == [["LOCKED_HERE"], ["LOCKED_HERE"]]
    html = vip_client.get(reverse("batch:detail", kwargs={"pk": second.pk})).content.decode()
    assert f"用新文件替换未提交的批次 流水号 {first.serial}" in html  # the refusal's one click
    page = vip_client.get(reverse("batch:upload", kwargs={"code": "enrol"}) + f"?replace={first.pk}")
    text = page.content.decode()
    assert f"用新文件替换未提交的批次 流水号 {first.serial}" in text
    assert f'value="{first.pk}" checked' in text  # preselected from the link


def test_replacing_cancels_the_open_batch_and_passes_its_locks_in_the_import_commit(vip_client):
    a, b, c = (make_resident_id(BIRTH) for _ in range(3))
    first = upload_and_import(vip_client, xlsx_bytes([enrol_row(a), enrol_row(b, 申报月工资="abc"), enrol_row(c)]))
    assert {_holder(a), _holder(b), _holder(c)} == {first.pk}
    response = upload(vip_client, xlsx_bytes([enrol_row(a), enrol_row(b)]), replaces=str(first.pk))
    assert response.status_code == 302
    new = Transaction.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))
    # Until the import ends the old batch is as it was, and says what will happen to it.
    first.refresh_from_db()
    assert first.state == State.SAVED and _holder(a) == first.pk
    html = vip_client.get(reverse("batch:detail", kwargs={"pk": first.pk})).content.decode()
    assert new.serial in html and "正在导入，完成后将替换本批次" in html
    new = run_import(new)
    first.refresh_from_db()
    assert new.state == State.SAVED and first.state == State.CANCELLED
    assert [_row(new, n).status for n in (2, 3)] == [ItemStatus.IMPORTED, ItemStatus.IMPORTED]
    # The persons named by the new file are held by it, on its own rows; the one it dropped is free.
    assert (_holder(a), _holder(b), _holder(c)) == (new.pk, new.pk, None)
    assert PersonLock.objects.get(id_key=f"01:{a}").item_id == _row(new, 2).pk
    assert not PersonLock.objects.filter(transaction=first).exists()
    replaced = first.events.get(action="replaced")
    assert replaced.detail["by"] == new.serial and replaced.actor == vip_client.user
    assert new.events.get(action="replace").detail["replaced"] is True
    # Both histories say it, in words.
    old_html = vip_client.get(reverse("batch:detail", kwargs={"pk": first.pk})).content.decode()
    assert f"已由流水号 {new.serial} 的新文件替换（退单）" in old_html
    new_html = vip_client.get(reverse("batch:detail", kwargs={"pk": new.pk})).content.decode()
    assert f"替换未提交的批次 流水号 {first.serial}" in new_html
    assert f"本批次替换了未提交的批次 流水号 {first.serial}" in new_html
    # The new batch goes on like any other.
    engine.transaction_submit(tx=new, actor=vip_client.user, version=new.version)
    engine.run_audit(new.pk)
    new.refresh_from_db()
    assert new.state == State.FINISHED


def test_a_returned_batch_can_be_replaced_and_the_one_click_reimports_the_refused_file(vip_client):
    a = make_resident_id(BIRTH)
    first = upload_and_import(vip_client, xlsx_bytes([enrol_row(a)]))
    first.state = State.RETURNED  # as after a clerk's 回退
    first.returned = True
    first.save(update_fields=["state", "returned"])
    second = upload_and_import(vip_client, xlsx_bytes([enrol_row(a, 姓名="张三")]))
    assert _codes(_row(second, 2)) == ["LOCKED_HERE"]
    response = vip_client.post(
        reverse("batch:action", kwargs={"pk": second.pk}),
        {"action": "replace_with_file", "version": second.version, "replaces": first.pk},
    )
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.state == State.CANCELLED
    third = Transaction.objects.exclude(pk__in=[first.pk, second.pk]).get()
    assert response["Location"] == reverse("batch:detail", kwargs={"pk": third.pk})
    assert Upload.objects.get(transaction=third).replaces_id == first.pk
    assert bytes(Upload.objects.get(transaction=third).content) == bytes(Upload.objects.get(transaction=second).content)
    third = run_import(third)
    first.refresh_from_db()
    assert first.state == State.CANCELLED and _row(third, 2).status == ItemStatus.IMPORTED
    assert _holder(a) == third.pk


def test_a_file_refused_as_a_whole_leaves_the_old_batch_as_it_was(vip_client):
    a = make_resident_id(BIRTH)
    first = upload_and_import(vip_client, xlsx_bytes([enrol_row(a)]))
    version = first.version
    response = upload(vip_client, b"not a spreadsheet at all", filename="x.xlsx", replaces=str(first.pk))
    assert response.status_code == 400
    first.refresh_from_db()
    assert (first.state, first.version, _holder(a)) == (State.SAVED, version, first.pk)
    assert Transaction.objects.count() == 1


def test_the_import_job_refusing_the_file_leaves_the_old_batch_as_it_was(vip_client, settings):
    a = make_resident_id(BIRTH)
    first = upload_and_import(vip_client, xlsx_bytes([enrol_row(a)]))
    response = upload(vip_client, xlsx_bytes([enrol_row(a)]), replaces=str(first.pk))
    new = Transaction.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))
    Upload.objects.filter(transaction=new).update(content=b"PK\x03\x04 broken after the request")
    new = run_import(new)
    first.refresh_from_db()
    assert new.state == State.CANCELLED and first.state == State.SAVED
    assert _holder(a) == first.pk


def test_a_batch_submitted_during_the_import_is_not_replaced_and_its_persons_fail_the_new_file(vip_client):
    a, b = make_resident_id(BIRTH), make_resident_id(BIRTH)
    first = upload_and_import(vip_client, xlsx_bytes([enrol_row(a)]))
    response = upload(vip_client, xlsx_bytes([enrol_row(a), enrol_row(b)]), replaces=str(first.pk))
    new = Transaction.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))
    engine.transaction_submit(tx=first, actor=vip_client.user, version=first.version)  # meanwhile
    new = run_import(new)
    first.refresh_from_db()
    assert first.state == State.AUDITING
    row = _row(new, 2)
    assert row.status == ItemStatus.IMPORT_FAILED and _codes(row) == ["LOCKED_HERE"]
    assert row.import_issues[0]["params"]["serial"] == first.serial
    assert _row(new, 3).status == ItemStatus.IMPORTED and _holder(b) == new.pk
    assert _holder(a) == first.pk
    assert new.import_failed_count == 1
    assert new.events.get(action="replace_skipped").detail["serial"] == first.serial
    html = vip_client.get(reverse("batch:detail", kwargs={"pk": new.pk})).content.decode()
    assert f"未能替换流水号 {first.serial}" in html


def test_a_batch_cancelled_during_the_import_frees_its_persons_for_the_new_file(vip_client):
    a = make_resident_id(BIRTH)
    first = upload_and_import(vip_client, xlsx_bytes([enrol_row(a)]))
    response = upload(vip_client, xlsx_bytes([enrol_row(a)]), replaces=str(first.pk))
    new = Transaction.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))
    engine.transaction_cancel(tx=first, actor=vip_client.user, version=first.version)
    new = run_import(new)
    assert _row(new, 2).status == ItemStatus.IMPORTED and _holder(a) == new.pk


def test_only_this_employers_open_batches_of_the_type_can_be_replaced(vip_client, vip_employer, other_employer):
    from tests.batch.conftest import create_batch
    from tests.factories import OperatorFactory

    theirs = create_batch(other_employer, OperatorFactory(employer=other_employer), xlsx_bytes([enrol_row()]))
    mine = upload_and_import(vip_client, xlsx_bytes([enrol_row()]))
    engine.transaction_submit(tx=mine, actor=vip_client.user, version=mine.version)
    for target in (theirs, mine, Transaction(pk=10**9)):
        with pytest.raises(ApplicationError) as refused:
            batch_services.batch_upload(
                employer=vip_employer,
                actor=vip_client.user,
                business_type="enrol",
                filename="f.xlsx",
                data=xlsx_bytes([enrol_row()]),
                replaces=target.pk,
            )
        assert refused.value.code == "NOT_REPLACEABLE"
    # Through the page: a clear refusal, nothing created.
    before = Transaction.objects.count()
    response = upload(vip_client, xlsx_bytes([enrol_row()]), replaces=str(theirs.pk))
    assert response.status_code == 400 and "不能替换" in response.content.decode()
    assert Transaction.objects.count() == before
    # The upload page offers neither, and a link naming one says it cannot be replaced.
    page = vip_client.get(reverse("batch:upload", kwargs={"code": "enrol"}) + f"?replace={mine.pk}").content.decode()
    assert mine.serial not in page and theirs.serial not in page and "不能再替换" in page


def test_a_batch_being_replaced_cannot_be_replaced_twice(vip_client):
    first = upload_and_import(vip_client, xlsx_bytes([enrol_row()]))
    assert upload(vip_client, xlsx_bytes([enrol_row()]), replaces=str(first.pk)).status_code == 302
    response = upload(vip_client, xlsx_bytes([enrol_row()]), replaces=str(first.pk))
    assert response.status_code == 400 and "正在导入" in response.content.decode()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_no_other_transaction_takes_a_passing_person_between_the_old_and_the_new_batch(params, vip_employer):
    """The old batch's locks pass in the import's last commit: a single enrolment of the same
    person racing that commit either finds the old batch or the new one holding the person,
    never a gap."""
    from tests.factories import OperatorFactory

    user = OperatorFactory(employer=vip_employer)
    people = [make_resident_id(BIRTH) for _ in range(30)]
    data = xlsx_bytes([enrol_row(n) for n in people])
    first = run_import(
        batch_services.batch_upload(
            employer=vip_employer, actor=user, business_type="enrol", filename="a.xlsx", data=data
        )
    )
    new = batch_services.batch_upload(
        employer=vip_employer, actor=user, business_type="enrol", filename="b.xlsx", data=data, replaces=first.pk
    )
    barrier = threading.Barrier(2)
    won: list[str] = []
    tries: list[str] = []
    imported = threading.Event()
    errors: list[BaseException] = []

    def importer():
        try:
            barrier.wait()
            from shebao.batch.jobs import import_job

            import_job(new.pk)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            imported.set()
            connection.close()

    def intruder():
        try:
            barrier.wait()
            # Every person in turn, round after round, while the import runs and once after it:
            # an attempt lands before, during and after the commit that passes the locks.
            rounds_after = 0
            while rounds_after < 1:
                finished = imported.is_set()
                for number in people:
                    result = engine.transaction_save_single(
                        employer=vip_employer, actor=user, business_type="enrol", raw=enrol_raw(number, wage="8000")
                    )
                    tries.append(number)
                    if result.ok:
                        won.append(number)
                rounds_after += finished
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=importer), threading.Thread(target=intruder)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert won == [] and len(tries) >= 2 * len(people)  # held by one batch or the other throughout
    new.refresh_from_db()
    first.refresh_from_db()
    assert (first.state, new.state, new.import_failed_count) == (State.CANCELLED, State.SAVED, 0)
    assert PersonLock.objects.filter(transaction=new).count() == len(people)
