"""The names a user reads: the back office does not carry the employer site's 单位篇, and a
transaction page has one export per format, named as the guide names it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.workflow.helpers import login

from .conftest import review_tx

pytestmark = pytest.mark.django_db


def test_the_back_office_is_not_the_employer_site(params, employer_a, operator_a, clerk_a, client_for):
    tx = review_tx(employer_a, operator_a, 1)
    clerk_page = client_for(clerk_a).get(reverse("backoffice:detail", args=[tx.pk])).content.decode()
    assert "单位篇" not in clerk_page and "社会保险网上办事大厅" in clerk_page
    employer_page = login(client_for(operator_a), operator_a, employer_a).get(f"/tx/{tx.pk}/").content.decode()
    assert "单位篇" in employer_page
    # One button per file: 单个增员导出 (Excel) and (PDF), no second link to the same PDF.
    assert employer_page.count(f"/exports/tx/{tx.pk}/form.pdf") == 1
    assert employer_page.count(f"/exports/tx/{tx.pk}/form.xlsx") == 1
    assert "单个增员导出 (PDF)" in employer_page and "单个增员导出 (Excel)" in employer_page
