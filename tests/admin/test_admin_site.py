"""The administrators' site: employers, users, offices, parameters; the register is view only."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from shebao.accounts import lockout
from shebao.accounts.models import Role, User
from shebao.employers.models import Employer, MaterialsChecklist, Office
from shebao.params.models import BaseLimit, Setting
from shebao.register.models import Person
from tests.factories import (
    DEFAULT_PASSWORD,
    ClerkFactory,
    EmployerFactory,
    MembershipFactory,
    OperatorFactory,
    PersonFactory,
    TransactionFactory,
    UserFactory,
    make_credit_code,
)

pytestmark = pytest.mark.django_db


def employer_form(office, **changes) -> dict:
    data = {
        "number": "300001",
        "name": "东区测试有限公司",
        "credit_code": make_credit_code(1),
        "office": office.pk,
        "risk_class": "1",
        "injury_float_percent": "100",
        "wage_tier": "1",
        "is_vip": "on",
        "active": "on",
        "contact_name": "刘",
        "contact_phone": "027-85551234",
        "address": "东区三路3号",
        "_save": "保存",
    }
    data.update(changes)
    return data


def test_sysadmin_adds_an_employer_with_a_valid_credit_code(sysadmin_client, office):
    response = sysadmin_client.post(reverse("admin:employers_employer_add"), employer_form(office))
    assert response.status_code == 302, response.content.decode()[:2000]
    employer = Employer.objects.get(number="300001")
    assert employer.is_vip and employer.office == office and employer.credit_code == make_credit_code(1)


def test_credit_code_typed_in_lower_case_with_spaces_is_normalised(sysadmin_client, office):
    code = next(c for c in (make_credit_code(n) for n in range(1, 500)) if c[17].isalpha())
    typed = f" {code[:9]} {code[9:].lower()} "
    response = sysadmin_client.post(reverse("admin:employers_employer_add"), employer_form(office, credit_code=typed))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Employer.objects.get(number="300001").credit_code == code


@pytest.mark.parametrize(
    "code, message",
    [
        ("91440000000000001X", "校验位不正确"),  # wrong check character
        ("9144000000000000", "应为 18 位"),  # too short
        ("9144000000000000IO", "应为 18 位"),  # letters that never occur
    ],
)
def test_bad_credit_code_is_refused(sysadmin_client, office, code, message):
    if code.endswith("X"):
        good = make_credit_code(1)
        code = good[:17] + ("X" if good[17] != "X" else "Y")
    response = sysadmin_client.post(reverse("admin:employers_employer_add"), employer_form(office, credit_code=code))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Employer.objects.exists()


@pytest.mark.parametrize("body", ["91MA4K0Y1Q2W3E4R5", "B1420100MA4K0Y1Q2"], ids=["division_letters", "authority"])
def test_credit_code_with_a_fitting_check_character_but_wrong_parts_is_refused(sysadmin_client, office, body):
    from shebao.core.identity import USCC_CHARS, USCC_WEIGHTS

    total = sum(USCC_CHARS.index(c) * w for c, w in zip(body, USCC_WEIGHTS, strict=True))
    code = body + USCC_CHARS[(31 - total % 31) % 31]
    response = sysadmin_client.post(reverse("admin:employers_employer_add"), employer_form(office, credit_code=code))
    assert response.status_code == 200
    page = response.content.decode()
    assert "第 1 位为登记管理部门代码（1–9、A、N、Y）" in page
    assert "第 3–8 位为登记管理机关行政区划码（6 位数字）" in page
    assert not Employer.objects.exists()


def test_risk_class_1_allows_only_float_100_120_150(sysadmin_client, office):
    refused = sysadmin_client.post(
        reverse("admin:employers_employer_add"), employer_form(office, injury_float_percent="50")
    )
    assert refused.status_code == 200
    assert "100%、120% 或 150%" in refused.content.decode()
    assert not Employer.objects.exists()
    ok = sysadmin_client.post(
        reverse("admin:employers_employer_add"), employer_form(office, risk_class="3", injury_float_percent="50")
    )
    assert ok.status_code == 302


def test_employer_list_filters_and_search(sysadmin_client, office):
    EmployerFactory(number="300009", name="西湖贸易公司", office=office, is_vip=True)
    url = reverse("admin:employers_employer_changelist")
    assert "西湖贸易公司" in sysadmin_client.get(url, {"q": "300009"}).content.decode()
    assert "西湖贸易公司" in sysadmin_client.get(url, {"is_vip__exact": "1"}).content.decode()
    assert "西湖贸易公司" not in sysadmin_client.get(url, {"is_vip__exact": "0"}).content.decode()


def test_office_with_materials_checklist_inline(sysadmin_client):
    data = {
        "code": "C01",
        "name": "南区社保处",
        "address": "南区四路4号",
        "hours": "周一至周五 9:00-17:00",
        "phone": "",
        "checklists-TOTAL_FORMS": "1",
        "checklists-INITIAL_FORMS": "0",
        "checklists-MIN_NUM_FORMS": "0",
        "checklists-MAX_NUM_FORMS": "1000",
        "checklists-0-business_type": "enrol",
        "checklists-0-items": "《企业参保人员增员表》加盖公章\n劳动合同复印件",
        "_save": "保存",
    }
    response = sysadmin_client.post(reverse("admin:employers_office_add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    office = Office.objects.get(code="C01")
    checklist = MaterialsChecklist.objects.get(office=office)
    assert checklist.item_list() == ["《企业参保人员增员表》加盖公章", "劳动合同复印件"]


@pytest.mark.parametrize("field, label", [("address", "单位地址"), ("name", "单位名称"), ("contact_name", "联系人")])
def test_employer_text_with_a_direction_control_is_refused(sysadmin_client, office, field, label):
    response = sysadmin_client.post(
        reverse("admin:employers_employer_add"), employer_form(office, **{field: "东区\u202e路3号"})
    )
    assert response.status_code == 200
    assert f"「{label}」含有不可见的控制字符 U+202E" in response.content.decode()
    assert not Employer.objects.exists()


def test_office_address_with_a_control_character_is_refused(sysadmin_client):
    data = {
        "code": "C02",
        "name": "北区社保处",
        "address": "北区\x1b五路5号",
        "hours": "周一至周五 9:00-17:00",
        "phone": "",
        "checklists-TOTAL_FORMS": "0",
        "checklists-INITIAL_FORMS": "0",
        "checklists-MIN_NUM_FORMS": "0",
        "checklists-MAX_NUM_FORMS": "1000",
        "_save": "保存",
    }
    response = sysadmin_client.post(reverse("admin:employers_office_add"), data)
    assert response.status_code == 200
    assert "「办公地址」含有不可见的控制字符 U+001B" in response.content.decode()
    assert not Office.objects.filter(code="C02").exists()


def user_form(**changes) -> dict:
    data = {
        "username": "clerk_new",
        "last_name": "王",
        "first_name": "芳",
        "role": Role.CLERK,
        "office": "",
        "usable_password": "true",
        "password1": "Tempo!rary2025x",
        "password2": "Tempo!rary2025x",
        "_save": "保存",
    }
    data.update(changes)
    return data


def test_creating_a_clerk_requires_an_office(sysadmin_client, office):
    refused = sysadmin_client.post(reverse("admin:accounts_user_add"), user_form())
    assert refused.status_code == 200
    assert "须选择所属经办机构" in refused.content.decode()
    assert not User.objects.filter(username="clerk_new").exists()
    done = sysadmin_client.post(reverse("admin:accounts_user_add"), user_form(office=office.pk))
    assert done.status_code == 302, done.content.decode()[:3000]
    clerk = User.objects.get(username="clerk_new")
    assert clerk.role == Role.CLERK and clerk.office == office
    assert clerk.must_change_password and not clerk.is_staff


def test_a_new_administrator_can_use_the_admin(sysadmin_client):
    response = sysadmin_client.post(reverse("admin:accounts_user_add"), user_form(username="admin2", role=Role.ADMIN))
    assert response.status_code == 302
    user = User.objects.get(username="admin2")
    assert user.is_staff and user.is_superuser


def test_reset_password_forces_a_change_at_next_login(sysadmin_client, office):
    user = UserFactory(username="op1", role=Role.OPERATOR)
    lock_out("op1")
    # Django's UserAdmin names this URL auth_user_password_change whatever the user model.
    response = sysadmin_client.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {"password1": "Newpass!2345xy", "password2": "Newpass!2345xy", "usable_password": "true"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    user.refresh_from_db()
    assert user.must_change_password and user.check_password("Newpass!2345xy")
    assert lockout.locked_until("op1") is None

    User.objects.filter(pk=user.pk).update(must_change_password=False)
    response = sysadmin_client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "reset_password", "_selected_action": [user.pk]},
        follow=True,
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.must_change_password
    assert "临时密码" in response.content.decode()


def test_user_page_shows_memberships_inline(sysadmin_client, office):
    employer = EmployerFactory(number="300002", name="成员单位", office=office)
    user = UserFactory(username="op2", role=Role.OPERATOR, must_change_password=True)
    MembershipFactory(user=user, employer=employer)
    page = sysadmin_client.get(reverse("admin:accounts_user_change", args=[user.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "单位经办人" in body and "300002" in body
    assert "下次登录须修改密码" in body and "登录锁定" in body and "未锁定" in body


def test_parameter_rows_start_on_the_first_of_a_month(sysadmin_client):
    data = {
        "year": "2031",
        "insurance_type": "pension",
        "average_wage": "7496",
        "floor": "4498",
        "ceiling": "22488",
        "effective_from": "2031-07-15",
        "note": "",
        "_save": "保存",
    }
    refused = sysadmin_client.post(reverse("admin:params_baselimit_add"), data)
    assert refused.status_code == 200
    assert "请填写年月，如 2026-07。" in refused.content.decode()
    data["effective_from"] = "2031-07"
    assert sysadmin_client.post(reverse("admin:params_baselimit_add"), data).status_code == 302
    row = BaseLimit.objects.get(year=2031)
    assert row.floor == Decimal("4498") and row.effective_from == dt.date(2031, 7, 1)
    # Floor above ceiling is refused.
    data.update(effective_from="2031-08-01", floor="30000")
    assert sysadmin_client.post(reverse("admin:params_baselimit_add"), data).status_code == 200
    assert BaseLimit.objects.filter(year=2031).count() == 1
    # A setting row likewise.
    setting = {"key": "draft_expiry_days", "value": "20", "effective_from": "2031-01-02", "note": "", "_save": "保存"}
    assert sysadmin_client.post(reverse("admin:params_setting_add"), setting).status_code == 200
    setting["effective_from"] = "2031-01-01"
    assert sysadmin_client.post(reverse("admin:params_setting_add"), setting).status_code == 302
    assert Setting.objects.get(effective_from=dt.date(2031, 1, 1)).value == 20


def test_register_is_view_only(sysadmin_client, sysadmin):
    assert sysadmin_client.get(reverse("admin:register_person_add")).status_code == 403
    model_admin = admin.site._registry[Person]
    request = type("R", (), {"user": sysadmin})()
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert model_admin.has_view_permission(request)
    person = PersonFactory(name="张三")
    page = sysadmin_client.get(reverse("admin:register_person_change", args=[person.pk]))
    assert page.status_code == 200 and "张三" in page.content.decode()
    # A POST to the change page changes nothing.
    sysadmin_client.post(reverse("admin:register_person_change", args=[person.pk]), {"name": "李四"})
    person.refresh_from_db()
    assert person.name == "张三"
    assert sysadmin_client.get(reverse("admin:register_person_delete", args=[person.pk])).status_code == 403


def test_every_changelist_and_add_page_answers(sysadmin_client):
    for model in admin.site._registry:
        opts = model._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        assert sysadmin_client.get(changelist).status_code == 200, changelist
        add = sysadmin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
        assert add.status_code in (200, 403), opts.label


def test_transactions_and_events_cannot_be_added_or_deleted(sysadmin, sysadmin_client):
    from shebao.workflow.models import Event, Transaction

    request = type("R", (), {"user": sysadmin})()
    for model in (Transaction, Event):
        model_admin = admin.site._registry[model]
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_delete_permission(request)
        assert not model_admin.has_change_permission(request)
        assert model_admin.has_view_permission(request)


def test_non_admin_users_cannot_open_the_admin(db, client, office):
    clerk = ClerkFactory(username="clerk9", office=office)
    client.force_login(clerk)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_transaction_view_page_shows_history_and_cannot_delete(sysadmin, sysadmin_client, office):
    from shebao.workflow.models import Event, Transaction

    employer = EmployerFactory(number="300003", name="历史单位", office=office)
    tx = TransactionFactory(employer=employer, business_type="enrol", operator=sysadmin, serial="2026010100000001")
    Event.objects.create(transaction=tx, actor=sysadmin, action="create", to_state="saved", reason="测试原因")
    page = sysadmin_client.get(reverse("admin:workflow_transaction_change", args=[tx.pk]))
    assert page.status_code == 200
    assert "2026010100000001" in page.content.decode() and "测试原因" in page.content.decode()
    assert sysadmin_client.get(reverse("admin:workflow_transaction_delete", args=[tx.pk])).status_code == 403
    assert (
        sysadmin_client.post(reverse("admin:workflow_transaction_delete", args=[tx.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert Transaction.objects.filter(pk=tx.pk).exists()


@pytest.mark.parametrize(
    "query",
    [
        {"effective_from__year": "9" * 30},
        {"effective_from__year": "9999", "effective_from__month": "12", "effective_from__day": "31"},
        {"effective_from__year": "9999"},
        {"effective_from__year": "2025", "effective_from__month": "9" * 30},
        {"effective_from__year": "1", "effective_from__month": "1", "effective_from__day": "1"},
    ],
)
def test_a_date_hierarchy_no_datetime_holds_is_an_invalid_filter(sysadmin_client, query):
    for url in (reverse("admin:params_baselimit_changelist"), reverse("admin:workflow_transaction_changelist")):
        if url.endswith("transaction/"):
            query = {k.replace("effective_from", "created_at"): v for k, v in query.items()}
        response = sysadmin_client.get(url, query)
        assert response.status_code == 302 and response["Location"].endswith("?e=1"), (url, response.status_code)


def test_a_date_hierarchy_inside_the_calendar_still_filters(sysadmin_client):
    response = sysadmin_client.get(
        reverse("admin:params_baselimit_changelist"),
        {"effective_from__year": "9998", "effective_from__month": "12", "effective_from__day": "31"},
    )
    assert response.status_code == 200


@pytest.mark.parametrize("ticked", ["9" * 30, "abc", "²", ""])
def test_an_action_on_ids_that_cannot_exist_deletes_nothing(sysadmin_client, office, ticked):
    response = sysadmin_client.post(
        reverse("admin:employers_office_changelist"),
        {"action": "delete_selected", "_selected_action": [ticked, str(office.pk)]},
    )
    assert response.status_code == 200  # the confirmation page, for the one real office
    assert "东区社保处" in response.content.decode()
    assert Office.objects.filter(pk=office.pk).exists()


def test_an_empty_to_field_means_the_key(sysadmin_client, office):
    for name in ("admin:employers_office_change", "admin:employers_office_delete"):
        response = sysadmin_client.get(reverse(name, args=[office.pk]), {"_to_field": ""})
        assert response.status_code == 200, name


def lock_out(username, number="20260001"):
    for _ in range(5):
        Client().post(
            "/accounts/login/", {"employer_number": number, "username": username, "password": "Wrong!2345xyz"}
        )
    assert lockout.locked_until(username) is not None


def test_unlock_lets_a_locked_out_user_log_in_at_once(sysadmin_client, office):
    employer = EmployerFactory(number="20260001")
    OperatorFactory(username="op2", employer=employer)
    lock_out("op2")
    login = {"employer_number": "20260001", "username": "op2", "password": DEFAULT_PASSWORD}
    assert "账号已锁定至" in Client().post("/accounts/login/", login).content.decode()
    page = sysadmin_client.get(reverse("admin:accounts_user_change", args=[User.objects.get(username="op2").pk]))
    assert "锁定至 20" in page.content.decode()  # the date and time it ends

    response = sysadmin_client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "unlock", "_selected_action": [User.objects.get(username="op2").pk]},
        follow=True,
    )
    assert "已解除 1 个用户的锁定。" in response.content.decode()
    assert Client().post("/accounts/login/", login).status_code == 302
