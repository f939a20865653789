"""Fixtures of the export tests: a VIP employer of 420102, its operator and a clerk; the rows
of the transactions the tests build with tests/factories.py's TransactionFactory."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from decimal import Decimal

import pytest

from tests.factories import ClerkFactory, EmployerFactory, OfficeFactory, OperatorFactory, make_resident_id
from tests.workflow.helpers import login

BIRTH = dt.date(1990, 3, 1)


def enrol_data(n: int) -> dict:
    pid = make_resident_id(BIRTH + dt.timedelta(days=n // 900), sex="1" if n % 2 else "2")
    return {
        "id_type": "01",
        "id_number": pid,
        "name": f"职工{n:04d}",
        "sex": "1" if n % 2 else "2",
        "birth_date": (BIRTH + dt.timedelta(days=n // 900)).isoformat(),
        "hukou": "urban",
        "identity": "worker",
        "employment_form": "contract",
        "first_work_date": "2012-07-01",
        "start_month": "2025-03",
        "wage": f"{6000 + n}.50",
        "insurance_types": "pension,medical" if n % 3 else "",
        "phone": "13800000000",
        "address": "",
        "make_card": "0",
        "backpay_from": "2025-01" if n == 1 else "",
        "backpay_base": "5000.00" if n == 1 else "",
    }


def suspend_data(n: int) -> dict:
    pid = make_resident_id(BIRTH)
    return {
        "id_type": "01",
        "id_number": pid,
        "name": f"减员{n:03d}",
        "stop_month": "2025-06",
        "reason": "01" if n % 2 else "03",
        "stop_types": "pension,medical,unemployment",
    }


def wage_sum(rows: list[dict]) -> Decimal:
    return sum((Decimal(r["wage"]) for r in rows), Decimal("0.00"))


@pytest.fixture
def office():
    return OfficeFactory(code="420102")


@pytest.fixture
def employer(office):
    return EmployerFactory(office=office, is_vip=True)


@pytest.fixture
def operator(employer):
    return OperatorFactory(employer=employer)


@pytest.fixture
def op_client(client, operator, employer):
    return login(client, operator, employer)


@pytest.fixture
def clerk(office):
    return ClerkFactory(office=office)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def require_tools():
    for tool in ("pdftoppm", "pdffonts", "pdftotext"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} (poppler-utils) is not installed")


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def pdf_fonts(path) -> list[dict]:
    out = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout
    lines = out.splitlines()[2:]
    fonts = []
    for line in lines:
        # name type... emb sub uni object ID: read the flags from the right.
        parts = line.split()
        fonts.append({"name": parts[0], "emb": parts[-5], "sub": parts[-4], "uni": parts[-3]})
    return fonts


def pdf_pages(path) -> int:
    out = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    return int(next(line.split()[-1] for line in out.splitlines() if line.startswith("Pages:")))
