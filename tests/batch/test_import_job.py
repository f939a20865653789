"""The import job: idempotent, resumable after a worker dies, queued on the long cluster."""

from __future__ import annotations

import pytest
from django_q.models import OrmQ

from shebao.batch import services
from shebao.batch.jobs import import_job
from shebao.workflow.models import Item, ItemStatus, PersonLock, State
from tests.batch.conftest import BIRTH, enrol_row, upload, xlsx_bytes
from tests.factories import make_resident_id


def test_upload_queues_the_import_on_the_long_cluster_in_the_same_commit(vip_client):
    before = OrmQ.objects.count()
    response = upload(vip_client, xlsx_bytes([enrol_row(make_resident_id(BIRTH))]))
    assert response.status_code == 302
    queued = OrmQ.objects.order_by("-id").first()
    assert OrmQ.objects.count() == before + 1 and queued.key == "long"
    assert queued.task["func"] == "shebao.batch.jobs.import_job"


def test_a_second_delivery_does_nothing(vip_client, vip_employer):
    tx = services.batch_upload(
        employer=vip_employer,
        actor=vip_client.user,
        business_type="enrol",
        filename="a.xlsx",
        data=xlsx_bytes([enrol_row(make_resident_id(BIRTH)), enrol_row(make_resident_id(BIRTH))]),
    )
    assert import_job(tx.pk) == "saved"
    assert import_job(tx.pk) == "skipped"
    assert Item.objects.filter(transaction=tx).count() == 2


def test_a_worker_killed_mid_import_resumes_after_the_last_committed_chunk(vip_client, vip_employer, monkeypatch):
    ids = [make_resident_id(BIRTH) for _ in range(7)]
    data = xlsx_bytes([enrol_row(i) for i in ids] + [enrol_row(ids[0])])
    tx = services.batch_upload(
        employer=vip_employer, actor=vip_client.user, business_type="enrol", filename="a.xlsx", data=data
    )
    monkeypatch.setattr(services, "IMPORT_CHUNK", 3)
    real = services._take_locks
    calls = {"n": 0}

    def dies_on_second_chunk(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise SystemExit("worker killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "_take_locks", dies_on_second_chunk)
    with pytest.raises(SystemExit):
        import_job(tx.pk)
    tx.refresh_from_db()
    assert tx.state == State.IMPORTING and tx.progress_done == 3
    assert Item.objects.filter(transaction=tx).count() == 3  # the second chunk rolled back whole
    monkeypatch.setattr(services, "_take_locks", real)
    assert import_job(tx.pk) == "saved"
    tx.refresh_from_db()
    rows = list(Item.objects.filter(transaction=tx).order_by("row_no").values_list("row_no", flat=True))
    assert rows == list(range(2, 10))
    assert (tx.total_count, tx.import_failed_count, tx.progress_done) == (8, 2, 8)
    assert PersonLock.objects.filter(transaction=tx).count() == 7
    dup = Item.objects.filter(transaction=tx, id_key=f"01:{ids[0]}")
    assert set(dup.values_list("status", flat=True)) == {ItemStatus.IMPORT_FAILED}


def test_the_sweeper_requeues_an_import_whose_job_went_silent(vip_client, vip_employer):
    import datetime as dt

    from django.utils import timezone
    from django_q.models import Schedule

    from shebao.workflow.models import Event, Transaction

    schedule = Schedule.objects.get(name="sweep-stuck-imports")
    assert (schedule.func, schedule.cluster, schedule.minutes) == (
        "shebao.batch.jobs.sweep_stuck_imports_job",
        "short",
        1,
    )
    tx = services.batch_upload(
        employer=vip_employer,
        actor=vip_client.user,
        business_type="enrol",
        filename="a.xlsx",
        data=xlsx_bytes([enrol_row(make_resident_id(BIRTH))]),
    )
    OrmQ.objects.all().delete()  # the job is lost (or its worker was killed)
    assert services.sweep_stuck_imports() == 0  # silent, but not for long yet
    stale = timezone.now() - dt.timedelta(hours=1)
    Transaction.objects.filter(pk=tx.pk).update(heartbeat_at=stale)
    assert services.sweep_stuck_imports() == 1
    queued = OrmQ.objects.get()
    assert queued.key == "long" and queued.task["func"] == "shebao.batch.jobs.import_job"
    assert Event.objects.filter(transaction=tx, action="requeue_import").count() == 1
    assert services.sweep_stuck_imports() == 0  # re-queued just now
    Transaction.objects.filter(pk=tx.pk).update(heartbeat_at=stale)
    assert import_job(tx.pk) == "saved"
    tx.refresh_from_db()
    assert tx.heartbeat_at > stale  # every committed chunk beats
    assert services.sweep_stuck_imports() == 0  # imported: nothing to sweep
