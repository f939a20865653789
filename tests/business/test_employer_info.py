"""单位信息变更: the rules, the review routing, the effect with its history, the page, isolation."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from PIL import Image

from shebao.business.employer_info import BANK_SCAN, CODE, LICENCE_SCAN
from shebao.core.errors import ApplicationError
from shebao.core.scans import check_scan
from shebao.employers.models import Employer, EmployerChange
from shebao.workflow import registry, services
from shebao.workflow.models import State
from tests.factories import ClerkFactory, EmployerFactory, OperatorFactory, make_credit_code

NAME = "武汉VIP测试科技有限公司"


@pytest.fixture
def vip(vip_employer):
    vip_employer.contact_name, vip_employer.contact_phone, vip_employer.address = "王芳", "027-85551234", "武汉市江岸区"
    vip_employer.save()
    return vip_employer


@pytest.fixture
def user(vip):
    return OperatorFactory(employer=vip)


def raw(employer, **changes) -> dict:
    values = registry.get(CODE).initial(employer)
    values.update(changes)
    return {k: v for k, v in values.items() if not k.startswith("was_")}


def check(employer, **changes) -> dict[str, set[str]]:
    result = registry.get(CODE).check_row(raw(employer, **changes), None, employer)
    out: dict[str, set[str]] = {}
    for issue in result.issues:
        out.setdefault(issue.field, set()).add(issue.code)
    return out


def save(employer, user, **changes):
    result = services.transaction_save_single(
        employer=employer, actor=user, business_type=CODE, raw=raw(employer, **changes)
    )
    assert result.ok, [i.message() for i in result.issues]
    return result.transaction


def attach(tx, user, material: str) -> None:
    out = io.BytesIO()
    Image.new("RGB", (600, 800), "white").save(out, "PNG")
    scan = check_scan(out.getvalue(), "证明.png", max_bytes=10 * 1024 * 1024, max_pages=50)
    services.attachment_add(tx=tx, actor=user, material=material, scan=scan)


def submit_and_audit(tx, user):
    tx.refresh_from_db()
    tx = services.transaction_submit(tx=tx, actor=user, version=tx.version)
    outcome = services.run_audit(tx.pk)
    tx.refresh_from_db()
    return outcome, tx


# --- rules -------------------------------------------------------------------------------------


def test_the_rules_name_the_field(params, vip):
    assert check(vip, contact_phone="12345") == {"contact_phone": {"EMPLOYER_PHONE_FORMAT"}}
    assert check(vip, email="hr@@example") == {"email": {"EMPLOYER_EMAIL_FORMAT"}}
    assert check(vip, credit_code="ABC") == {"credit_code": {"EMPLOYER_CREDIT_CODE_FORMAT"}}
    good = make_credit_code()
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    assert check(vip, credit_code=wrong) == {"credit_code": {"EMPLOYER_CREDIT_CODE_CHECKSUM"}}
    assert check(vip, credit_code=EmployerFactory().credit_code) == {"credit_code": {"EMPLOYER_CREDIT_CODE_TAKEN"}}
    assert check(vip, bank_name="招商银行", bank_account="62-12", account_name=NAME) == {
        "bank_account": {"EMPLOYER_BANK_ACCOUNT_FORMAT"}
    }
    assert check(vip, bank_name="招商银行") == {
        "bank_account": {"EMPLOYER_BANK_INCOMPLETE"},
        "account_name": {"EMPLOYER_BANK_INCOMPLETE"},
    }
    assert check(vip, bank_name="招商银行", bank_account="6212 2600 0000 1234", account_name="张三") == {
        "account_name": {"EMPLOYER_ACCOUNT_NAME_MISMATCH"}
    }
    assert check(vip) == {"": {"EMPLOYER_INFO_UNCHANGED"}}
    assert check(vip, contact_name="") == {"contact_name": {"REQUIRED"}}


def test_valid_values_are_normalised(params, vip):
    result = registry.get(CODE).check_row(
        raw(
            vip,
            contact_phone="１３８００００００００",
            bank_name="招商银行",
            bank_account="6212 2600-0000 1234",
            account_name=NAME,
            email=" hr@example.com",
            credit_code=vip.credit_code.lower(),
        ),
        None,
        vip,
    )
    assert result.issues == []
    assert result.data["contact_phone"] == "13800000000" and result.data["bank_account"] == "6212260000001234"
    assert result.data["credit_code"] == vip.credit_code and result.data["email"] == "hr@example.com"


def test_the_account_may_bear_the_new_name(params, vip):
    assert (
        check(
            vip,
            employer_name="武汉新名称有限公司",
            bank_name="招商银行",
            bank_account="62122600001234",
            account_name="武汉新名称有限公司",
        )
        == {}
    )
    assert (
        check(
            vip,
            employer_name="武汉新名称有限公司",
            bank_name="招商银行",
            bank_account="62122600001234",
            account_name=NAME,
        )
        == {}
    )


def test_the_messages_are_chinese_and_name_the_fix(params, vip, operator_client):
    client = operator_client(vip)
    response = client.post(reverse("web:single_new", kwargs={"code": CODE}), raw(vip))
    assert response.status_code == 422
    assert "所填信息与当前单位信息相同，没有需要变更的内容" in response.content.decode()
    response = client.post(reverse("web:single_new", kwargs={"code": CODE}), raw(vip, email="x@"))
    assert "「电子邮箱」格式不正确" in response.content.decode()


# --- routing and effect ------------------------------------------------------------------------


def test_contact_change_finishes_at_once_with_history(params, vip, user):
    tx = save(vip, user, contact_phone="13800000000", email="hr@example.com")
    outcome, tx = submit_and_audit(tx, user)
    assert outcome == "finished" and tx.state == State.FINISHED
    vip.refresh_from_db()
    assert (vip.contact_phone, vip.email) == ("13800000000", "hr@example.com")
    changes = {c.field: (c.old_value, c.new_value, c.transaction_id, c.operator_id) for c in vip.changes.all()}
    assert changes == {
        "contact_phone": ("027-85551234", "13800000000", tx.pk, user.pk),
        "email": ("", "hr@example.com", tx.pk, user.pk),
    }


def test_an_ordinary_employers_contact_change_needs_no_clerk(params, ordinary_employer):
    ordinary_employer.contact_name, ordinary_employer.contact_phone = "李雷", "13900000000"
    ordinary_employer.address = "武汉市江岸区"
    ordinary_employer.save()
    user = OperatorFactory(employer=ordinary_employer)
    outcome, _tx = submit_and_audit(save(ordinary_employer, user, address="武汉市江岸区解放大道1号"), user)
    assert outcome == "finished"
    ordinary_employer.refresh_from_db()
    assert ordinary_employer.address == "武汉市江岸区解放大道1号"


def test_bank_change_goes_to_a_clerk_even_for_vip_with_its_proof(params, vip, user, office):
    tx = save(vip, user, bank_name="招商银行武汉分行", bank_account="6212260000001234", account_name=NAME)
    with pytest.raises(ApplicationError) as refused:
        services.transaction_submit(tx=tx, actor=user, version=tx.version)
    assert refused.value.code == "MATERIALS_MISSING" and "银行账户证明" in refused.value.message
    attach(tx, user, BANK_SCAN)
    outcome, tx = submit_and_audit(tx, user)
    assert outcome == "review" and "退费账户" in tx.events.get(action="to_review").reason
    vip.refresh_from_db()
    assert vip.bank_account == "" and not vip.changes.exists()  # nothing before the clerk
    services.clerk_approve(tx=tx, clerk=ClerkFactory(office=office), version=tx.version)
    vip.refresh_from_db()
    assert (vip.bank_name, vip.bank_account, vip.account_name) == ("招商银行武汉分行", "6212260000001234", NAME)
    assert set(vip.changes.values_list("field", flat=True)) == {"bank_name", "bank_account", "account_name"}


def test_name_and_code_change_needs_the_licence_and_the_clerk_returns_it(params, vip, user, office):
    new_code = make_credit_code()
    tx = save(vip, user, employer_name="武汉长江新名称有限公司", credit_code=new_code)
    assert registry.get(CODE).required_materials(tx, list(tx.items.all())) == [LICENCE_SCAN]
    attach(tx, user, LICENCE_SCAN)
    outcome, tx = submit_and_audit(tx, user)
    assert outcome == "review"
    item = tx.items.get()
    assert item.data["was_employer_name"] == NAME  # the clerk sees what it replaces
    services.clerk_return(tx=tx, clerk=ClerkFactory(office=office), version=tx.version, reason="营业执照不清晰")
    vip.refresh_from_db()
    assert vip.name == NAME and vip.credit_code != new_code and not vip.changes.exists()


def test_a_code_taken_by_another_employer_meanwhile_is_refused_at_the_approval(params, vip, user, office, clerk_client):
    new_code = make_credit_code()
    tx = save(vip, user, employer_name="武汉长江新名称有限公司", credit_code=new_code)
    attach(tx, user, LICENCE_SCAN)
    outcome, tx = submit_and_audit(tx, user)
    assert outcome == "review"
    other = EmployerFactory(office=office)
    Employer.objects.filter(pk=other.pk).update(credit_code=new_code)  # its own change, approved first
    page = reverse("backoffice:approve", kwargs={"pk": tx.pk})
    response = clerk_client.post(page, {"version": tx.version})
    assert response.status_code == 400
    assert "该统一社会信用代码已登记为其他单位" in response.content.decode()
    tx.refresh_from_db()
    vip.refresh_from_db()
    assert tx.state == State.REVIEW  # nothing applied: the clerk returns it, with the reason
    assert vip.name == NAME and vip.credit_code != new_code and not vip.changes.exists()


def test_one_open_change_per_employer(params, vip, user):
    save(vip, user, contact_name="张三")
    result = services.transaction_save_single(
        employer=vip, actor=user, business_type=CODE, raw=raw(vip, contact_name="李四")
    )
    assert not result.ok and result.lock is not None


def test_the_audit_reads_the_employer_as_it_is_then(params, vip, user):
    tx = save(vip, user, contact_name="张三")
    Employer.objects.filter(pk=vip.pk).update(contact_name="张三")
    outcome, tx = submit_and_audit(tx, user)
    assert outcome == "returned"
    assert [r["code"] for r in tx.return_reasons] == ["EMPLOYER_INFO_UNCHANGED"]


# --- the page ------------------------------------------------------------------------------------


def test_the_page_shows_details_history_and_the_change_button(params, vip, user, operator_client):
    outcome, tx = submit_and_audit(save(vip, user, email="hr@example.com"), user)
    client = operator_client(vip, user)
    page = client.get(reverse("web:employer_details")).content.decode()
    assert "单位信息" in page and "hr@example.com" in page and vip.credit_code in page
    assert tx.serial in page and "电子邮箱" in page and "变更单位信息" in page
    form = client.get(reverse("web:single_new", kwargs={"code": CODE})).content.decode()
    assert 'value="027-85551234"' in form and f'value="{vip.credit_code}"' in form


def test_the_open_change_is_shown_instead_of_the_button(params, vip, user, operator_client):
    tx = save(vip, user, contact_name="张三")
    page = operator_client(vip, user).get(reverse("web:employer_details")).content.decode()
    assert tx.serial in page and "尚未办结" in page and "变更单位信息</a>" not in page


def test_another_employers_change_and_history_are_not_found(params, vip, user, other_employer, operator_client):
    _outcome, tx = submit_and_audit(save(vip, user, email="hr@example.com"), user)
    other = operator_client(other_employer)
    assert other.get(reverse("web:tx_detail", kwargs={"pk": tx.pk})).status_code == 404
    page = other.get(reverse("web:employer_details")).content.decode()
    assert "hr@example.com" not in page and tx.serial not in page and other_employer.name in page
    assert EmployerChange.objects.filter(employer=other_employer).count() == 0


def test_the_page_is_for_operators_only(params, clerk_client):
    assert clerk_client.get(reverse("web:employer_details")).status_code == 404
