"""参保人员: status per person at this employer, filter, pinyin order, 续保, person page, export."""

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest

from shebao.register.models import ContributionBase, Relation, RelationStatus
from shebao.workflow import services
from shebao.workflow.models import State, Transaction
from tests.factories import (
    EmployerFactory,
    ItemFactory,
    PersonFactory,
    TransactionFactory,
    seed_params,
)
from tests.workflow.helpers import enrol_raw

pytestmark = pytest.mark.django_db

MAY = dt.date(2026, 5, 1)


def relation(person, employer, status, types=("pension", "medical"), start=dt.date(2025, 1, 1), end=None, reason=""):
    for itype in types:
        Relation.objects.create(
            person=person,
            employer=employer,
            insurance_type=itype,
            status=status,
            start_month=start,
            end_month=end if status != RelationStatus.CONTRIBUTING else None,
            end_reason=reason,
        )


@pytest.fixture
def employer(office):
    return EmployerFactory(office=office, is_vip=True)


@pytest.fixture
def client(operator_client, employer):
    return operator_client(employer)


@pytest.fixture
def people(employer, other_employer):
    """张三 contributing, 李四 suspended (辞职), 王五 retired (终止), 赵六 only at another employer."""
    zhang = PersonFactory(name="张三")
    relation(zhang, employer, RelationStatus.CONTRIBUTING)
    ContributionBase.objects.create(
        person=zhang,
        employer=employer,
        insurance_type="pension",
        year=2026,
        declared_wage=Decimal("6000"),
        base=Decimal("6000"),
    )
    li = PersonFactory(name="李四")
    relation(li, employer, RelationStatus.SUSPENDED, end=MAY, reason="02")
    ContributionBase.objects.create(
        person=li,
        employer=employer,
        insurance_type="pension",
        year=2025,
        declared_wage=Decimal("5300.50"),
        base=Decimal("5300.50"),
    )
    wang = PersonFactory(name="王五")
    relation(wang, employer, RelationStatus.TERMINATED, end=MAY, reason="03")
    zhao = PersonFactory(name="赵六")
    relation(zhao, other_employer, RelationStatus.SUSPENDED, end=MAY, reason="02")
    return {"zhang": zhang, "li": li, "wang": wang, "zhao": zhao}


def rows(response) -> list[str]:
    """The names of the list, in order."""
    from html.parser import HTMLParser

    names: list[str] = []

    class Parser(HTMLParser):
        cell = 0
        in_row = False

        def handle_starttag(self, tag, attrs):
            if tag == "tr" and dict(attrs).get("data-person"):
                self.in_row, self.cell = True, 0
            elif tag == "td" and self.in_row:
                self.cell += 1

        def handle_data(self, data):
            if self.in_row and self.cell == 1 and data.strip():
                names.append(data.strip())
                self.in_row = False

    Parser().feed(response.content.decode())
    return names


def test_every_person_of_the_employer_with_their_status_here(client, people):
    response = client.get("/persons/")
    body = response.content.decode()
    assert response.status_code == 200
    assert rows(response) == ["李四", "王五", "张三"]  # pinyin: li, wang, zhang
    assert "赵六" not in body
    assert "参保缴费" in body and "暂停缴费" in body and "终止" in body


def test_filter_by_status_finds_the_suspended(client, people):
    assert rows(client.get("/persons/?status=suspended")) == ["李四"]
    assert rows(client.get("/persons/?status=contributing")) == ["张三"]
    assert rows(client.get("/persons/?status=terminated")) == ["王五"]
    assert rows(client.get("/persons/?q=张")) == ["张三"]
    assert rows(client.get(f"/persons/?q={people['li'].id_number[:10]}")) == ["李四"]


def test_an_unknown_status_is_refused_with_a_message(client, people):
    response = client.get("/persons/?status=paused")
    assert response.status_code == 400
    assert "「参保状态」只能选择" in response.content.decode()


def test_a_person_contributing_again_after_a_suspension_is_contributing(client, employer, people):
    relation(people["li"], employer, RelationStatus.CONTRIBUTING, start=dt.date(2026, 6, 1))
    assert rows(client.get("/persons/?status=suspended")) == []
    assert "李四" in rows(client.get("/persons/?status=contributing"))


def test_resume_is_offered_only_on_a_suspended_person(client, people):
    body = client.get("/persons/").content.decode()
    assert body.count("续保</a>") == 1
    assert f"/business/enrol/single/?person={people['li'].pk}" in body


def test_resume_opens_the_enrolment_form_filled_from_the_register(client, people):
    li = people["li"]
    response = client.get(f"/business/enrol/single/?person={li.pk}")
    body = response.content.decode()
    assert response.status_code == 200
    assert f'value="{li.id_number}"' in body and 'value="李四"' in body
    assert 'value="2026-06"' in body  # this month as 参保起始年月
    assert 'value="5300.50"' in body  # the wage last declared here
    initial = response.context["form"].initial
    assert initial["insurance_types"] == ["pension", "medical"]  # the types suspended here
    assert initial["first_work_date"] == li.first_work_date.isoformat() and initial["phone"] == li.phone


def test_resume_of_another_employers_person_is_not_found(client, people):
    assert client.get(f"/business/enrol/single/?person={people['zhao'].pk}").status_code == 404
    assert client.get("/business/enrol/single/?person=x").status_code == 404
    assert client.get("/business/enrol/single/?person=999999").status_code == 404


def test_resume_from_the_prefilled_form_enrols_the_person_again(client, employer, people):
    seed_params()
    li = people["li"]
    form = client.get(f"/business/enrol/single/?person={li.pk}").context["form"]
    data = {name: value for name, value in form.initial.items()}
    data["insurance_types"] = ["pension", "medical"]
    raw = enrol_raw(li.id_number, name="李四")
    for key in ("hukou", "identity", "employment_form", "first_work_date", "phone"):
        data[key] = data.get(key) or raw[key]
    response = client.post("/business/enrol/single/", data)
    assert response.status_code == 302
    tx = Transaction.objects.get(employer=employer)
    client.post(f"/tx/{tx.pk}/action/", {"action": "submit", "version": tx.version})
    services.run_audit(tx.pk)
    tx.refresh_from_db()
    assert tx.state == State.FINISHED
    assert rows(client.get("/persons/?status=contributing")) == ["李四", "张三"]


def test_person_page_shows_this_employers_history(client, employer, people):
    li = people["li"]
    tx = TransactionFactory(employer=employer, business_type="suspend", state=State.FINISHED, serial="S2026050001")
    ItemFactory(
        transaction=tx,
        data={"id_type": "01", "id_number": li.id_number, "name": "李四", "stop_month": "2026-05", "reason": "02"},
        applied=True,
    )
    body = client.get(f"/persons/{li.pk}/").content.decode()
    assert "李四" in body and "暂停缴费" in body
    assert "2026-05" in body and "辞职" in body  # 停保年月 and 减员原因
    assert "2025" in body and "5300.50" in body  # the base of 2025
    assert "S2026050001" in body and "减员(暂停缴费)" in body
    assert f"/business/enrol/single/?person={li.pk}" in body


def test_person_page_of_another_employers_person_is_not_found(client, people):
    assert client.get(f"/persons/{people['zhao'].pk}/").status_code == 404
    assert client.get("/persons/999999/").status_code == 404


def test_export_is_the_filtered_list(client, people):
    response = client.get("/persons/export.xlsx?status=suspended")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:6] == ("姓名", "证件号码", "性别", "出生日期", "参保状态", "参保险种")
    assert len(values) == 2
    li = people["li"]
    assert values[1][:2] == ("李四", li.id_number)
    assert values[1][4:9] == ("暂停缴费", "养老、医疗", "2025-01", "2026-05", "辞职")
    assert values[1][9] == pytest.approx(5300.50) and values[1][10] == 2025


def test_export_of_every_person_in_pinyin_order(client, people):
    response = client.get("/persons/export.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["李四", "王五", "张三"]


def test_export_in_english(client, people):
    client.cookies["django_language"] = "en"
    response = client.get("/persons/export.xlsx?status=terminated", HTTP_ACCEPT_LANGUAGE="en")
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    header = next(sheet.iter_rows(values_only=True))
    assert header[0] == "Name"


NAMES = ["赵六", "安静", "李明", "连杰", "刘洋", "吕布", "王五", "曾志伟", "张三", "阿依古丽·买买提"]
PINYIN_ORDER = ["阿依古丽·买买提", "安静", "李明", "连杰", "刘洋", "吕布", "王五", "曾志伟", "张三", "赵六"]


def test_names_sort_by_pinyin_in_the_database(client, employer):
    # Runs on SQLite and, with DATABASE_URL, on PostgreSQL: the key sorts alike on both.
    for name in NAMES:
        relation(PersonFactory(name=name), employer, RelationStatus.CONTRIBUTING)
    assert rows(client.get("/persons/")) == PINYIN_ORDER


def test_bases_per_insurance_type_on_the_person_page_and_the_pension_base_in_the_list(client, employer, people):
    zhang = people["zhang"]
    # The medical floor is higher in this city: the same declared wage, another base.
    ContributionBase.objects.create(
        person=zhang,
        employer=employer,
        insurance_type="medical",
        year=2026,
        declared_wage=Decimal("6000"),
        base=Decimal("6500"),
    )
    body = client.get(f"/persons/{zhang.pk}/").content.decode()
    table = body[body.index('data-testid="bases"') :]
    table = table[: table.index("</table>")]
    assert table.index("养老") < table.index("医疗")  # the catalogue's order
    assert "6000.00" in table and "6500.00" in table
    listed = client.get("/persons/").content.decode()
    row = listed[listed.index(f'data-person="{zhang.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "6000.00" in row and "6500.00" not in row  # the list shows the 养老 base
