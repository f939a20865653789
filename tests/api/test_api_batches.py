"""Whole batches through the API alone, as an HR system does them: 增员 from JSON rows and from
a spreadsheet file (template, upload, import, failure lists, deleting the failed rows, submit,
audit, results, the register), and 个人工资年度申报 (免费预检 first, then the same path)."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from shebao.api import tokens
from shebao.batch.jobs import import_job
from shebao.params.models import DeclarationWindow
from shebao.register.models import ContributionBase, Relation, RelationStatus
from shebao.workflow import services as engine
from shebao.workflow.models import Transaction
from tests.batch.conftest import enrol_row, xlsx_bytes
from tests.factories import OperatorFactory, PersonFactory, make_resident_id
from tests.workflow.helpers import enrol_raw

pytestmark = pytest.mark.django_db

BAD_ID = "110101199003077777"  # a wrong check digit


class Api:
    def __init__(self, secret: str) -> None:
        self.client = Client()
        self.auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}

    def get(self, path: str, **query):
        return self.client.get(path, query, **self.auth)

    def post(self, path: str, body: dict, key: str | None = None):
        extra = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
        return self.client.post(path, data=json.dumps(body), content_type="application/json", **self.auth, **extra)

    def final(self, tx_id: int) -> dict:
        """Poll GET /transactions/{id} until the job is done (the jobs ran synchronously)."""
        for _ in range(5):
            tx = self.get(f"/api/v1/transactions/{tx_id}").json()
            if tx["final"]:
                return tx
        raise AssertionError(tx)

    def every_item(self, tx_id: int, **query) -> list[dict]:
        """Every row, walking next_cursor two at a time."""
        out, cursor = [], ""
        while True:
            page = self.get(f"/api/v1/transactions/{tx_id}/items", limit=2, cursor=cursor, **query)
            assert page.status_code == 200, page.content
            out += page.json()["items"]
            assert len(page.json()["items"]) <= 2
            cursor = page.json()["next_cursor"]
            if cursor is None:
                return out


@pytest.fixture
def api(params, vip_employer) -> Api:
    admin = OperatorFactory(employer=vip_employer)
    return Api(tokens.token_create(employer=vip_employer, actor=admin, name="人事系统", scope="write").secret)


def _import(tx_id: int) -> None:
    import_job(tx_id)


def _submit_and_audit(api: Api, tx: dict) -> dict:
    path, key = f"/api/v1/transactions/{tx['id']}/submit", f"submit-{tx['id']}"
    submitted = api.post(path, {"version": tx["version"]}, key=key)
    assert submitted.status_code == 200, submitted.content
    again = api.post(path, {"version": tx["version"]}, key=key)
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"  # the retry changes nothing
    engine.run_audit(tx["id"])
    return api.final(tx["id"])


def _delete_failed_and_finish(api: Api, tx: dict, good: set[str], bad_rows: set[int]) -> dict:
    failures = api.get(f"/api/v1/transactions/{tx['id']}/failures/import")
    assert failures.status_code == 200
    assert {r["row"] for r in failures.json()["rows"]} == bad_rows
    assert all(r["issues"] for r in failures.json()["rows"])
    sheet = api.get(f"/api/v1/transactions/{tx['id']}/failures/import/xlsx")
    assert sheet.status_code == 200 and sheet["Content-Type"].startswith("application/vnd.openxml")
    book = openpyxl.load_workbook(io.BytesIO(sheet.content), read_only=True)
    cells = [str(c) for line in book.active.iter_rows(values_only=True) for c in line if c is not None]
    assert any(BAD_ID in c for c in cells)

    items = api.every_item(tx["id"])
    assert [i["row"] for i in items] == sorted(i["row"] for i in items)  # every row once, in order
    assert len({i["id"] for i in items}) == len(items) == len(good) + len(bad_rows)
    failed_ids = [i["id"] for i in items if i["status"] == "import_failed"]
    assert len(failed_ids) == len(bad_rows)
    deleted = api.post(
        f"/api/v1/transactions/{tx['id']}/items/delete", {"version": tx["version"], "item_ids": failed_ids}
    )
    assert deleted.status_code == 200, deleted.content
    done = _submit_and_audit(api, deleted.json())
    passed = api.every_item(tx["id"], audit_status="passed")
    assert {i["id_number"] for i in passed} == good
    return done


def test_enrolment_batch_of_json_rows(api):
    template = api.get("/api/v1/enrol/template")
    assert template.status_code == 200
    headers = [c.value for c in next(openpyxl.load_workbook(io.BytesIO(template.content)).active.iter_rows())]
    assert "证件号码" in headers

    good_ids = [make_resident_id() for _ in range(4)]
    rows = [enrol_raw(i, name=name) for name, i in zip(("赵一", "钱二", "孙三", "李四"), good_ids, strict=True)]
    rows.insert(2, enrol_raw(BAD_ID))
    rows.append(enrol_raw(make_resident_id(), wage="很多"))
    body = {"rows": rows}
    created = api.post("/api/v1/enrol/batches", body, key="batch-1")
    assert created.status_code == 202, created.content
    tx = created.json()
    assert created["Location"] == f"/api/v1/transactions/{tx['id']}"
    replay = api.post("/api/v1/enrol/batches", body, key="batch-1")
    assert replay.status_code == 202 and replay.json()["id"] == tx["id"]
    assert Transaction.objects.count() == 1

    _import(tx["id"])
    tx = api.final(tx["id"])
    assert tx["counts"]["import_failed"] == 2 and tx["counts"]["imported"] == 4
    # JSON rows are numbered as in the template (the column titles are row 1), in validate's
    # answer as in the batch: the 3rd and 6th rows are rows 4 and 7.
    done = _delete_failed_and_finish(api, tx, set(good_ids), {4, 7})
    assert done["state"] == "finished" and done["counts"]["applied"] == 4

    persons = api.get("/api/v1/persons", limit=200).json()
    assert set(good_ids) <= {p["id_number"] for p in persons["items"]}


def test_enrolment_batch_of_a_spreadsheet(api):
    good_ids = [make_resident_id(dt.date(1990, 3, 7)) for _ in range(3)]
    rows = [enrol_row(i) for i in good_ids] + [enrol_row(BAD_ID)]
    upload = SimpleUploadedFile("增员.xlsx", xlsx_bytes(rows), content_type="application/octet-stream")
    created = api.client.post("/api/v1/enrol/batches/file", {"file": upload}, **api.auth)
    assert created.status_code == 202, created.content
    _import(created.json()["id"])
    tx = api.final(created.json()["id"])
    assert tx["counts"]["import_failed"] == 1
    done = _delete_failed_and_finish(api, tx, set(good_ids), {5})  # the title row is row 1
    assert done["state"] == "finished"
    listed = {p["id_number"] for p in api.get("/api/v1/persons", limit=200).json()["items"]}
    assert set(good_ids) <= listed


def test_annual_wage_declaration(api, vip_employer):
    year = 2026
    DeclarationWindow.objects.create(year=year, opens=dt.date(year, 4, 1), closes=dt.date(year, 6, 30))
    persons = [PersonFactory() for _ in range(3)]
    for person in persons:
        for itype in ("pension", "medical"):
            Relation.objects.create(
                person=person,
                employer=vip_employer,
                insurance_type=itype,
                status=RelationStatus.CONTRIBUTING,
                start_month=dt.date(2024, 3, 1),
            )
            ContributionBase.objects.create(
                person=person,
                employer=vip_employer,
                year=2025,
                insurance_type=itype,
                declared_wage=Decimal("6000"),
                base=Decimal("6000"),
            )
    code = "annual_wage"
    rows = [{"id_type": "01", "id_number": p.id_number, "name": p.name, "wage": "8000"} for p in persons]
    rows.append({"id_type": "01", "id_number": BAD_ID, "name": "王五", "wage": "8000"})
    header = {"year": str(year)}

    checked = api.post(f"/api/v1/{code}/validate", {"header": header, "rows": rows})
    assert checked.status_code == 200, checked.content
    # The 4th row is row 5, in validate's answer as in the batch (row 1 holds the titles).
    assert checked.json()["failed"] == 1 and [r["row"] for r in checked.json()["rows"]] == [5]
    no_year = api.post(f"/api/v1/{code}/batches", {"rows": rows})
    assert no_year.status_code == 422 and no_year["Content-Type"] == "application/problem+json"

    created = api.post(f"/api/v1/{code}/batches", {"header": header, "rows": rows}, key="wage-2026")
    assert created.status_code == 202, created.content
    assert created.json()["header"].get("year") in (year, str(year))
    _import(created.json()["id"])
    tx = api.final(created.json()["id"])
    assert tx["counts"]["import_failed"] == 1
    done = _delete_failed_and_finish(api, tx, {p.id_number for p in persons}, {5})  # see the 增员 test
    assert done["state"] in ("finished", "review"), done
    assert done["counts"]["passed"] == 3
