"""A very large batch: the PDF is made in the background in numbered parts."""

from __future__ import annotations

from importlib import import_module

import pytest
from django_q.models import OrmQ

from shebao.exports import services
from shebao.exports.models import ExportJob, ExportPart, PartStatus
from tests.exports.conftest import enrol_data, pdf_fonts, pdf_text, require_tools
from tests.factories import EmployerFactory, OperatorFactory, TransactionFactory
from tests.workflow.helpers import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_parts(monkeypatch):
    monkeypatch.setattr(services, "SYNC_LIMIT", 20)
    monkeypatch.setattr(services, "PART_SIZE", 20)


def _run_queued_tasks() -> int:
    """What a worker of the "long" cluster does with the queued tasks."""
    ran = 0
    for queued in OrmQ.objects.filter(key="long"):
        task = queued.task
        module, func = task["func"].rsplit(".", 1)
        getattr(import_module(module), func)(*task["args"], **task["kwargs"])
        queued.delete()
        ran += 1
    return ran


def test_big_batch_pdf_in_parts(op_client, employer, operator, small_parts, media_root, tmp_path):
    require_tools()
    rows = [enrol_data(n) for n in range(1, 46)]  # 45 persons, 20 per part -> 3 parts
    tx = TransactionFactory(employer=employer, operator=operator, rows=rows)
    response = op_client.get(f"/exports/tx/{tx.pk}/form.pdf")
    assert response.status_code == 302 and response["Location"] == f"/exports/tx/{tx.pk}/parts/"
    page = op_client.get(f"/exports/tx/{tx.pk}/parts/").content.decode()
    assert "生成PDF" in page
    assert op_client.get(f"/exports/tx/{tx.pk}/parts/status.json").json() == {"started": False}

    assert op_client.post(f"/exports/tx/{tx.pk}/parts/").status_code == 302
    assert op_client.post(f"/exports/tx/{tx.pk}/parts/").status_code == 302  # a second click: same job
    job = ExportJob.objects.get(transaction=tx)
    assert job.parts_total == 3 and job.persons == 45
    assert [len(p.item_ids) for p in job.parts.all()] == [20, 20, 5]
    assert OrmQ.objects.filter(key="long").count() == 3  # queued on the long cluster, once
    page = op_client.get(f"/exports/tx/{tx.pk}/parts/").content.decode()
    assert "生成中" in page and 'http-equiv="refresh"' in page
    status = op_client.get(f"/exports/tx/{tx.pk}/parts/status.json").json()
    assert status["started"] and status["parts_done"] == 0 and not status["finished"]
    assert op_client.get(f"/exports/tx/{tx.pk}/parts/{job.pk}/1.pdf").status_code == 404  # not ready yet

    assert _run_queued_tasks() == 3
    assert set(ExportPart.objects.values_list("status", flat=True)) == {PartStatus.DONE}
    files = sorted((media_root / "exports" / str(tx.pk)).glob("*.pdf"))
    assert len(files) == 3
    status = op_client.get(f"/exports/tx/{tx.pk}/parts/status.json").json()
    assert status["finished"] and [p["number"] for p in status["parts"]] == [1, 2, 3]
    page = op_client.get(f"/exports/tx/{tx.pk}/parts/").content.decode()
    assert "下载第 3 部分" in page and 'http-equiv="refresh"' not in page

    texts = []
    for number in (1, 2, 3):
        response = op_client.get(f"/exports/tx/{tx.pk}/parts/{job.pk}/{number}.pdf")
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert "filename*=utf-8''" in response["Content-Disposition"]
        path = tmp_path / f"part{number}.pdf"
        path.write_bytes(b"".join(response.streaming_content))
        assert all(f["emb"] == "yes" for f in pdf_fonts(path) if "CJK" in f["name"])
        texts.append(pdf_text(path))
    assert "第 1 部分，共 3 部分" in texts[0] and "第 3 部分，共 3 部分" in texts[2]
    assert rows[0]["name"] in texts[0] and rows[19]["name"] in texts[0] and rows[20]["name"] not in texts[0]
    assert rows[44]["name"] in texts[2] and "本部分合计：5 人" in texts[2] and "全部申报人数：45" in texts[2]

    # A worker that runs a part again (retry after a crash) changes nothing.
    part = job.parts.get(number=1)
    assert services.render_part(part.pk) == "done"

    # Another employer's operator cannot fetch the parts.
    other = EmployerFactory(office=employer.office, is_vip=False)
    login(op_client, OperatorFactory(employer=other), other)
    assert op_client.get(f"/exports/tx/{tx.pk}/parts/{job.pk}/1.pdf").status_code == 404


def test_changed_batch_gets_a_new_job_and_old_files_go(op_client, employer, operator, small_parts, media_root):
    tx = TransactionFactory(employer=employer, operator=operator, rows=[enrol_data(n) for n in range(1, 26)])
    first = services.export_job_start(tx=tx, actor=operator)
    _run_queued_tasks()
    assert len(list((media_root / "exports" / str(tx.pk)).glob("*.pdf"))) == 2
    tx.version += 1
    tx.save(update_fields=["version"])
    second = services.export_job_start(tx=tx, actor=operator)
    assert second.pk != first.pk and not ExportJob.objects.filter(pk=first.pk).exists()
    assert not list((media_root / "exports" / str(tx.pk)).glob("*.pdf"))


def test_small_batch_pdf_is_direct(op_client, employer, operator, small_parts):
    tx = TransactionFactory(
        employer=employer, operator=operator, rows=[enrol_data(n) for n in range(1, 21)]
    )  # exactly SYNC_LIMIT
    response = op_client.get(f"/exports/tx/{tx.pk}/form.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"


def test_ids_too_big_for_the_database_are_not_found(op_client, employer, operator, clerk, client):
    tx = TransactionFactory(employer=employer, operator=operator, rows=[enrol_data(n) for n in range(1, 3)])
    huge = "9" * 30
    for url in (
        f"/exports/tx/{tx.pk}/parts/{huge}/1.pdf",
        f"/exports/tx/{tx.pk}/parts/1/{huge}.pdf",
        f"/exports/tx/{huge}/parts/1/1.pdf",
        f"/exports/tx/{tx.pk}/parts/9223372036854775808/1.pdf",
    ):
        assert op_client.get(url).status_code == 404, url
    clerk_client = login(client.__class__(), clerk)
    assert clerk_client.get(f"/exports/tx/{tx.pk}/parts/{huge}/1.pdf").status_code == 404
