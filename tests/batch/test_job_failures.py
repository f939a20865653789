"""A stuck job always has a way out: an import or audit that fails (or dies) on every delivery
is given up after SHEBAO_JOB_MAX_ATTEMPTS, never re-queued for ever; the user sees why and
can leave (退单 releases the persons; a returned audit can be submitted again); an
administrator finds the failed jobs with their transaction."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from django_q.models import OrmQ

from shebao.batch import services as batch_services
from shebao.batch.jobs import import_job, sweep_stuck_imports_job
from shebao.workflow import services as engine
from shebao.workflow.jobs import audit_job, sweep_stuck_audits_job
from shebao.workflow.models import Event, Item, PersonLock, State, Transaction
from tests.batch.conftest import BIRTH, enrol_row, upload, xlsx_bytes
from tests.factories import make_resident_id

pytestmark = pytest.mark.django_db


class Poison(Exception):
    pass


def _uploaded(client, rows: int = 3) -> Transaction:
    response = upload(client, xlsx_bytes([enrol_row(make_resident_id(BIRTH)) for _ in range(rows)]))
    assert response.status_code == 302
    return Transaction.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))


def _silent(tx: Transaction) -> None:
    """The heartbeat the sweeper reads, an hour old: what a dead or failed job leaves."""
    Transaction.objects.filter(pk=tx.pk).update(heartbeat_at=timezone.now() - dt.timedelta(hours=1))


def _fail_import_after_its_rows(monkeypatch) -> None:
    """Every row stored and locked, then the job fails: the worst case for the persons."""

    def finish(*args, **kwargs):
        raise Poison("the import cannot finish")

    monkeypatch.setattr(batch_services, "_finish_import", finish)


def queued_jobs() -> int:
    """Import and audit jobs in the queue (the 消息中心's deliveries of the failure's
    messages are queued beside them and are not retries)."""
    return sum(1 for task in OrmQ.objects.all() if task.group() != "outbox")


def test_an_import_failing_every_time_is_given_up_shown_and_can_be_cancelled(vip_client, monkeypatch, settings, caplog):
    settings.SHEBAO_JOB_MAX_ATTEMPTS = 3
    tx = _uploaded(vip_client)
    _fail_import_after_its_rows(monkeypatch)
    OrmQ.objects.all().delete()
    for attempt in (1, 2):
        with pytest.raises(Poison):
            import_job(tx.pk)
        tx.refresh_from_db()
        assert (tx.state, tx.job_attempts, tx.job_failed_at) == (State.IMPORTING, attempt, None)
        _silent(tx)
        assert sweep_stuck_imports_job() == 1  # still worth another try
        assert queued_jobs() == attempt
    with pytest.raises(Poison):
        import_job(tx.pk)  # the last attempt
    tx.refresh_from_db()
    assert tx.state == State.IMPORTING and tx.job_failed_at is not None and tx.returned
    [reason] = tx.return_reasons
    ref = reason["params"]["ref"]
    assert reason["code"] == "IMPORT_JOB_FAILED" and f"[ref {ref}]" in caplog.text
    assert tx.job_error.startswith(f"[{ref}] Poison: the import cannot finish")
    assert Event.objects.filter(transaction=tx, action="import_failed").count() == 1
    assert PersonLock.objects.filter(transaction=tx).count() == 3

    # Never queued again, however long it stays silent; a late delivery does nothing.
    _silent(tx)
    assert sweep_stuck_imports_job() == 0 and queued_jobs() == 2
    assert import_job(tx.pk) == "skipped"

    # The batch page: the reason, no progress bar, 退单.
    page = vip_client.get(reverse("batch:detail", kwargs={"pk": tx.pk})).content.decode()
    assert "导入失败原因" in page and f"参考号 {ref}" in page and "请点击「退单」后重新上传" in page
    assert 'data-batch-poll="1"' not in page and 'data-testid="cancel"' in page
    status = vip_client.get(reverse("batch:status", kwargs={"pk": tx.pk})).json()
    assert status["final"] and status["business_status"] == "导入失败"
    # 首页: in the to-do list, 导入失败, with its reason.
    home = vip_client.get(reverse("web:home")).content.decode()
    row = re.search(rf'<tr data-serial="{tx.serial}">.*?</tr>', home, re.S).group(0)
    assert "导入失败" in row and f"参考号 {ref}" in row

    response = vip_client.post(
        reverse("batch:action", kwargs={"pk": tx.pk}), {"action": "cancel", "version": tx.version}
    )
    assert response.status_code == 302
    tx.refresh_from_db()
    assert tx.state == State.CANCELLED
    assert not PersonLock.objects.filter(transaction=tx).exists()
    # The persons are free: the same file imports in a new batch.
    monkeypatch.undo()
    items = list(Item.objects.filter(transaction=tx).values_list("id_number", flat=True))
    redo = upload(vip_client, xlsx_bytes([enrol_row(number) for number in items]))
    fresh = Transaction.objects.get(pk=int(redo["Location"].rstrip("/").split("/")[-1]))
    assert import_job(fresh.pk) == "saved"
    fresh.refresh_from_db()
    assert (fresh.total_count, fresh.import_failed_count) == (3, 0)


def test_a_live_import_cannot_be_cancelled(vip_client):
    tx = _uploaded(vip_client)
    response = vip_client.post(
        reverse("batch:action", kwargs={"pk": tx.pk}), {"action": "cancel", "version": tx.version}
    )
    assert response.status_code == 409  # the import screen again, with the conflict's message
    tx.refresh_from_db()
    assert tx.state == State.IMPORTING
    assert import_job(tx.pk) == "saved"


def test_an_import_killed_on_every_delivery_is_given_up_by_the_sweeper(vip_client, monkeypatch, settings):
    """A job killed by a timeout or the kernel never reaches its own error handling: the
    attempts counted at each start are what the sweeper stops at."""
    settings.SHEBAO_JOB_MAX_ATTEMPTS = 2
    tx = _uploaded(vip_client)

    def killed(*args, **kwargs):
        raise SystemExit("worker killed")

    monkeypatch.setattr(batch_services, "_take_locks", killed)
    for _attempt in range(2):
        with pytest.raises(SystemExit):
            import_job(tx.pk)
    tx.refresh_from_db()
    assert tx.job_attempts == 2 and tx.job_failed_at is None
    OrmQ.objects.all().delete()
    _silent(tx)
    assert sweep_stuck_imports_job() == 0 and queued_jobs() == 0
    tx.refresh_from_db()
    assert tx.job_failed_at is not None and tx.return_reasons[0]["code"] == "IMPORT_JOB_FAILED"
    assert "silent after 2 attempts" in tx.job_error


def test_a_delivery_after_the_last_attempt_gives_the_job_up(vip_client, settings):
    """The queue itself redelivers a job whose worker died; past the limit it is given up."""
    settings.SHEBAO_JOB_MAX_ATTEMPTS = 2
    tx = _uploaded(vip_client)
    Transaction.objects.filter(pk=tx.pk).update(job_attempts=2)  # two deliveries died without a word
    assert import_job(tx.pk) == "failed"
    tx.refresh_from_db()
    assert tx.job_failed_at is not None and not Item.objects.filter(transaction=tx).exists()


def _submitted(client, tx: Transaction) -> Transaction:
    assert import_job(tx.pk) == "saved"
    tx.refresh_from_db()
    response = client.post(reverse("batch:action", kwargs={"pk": tx.pk}), {"action": "submit", "version": tx.version})
    assert response.status_code == 302
    tx.refresh_from_db()
    assert tx.state == State.AUDITING
    return tx


def test_an_audit_failing_every_time_returns_the_batch_which_can_be_submitted_again(vip_client, monkeypatch, settings):
    settings.SHEBAO_JOB_MAX_ATTEMPTS = 2
    tx = _submitted(vip_client, _uploaded(vip_client))
    real = engine.finish_audit

    def broken(*args, **kwargs):
        raise Poison("the audit cannot finish")

    monkeypatch.setattr(engine, "finish_audit", broken)
    with pytest.raises(Poison):
        audit_job(tx.pk)
    _silent(tx)
    assert sweep_stuck_audits_job() == 1
    with pytest.raises(Poison):
        audit_job(tx.pk)
    tx.refresh_from_db()
    assert tx.state == State.RETURNED and tx.returned and tx.job_failed_at is not None
    [reason] = tx.return_reasons
    assert reason["code"] == "AUDIT_JOB_FAILED"
    _silent(tx)
    assert sweep_stuck_audits_job() == 0
    page = vip_client.get(reverse("batch:detail", kwargs={"pk": tx.pk})).content.decode()
    assert f"参考号 {reason['params']['ref']}" in page and 'data-testid="submit"' in page
    assert PersonLock.objects.filter(transaction=tx).count() == 3  # a returned batch keeps its persons

    # The fault mended, the user submits again: a fresh count of attempts, and it finishes.
    monkeypatch.setattr(engine, "finish_audit", real)
    response = vip_client.post(
        reverse("batch:action", kwargs={"pk": tx.pk}), {"action": "submit", "version": tx.version}
    )
    assert response.status_code == 302
    tx.refresh_from_db()
    assert (tx.state, tx.job_attempts, tx.job_failed_at, tx.job_error) == (State.AUDITING, 0, None, "")
    assert audit_job(tx.pk) == "finished"


def test_a_single_audit_given_up_is_returned_and_its_cancel_releases_the_person(
    vip_client, vip_employer, monkeypatch, settings
):
    from tests.factories import make_resident_id
    from tests.workflow.helpers import enrol_raw

    settings.SHEBAO_JOB_MAX_ATTEMPTS = 1
    saved = engine.transaction_save_single(
        employer=vip_employer,
        actor=vip_client.user,
        business_type="enrol",
        raw=enrol_raw(make_resident_id(dt.date(1990, 1, 1))),
    ).transaction
    engine.transaction_submit(tx=saved, actor=vip_client.user, version=saved.version)

    def broken(*args, **kwargs):
        raise Poison("the register rules cannot run")

    monkeypatch.setattr(engine, "run_audit", broken)
    with pytest.raises(Poison):
        audit_job(saved.pk)
    saved.refresh_from_db()
    assert saved.state == State.RETURNED and saved.return_reasons[0]["code"] == "AUDIT_JOB_FAILED"
    page = vip_client.get(reverse("web:tx_detail", kwargs={"pk": saved.pk})).content.decode()
    assert "自动审核因系统错误未能完成" in page
    response = vip_client.post(
        reverse("web:tx_action", kwargs={"pk": saved.pk}), {"action": "cancel", "version": saved.version}
    )
    assert response.status_code == 302
    saved.refresh_from_db()
    assert saved.state == State.CANCELLED and not PersonLock.objects.filter(transaction=saved).exists()


def test_an_administrator_finds_the_failed_jobs_with_their_transaction(vip_client, admin_client, monkeypatch, settings):
    settings.SHEBAO_JOB_MAX_ATTEMPTS = 1
    failed, fine = _uploaded(vip_client), _uploaded(vip_client)
    assert import_job(fine.pk) == "saved"
    _fail_import_after_its_rows(monkeypatch)
    with pytest.raises(Poison):
        import_job(failed.pk)
    failed.refresh_from_db()
    url = reverse("admin:workflow_transaction_changelist")
    listing = admin_client.get(url + "?job=failed").content.decode()
    assert failed.serial in listing and fine.serial not in listing
    assert "后台任务次数" in listing and "后台任务失败时间" in listing
    detail = admin_client.get(reverse("admin:workflow_transaction_change", args=[failed.pk])).content.decode()
    assert failed.job_error.split("]")[0].lstrip("[") in detail and "Poison" in detail


def test_failed_imports_left_alone_expire_like_drafts_and_free_their_persons(vip_client, monkeypatch, settings):
    settings.SHEBAO_JOB_MAX_ATTEMPTS = 1
    tx = _uploaded(vip_client)
    _fail_import_after_its_rows(monkeypatch)
    with pytest.raises(Poison):
        import_job(tx.pk)
    Transaction.objects.filter(pk=tx.pk).update(touched_at=timezone.now() - dt.timedelta(days=400))
    assert engine.expire_drafts() == 1
    tx.refresh_from_db()
    assert tx.state == State.CANCELLED and not PersonLock.objects.filter(transaction=tx).exists()
