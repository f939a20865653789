"""The administrator's pages read as a finished product: named sections, months as months,
business types by their names, and 现行参数, the values in effect in a chosen month."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from shebao.params.models import BaseLimit, Rate, Setting
from shebao.workflow import registry
from shebao.workflow.models import Event
from tests.factories import MaterialsChecklistFactory, TransactionFactory, seed_params

pytestmark = pytest.mark.django_db

IN_EFFECT = "/admin/params/in-effect/"


def text(response) -> str:
    html = response.content.decode()
    html = re.sub(r"<script.*?</script>|<style.*?</style>", "", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def section(response, testid: str) -> str:
    html = response.content.decode()
    match = re.search(rf'data-testid="{testid}">(.*?)</table>', html, flags=re.S)
    assert match, testid
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1)))


@pytest.fixture
def english(sysadmin):
    client = Client()
    client.force_login(sysadmin)
    client.cookies["django_language"] = "en"
    return client


# --- the index -------------------------------------------------------------------------------


def test_the_index_names_every_section_in_chinese(sysadmin_client):
    page = text(sysadmin_client.get("/admin/"))
    for name in (
        "用户与权限",
        "经办机构与单位",
        "参数管理",
        "参保登记",
        "业务办理",
        "业务日志",
        "现行参数（按月查看）",
    ):
        assert name in page, name
    for raw in ("Accounts", "Employers", "Params", "Register", "Workflow", "Axes", "Events", "View site"):
        assert raw not in page, raw


def test_the_index_names_every_section_in_english(english):
    page = text(english.get("/admin/"))
    for name in ("Users and access", "Agency offices and employers", "Parameters", "Register", "Transactions"):
        assert name in page, name
    assert "Transaction events" in page and "Parameters in effect (by month)" in page
    assert not re.search(r"[\u4e00-\u9fff]", page.replace("中文", "")), "Chinese left in the English index"


def test_the_top_bar_leads_to_the_values_in_effect_and_switches_language(sysadmin_client):
    html = sysadmin_client.get("/admin/").content.decode()
    assert f'href="{IN_EFFECT}" data-testid="in-effect-link">现行参数<' in html
    assert 'name="language" value="en"' in html


# --- parameter lists -------------------------------------------------------------------------


def test_a_parameter_list_counts_its_rows_and_shows_months(sysadmin_client):
    seed_params([2025, 2026])
    page = text(sysadmin_client.get(reverse("admin:params_baselimit_changelist")))
    assert "共 10 条" in page and "10 缴费基数上下限" not in page
    assert "2026-01" in page and "2026年1月1日" not in page
    # The filter by 生效年月 offers the months present.
    assert "以 生效年月 全部 2026-01 2025-01" in page


def test_an_empty_list_says_so_in_both_languages(sysadmin_client, english):
    assert "共 0 条" in text(sysadmin_client.get(reverse("admin:params_setting_changelist")))
    page = text(english.get(reverse("admin:params_setting_changelist")))
    assert "0 in total" in page and "0 Business parameters" not in page


def test_the_english_parameter_list_shows_months_not_dates(english):
    seed_params([2026])
    page = text(english.get(reverse("admin:params_baselimit_changelist")))
    assert "Effective from" in page and "2026-01" in page and "Jan. 1, 2026" not in page
    assert "10 in total" in page  # 2025 (seeded with the product) and 2026


def test_the_month_filter_keeps_the_rows_of_that_month(sysadmin_client):
    seed_params([2025, 2026])
    url = reverse("admin:params_baselimit_changelist")
    page = text(sysadmin_client.get(url, {"effective_from_month": "2025-01"}))
    assert "共 5 条" in page and "2026-01 " not in page.split("过滤器")[0].split("依据/备注")[1]
    refused = sysadmin_client.get(url, {"effective_from_month": "2025-13"})
    assert refused.status_code == 302 and refused["Location"].endswith("?e=1")


def test_a_hostile_year_of_any_date_column_is_an_invalid_filter(sysadmin_client):
    url = reverse("admin:register_relation_changelist")
    response = sysadmin_client.get(url, {"start_month__year": "9" * 30})
    assert response.status_code == 302 and response["Location"].endswith("?e=1")


def test_a_rule_is_typed_and_shown_as_a_month(sysadmin_client):
    seed_params([2026])
    row = BaseLimit.objects.get(year=2026, insurance_type="pension")
    html = sysadmin_client.get(reverse("admin:params_baselimit_change", args=[row.pk])).content.decode()
    assert 'name="effective_from" value="2026-01"' in html
    assert "年月，如 2026-07（自该月1日起生效）" in html
    data = {
        "year": "2027",
        "insurance_type": "pension",
        "average_wage": "8000",
        "floor": "4800",
        "ceiling": "24000",
        "effective_from": "2027年7月",
        "note": "",
        "_save": "保存",
    }
    assert sysadmin_client.post(reverse("admin:params_baselimit_add"), data).status_code == 302
    assert BaseLimit.objects.get(year=2027).effective_from == dt.date(2027, 7, 1)
    data.update(effective_from="2027-7月的某天", year="2028")
    refused = sysadmin_client.post(reverse("admin:params_baselimit_add"), data)
    assert refused.status_code == 200 and "请填写年月，如 2026-07。" in refused.content.decode()
    assert not BaseLimit.objects.filter(year=2028).exists()


def test_the_english_form_refuses_a_bad_month_in_english(english):
    data = {"key": "draft_expiry_days", "value": "20", "effective_from": "July", "note": "", "_save": "Save"}
    refused = english.post(reverse("admin:params_setting_add"), data)
    assert refused.status_code == 200 and "Enter a month, e.g. 2026-07." in refused.content.decode()


def test_a_setting_value_reads_as_a_number(sysadmin_client):
    Setting.objects.create(key="surcharge_daily_rate", value=Decimal("0.0005"), effective_from=dt.date(2026, 1, 1))
    page = text(sysadmin_client.get(reverse("admin:params_setting_changelist")))
    assert "滞纳金日费率 0.0005 2026-01" in page and "0.00050" not in page


# --- business types and the event log ----------------------------------------------------------


def test_transactions_and_events_name_the_business_type_and_the_action(sysadmin_client, english):
    tx = TransactionFactory()
    label = registry.label_of(tx.business_type)
    spec = registry.get(tx.business_type).fields[0]
    Event.objects.create(
        transaction=tx, action="save", from_state="saved", to_state="", detail={"changed": {spec.name: ["", "X"]}}
    )
    page = text(sysadmin_client.get(reverse("admin:workflow_transaction_changelist")))
    assert f" {label} " in page and f" {tx.business_type} " not in page
    events = text(sysadmin_client.get(reverse("admin:workflow_event_changelist")))
    assert f" {label} " in events and " 保存 " in events and " 已保存 " in events
    assert " save " not in events and " saved " not in events
    event = Event.objects.get(transaction=tx)
    detail = text(sysadmin_client.get(reverse("admin:workflow_event_change", args=[event.pk])))
    assert f"{spec.label}：- → X" in detail and spec.name not in detail
    english_events = text(english.get(reverse("admin:workflow_event_changelist")))
    assert " Save " in english_events and "Transaction events" in english_events


def test_a_materials_checklist_is_named_by_its_business_type(sysadmin_client):
    code = registry.all_types()[0].code
    checklist = MaterialsChecklistFactory(business_type=code)
    page = text(sysadmin_client.get(reverse("admin:employers_materialschecklist_changelist")))
    assert registry.label_of(code) in page and "所有经办机构通用" in page
    assert str(checklist) == f"所有经办机构通用 {registry.label_of(code)}"


# --- 现行参数 ----------------------------------------------------------------------------------


@pytest.fixture
def notice(db):
    """The parameters, then a notice: a new pension rate and window from 2026-07."""
    seed_params([2025, 2026])
    Rate.objects.create(
        insurance_type="pension",
        employer_rate=Decimal("0.15"),
        personal_rate=Decimal("0.08"),
        effective_from=dt.date(2026, 7, 1),
        note="鄂人社发〔2026〕9号",
    )
    Setting.objects.create(
        key="window_last_day", value=Decimal(20), effective_from=dt.date(2026, 7, 1), note="鄂人社发〔2026〕9号"
    )


def test_the_values_in_effect_before_the_notice(sysadmin_client, notice):
    response = sysadmin_client.get(IN_EFFECT, {"month": "2026-06"})
    assert response.status_code == 200
    rates = section(response, "rates")
    assert "养老 16% 8% 2019-05" in rates and "鄂人社发" not in rates
    assert "每月受理截止日 31 默认值（未录入）" in section(response, "settings")
    limits = section(response, "limits")
    assert "养老 2026 7496.00 4498.00 22488.00 2026-01" in limits
    assert "1 0.2% 2015-10" in section(response, "injury")


def test_the_values_in_effect_after_the_notice_name_it(sysadmin_client, notice):
    response = sysadmin_client.get(IN_EFFECT, {"month": "2026年7月"})
    page = text(response)
    assert "2026-07 生效的参数" in page
    rates = section(response, "rates")
    assert "养老 15% 8% 2026-07 鄂人社发〔2026〕9号" in rates
    assert "医疗 8% 2% 2019-05" in rates
    assert "每月受理截止日 20 2026-07 鄂人社发〔2026〕9号" in section(response, "settings")
    row = Rate.objects.get(effective_from=dt.date(2026, 7, 1))
    assert reverse("admin:params_rate_change", args=[row.pk]) in response.content.decode()


def test_the_values_in_effect_show_the_retirement_rules(sysadmin_client, notice):
    retirement = section(sysadmin_client.get(IN_EFFECT, {"month": "2026-07"}), "retirement")
    # Reaching 60 in 2026-07: 19 months after the reform began (2025-01), one month every 4.
    assert "男职工 60 2025-01 4 36 2026-12 1951-01" in retirement
    assert "女工人 50 2025-01 2 60" in retirement


def test_a_year_without_its_own_limits_shows_the_year_used(sysadmin_client, notice):
    limits = section(sysadmin_client.get(IN_EFFECT, {"month": "2027-02"}), "limits")
    assert "养老 2026 暂按 2026 年度标准" in limits


def test_a_month_without_a_rate_says_enrolments_are_refused(sysadmin_client):
    Rate.objects.filter(insurance_type="pension").delete()
    limits = section(sysadmin_client.get(IN_EFFECT, {"month": "2026-07"}), "rates")
    assert "养老 无生效记录：该月的增员将被拒绝" in limits


def test_the_values_in_effect_default_to_this_month(sysadmin_client, notice):
    response = sysadmin_client.get(IN_EFFECT)
    assert "2026-06 生效的参数" in text(response)  # the pinned clock: 15 June 2026
    assert 'name="month" value="2026-06"' in response.content.decode()


@pytest.mark.parametrize("month", ["2026-13", "七月", "2026-07-15", ""])
def test_a_bad_month_is_refused_with_a_message(sysadmin_client, notice, month):
    response = sysadmin_client.get(IN_EFFECT, {"month": month})
    assert response.status_code == 200
    page = text(response)
    assert ("请填写年月，如 2026-07。" in page) or ("这个字段是必填项" in page)
    assert 'data-testid="rates"' not in response.content.decode()


def test_the_values_in_effect_in_english(english, notice):
    response = english.get(IN_EFFECT, {"month": "2026-07"})
    page = text(response)
    assert "Parameters in effect in 2026-07" in page
    assert "Pension 15% 8% 2026-07" in section(response, "rates")
    assert "Monthly acceptance window closes on day 20 2026-07" in section(response, "settings")
    assert "Enter a month, e.g. 2026-07." in text(english.get(IN_EFFECT, {"month": "2026-13"}))


def test_the_values_in_effect_are_for_administrators_only(client, notice):
    response = client.get(IN_EFFECT)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
