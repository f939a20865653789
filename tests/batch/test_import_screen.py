"""The import screen's totals and row tools: deleted rows are counted and can be seen, every
import failure is deleted in one step, and the audit's progress knows its total at once."""

from __future__ import annotations

import pytest
from django.urls import reverse

from shebao.workflow import services as engine
from shebao.workflow.models import Item, ItemStatus
from shebao.workflow.status import status_payload
from tests.batch.conftest import enrol_row, upload_and_import, xlsx_bytes
from tests.factories import make_resident_id

pytestmark = pytest.mark.django_db


def _batch(client):
    rows = [enrol_row(make_resident_id(serial=n)) for n in (1, 2, 3)] + [enrol_row("bad1"), enrol_row("bad2")]
    return upload_and_import(client, xlsx_bytes(rows))


def _post(client, tx, action, **data):
    return client.post(reverse("batch:action", kwargs={"pk": tx.pk}), {"action": action, "version": tx.version, **data})


def test_deleted_rows_are_counted_and_listed(vip_client):
    tx = _batch(vip_client)
    first = Item.objects.get(transaction=tx, row_no=2)
    assert _post(vip_client, tx, "delete", items=[first.pk]).status_code == 302
    page = vip_client.get(reverse("batch:detail", kwargs={"pk": tx.pk})).content.decode()
    assert 'data-count="deleted"><a href="?result=deleted#rows"' in page and ">1</a>" in page
    listed = vip_client.get(reverse("batch:detail", kwargs={"pk": tx.pk}), {"result": "deleted"}).content.decode()
    rows = listed.split('data-testid="rows"', 1)[1].split("</table>", 1)[0]
    assert first.id_number in rows and "已删除" in rows
    assert 'name="items"' not in rows  # a deleted row cannot be ticked again


def test_every_import_failure_is_deleted_in_one_step(vip_client):
    tx = _batch(vip_client)
    assert tx.import_failed_count == 2
    page = vip_client.get(reverse("batch:detail", kwargs={"pk": tx.pk})).content.decode()
    assert "删除全部导入失败人员" in page and "确定删除全部 2 名导入失败的人员吗？" in page
    assert _post(vip_client, tx, "delete_import_failed").status_code == 302
    tx.refresh_from_db()
    assert tx.import_failed_count == 0 and tx.total_count == 3
    assert Item.objects.filter(transaction=tx, status=ItemStatus.DELETED).count() == 2
    again = _post(vip_client, tx, "delete_import_failed")
    assert again.status_code == 400 and "该批次没有导入失败的人员。" in again.content.decode()


def test_the_audit_progress_knows_its_total_from_the_submit(vip_client):
    tx = _batch(vip_client)
    tx = engine.transaction_submit(tx=tx, actor=tx.operator, version=tx.version)
    payload = status_payload(tx)
    assert (payload["progress_done"], payload["progress_total"]) == (0, 3)  # not "0 / 0"
