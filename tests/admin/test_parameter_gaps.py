"""The parameter pages tell the administrator what is missing for the current and next month:
a rate not in force (enrolments refused with NO_RATE) is an error banner, a year whose base
limits are borrowed from the year before (LIMITS_PROVISIONAL) a warning."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from shebao.params.models import BaseLimit, InjuryRate, Rate
from tests.factories import seed_params

pytestmark = pytest.mark.django_db

PAGES = [
    "admin:params_baselimit_changelist",
    "admin:params_rate_changelist",
    "admin:params_injuryrate_changelist",
    "admin:params_setting_changelist",
]


def banners(response) -> list[tuple[str, str]]:
    """(level, text) of the admin's message list."""
    html = response.content.decode()
    return [
        (level, re.sub(r"<[^>]+>", "", text).strip())
        for level, text in re.findall(r'<li class="(error|warning|success|info)">(.*?)</li>', html, re.S)
    ]


@pytest.mark.clock("2026-06-15T02:00:00Z")
def test_complete_parameters_show_no_banner(sysadmin_client):
    seed_params([2025, 2026])
    for page in PAGES:
        response = sysadmin_client.get(reverse(page))
        assert response.status_code == 200
        assert banners(response) == [], page


@pytest.mark.clock("2026-12-15T02:00:00Z")
def test_next_years_limits_not_yet_published_is_a_warning_naming_the_year_used(sysadmin_client):
    seed_params([2025, 2026])
    response = sysadmin_client.get(reverse("admin:params_baselimit_changelist"))
    assert banners(response) == [
        (
            "warning",
            "2027 年度养老、医疗、失业、工伤、生育缴费基数上下限尚未录入，"
            "暂按 2026 年度标准执行（LIMITS_PROVISIONAL）。"
            "省级标准公布后，请录入 2027 年度的标准。",
        )
    ]


@pytest.mark.clock("2026-12-31T16:30:00Z")  # 1 January 2027 in China: both months of 2027
def test_a_rate_missing_in_force_is_an_error_on_every_parameter_page(sysadmin_client):
    seed_params([2026, 2027])
    Rate.objects.filter(insurance_type__in=["medical", "maternity"]).delete()
    InjuryRate.objects.filter(risk_class__in=[3, 8]).update(effective_from=dt.date(2027, 2, 1))
    expected = [
        (
            "error",
            "2027-01、2027-02 没有生效的医疗、生育费率：该月的增员将被拒绝（NO_RATE）。"
            "请在「费率」中添加生效年月不晚于 2027-01 的费率。",
        ),
        (
            "error",
            "2027-01 没有生效的工伤保险基准费率（行业风险类别 3、8）：这些单位该月的增员将被拒绝（NO_RATE）。"
            "请在「工伤保险基准费率」中添加生效年月不晚于 2027-01 的费率。",
        ),
    ]
    for page in PAGES:
        response = sysadmin_client.get(reverse(page))
        assert response.status_code == 200
        assert banners(response) == expected, page


@pytest.mark.clock("2026-06-15T02:00:00Z")
def test_no_limits_of_any_year_is_an_error(sysadmin_client):
    seed_params([2026])
    BaseLimit.objects.filter(insurance_type="unemployment").delete()
    response = sysadmin_client.get(reverse("admin:params_baselimit_changelist"))
    assert banners(response) == [
        (
            "error",
            "没有任何年度的失业缴费基数上下限：增员将被拒绝（NO_BASE_LIMITS）。"
            "请在「缴费基数上下限」中录入 2026 年度的标准。",
        )
    ]


@pytest.mark.clock("2026-12-15T02:00:00Z")
def test_the_banner_reads_in_english(sysadmin_client):
    seed_params([2026])
    Rate.objects.filter(insurance_type="pension").delete()
    sysadmin_client.cookies["django_language"] = "en"
    response = sysadmin_client.get(reverse("admin:params_rate_changelist"))
    assert banners(response) == [
        (
            "error",
            "No Pension rate is in force for 2026-12, 2027-01: enrolments of those months are refused "
            "(NO_RATE). Add a rate effective no later than 2026-12 under Rates.",
        ),
        (
            "warning",
            "The 2027 Pension, Medical, Unemployment, Work injury, Maternity contribution base limits are "
            "not entered yet; the 2026 limits apply provisionally (LIMITS_PROVISIONAL). Enter the 2027 limits "
            "once the province publishes them.",
        ),
    ]
