"""增员 past the statutory retirement month under the 2025 reform (DOMAIN §5b, §7, §8):

- without an agreement (延长缴费): the row check warns, the audit counts the distinct paid
  pension months on the register at any employer and accepts a person short of the minimum
  contribution months with a warning; anyone else is refused (AGE_OVER_RETIREMENT);
- with a 弹性延迟退休 agreement: accepted up to 36 months after the statutory month with a
  warning, always reviewed by a clerk, the agreement a required material; later an error;
- 工伤 only: a warning at any age, as before.

The clock is pinned to 2026-06-15 (China): start month 2026-06.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from shebao.business.enrol import DELAY_MATERIAL
from shebao.core.errors import ApplicationError
from shebao.core.months import add_months, current_month, format_month, month_range
from shebao.core.scans import check_scan
from shebao.params.models import MinimumContribution
from shebao.params.services import ParamSnapshot
from shebao.register.models import ContributionLine, LineKind, Relation, RelationStatus
from shebao.workflow import materials, registry, services
from shebao.workflow.models import Event, Item, State
from shebao.workflow.rules import Issue, Severity
from tests.batch.conftest import ENROL_HEADERS, create_batch, enrol_row, xlsx_bytes
from tests.factories import OperatorFactory, PersonFactory, TransactionFactory, make_resident_id
from tests.workflow.helpers import enrol_raw

pytestmark = pytest.mark.django_db

ENROL = registry.get("enrol")
RETIRED_2020 = dt.date(1960, 1, 15)  # a man: 60 in 2020-01, before the reform


# --- helpers ------------------------------------------------------------------------------------


def retiree(birth: dt.date = RETIRED_2020, **kwargs):
    """A man on the register past (or near) his statutory month."""
    work = dt.date(birth.year + 20, 7, 1)
    return PersonFactory(sex="1", birth_date=birth, identity="worker", first_work_date=work, **kwargs)


def raw_of(person, **overrides) -> dict:
    return enrol_raw(
        person.id_number, name=person.name, first_work_date=person.first_work_date.isoformat(), **overrides
    )


def months_from(first: dt.date, count: int) -> list[dt.date]:
    return month_range(first, add_months(first, count))


def history(person, employer, months: list[dt.date], *, itype="pension", kind=LineKind.REGULAR, voided_by=None):
    """Lines of a past employment at another employer, written in bulk; the relation is
    suspended after the last month (so nothing contributes elsewhere now)."""
    base = Decimal("5000.00")
    ContributionLine.objects.bulk_create(
        ContributionLine(
            person=person,
            employer=employer,
            month=m,
            insurance_type=itype,
            kind=kind,
            base=base,
            employer_amount=Decimal("800.00"),
            personal_amount=Decimal("400.00"),
            voided_by=voided_by,
        )
        for m in months
    )
    if kind == LineKind.REGULAR and voided_by is None and months:
        Relation.objects.get_or_create(
            person=person,
            employer=employer,
            insurance_type=itype,
            defaults={
                "status": RelationStatus.SUSPENDED,
                "start_month": min(months),
                "end_month": add_months(max(months), 1),
                "end_reason": "01",
            },
        )


def check(raw: dict):
    return ENROL.check_row(raw, ParamSnapshot.load())


def codes(issues) -> list[str]:
    return [i["code"] if isinstance(i, dict) else i.code for i in issues]


def save(employer, raw: dict, user=None):
    user = user or OperatorFactory(employer=employer)
    saved = services.transaction_save_single(employer=employer, actor=user, business_type="enrol", raw=raw)
    assert saved.ok, [i.message() for i in saved.issues]
    return saved.transaction, user, saved.issues


def submit_and_audit(tx, user):
    tx.refresh_from_db()
    services.transaction_submit(tx=tx, actor=user, version=tx.version)
    outcome = services.run_audit(tx.pk)
    tx.refresh_from_db()
    return outcome


def audit_issues(tx) -> list[dict]:
    return Item.objects.get(transaction=tx).audit_issues


def scan_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (600, 800), "white").save(out, "PNG")
    return out.getvalue()


def attach(tx, user, material: str) -> None:
    scan = check_scan(scan_png(), "协议.png", max_bytes=10 * 1024 * 1024, max_pages=50)
    services.attachment_add(tx=tx, actor=user, material=material, scan=scan)


# --- 延长缴费: the row check warns, the audit decides by the paid months ------------------------


def test_the_row_check_warns_and_does_not_block_saving(params, vip_employer):
    person = retiree()
    result = check(raw_of(person))
    assert [(i.code, i.field) for i in result.issues] == [("AGE_OVER_RETIREMENT_CHECK", "insurance_types")]
    issue = result.issues[0]
    assert issue.severity == Severity.WARNING
    assert issue.message("zh-hans") == (
        "该人员已于 2020-01 达到法定退休年龄：提交审批后将按参保登记核对其累计缴费月数，不足最低缴费年限的"
        "可延长缴费；已满最低缴费年限或没有养老保险缴费记录的不能参加养老、医疗、失业、生育保险（可只选择“工伤”）。"
        "已签订弹性延迟退休书面协议的，请在「弹性延迟退休协议」选择“是”。"
    )
    _tx, _user, issues = save(vip_employer, raw_of(person))
    assert codes(issues) == ["AGE_OVER_RETIREMENT_CHECK"]


def test_short_of_the_minimum_is_enrolled_with_a_warning_and_a_vip_enrolment_finishes(
    params, vip_employer, other_employer
):
    person = retiree()
    history(person, other_employer, months_from(dt.date(2010, 1, 1), 120))  # 2010-01 … 2019-12
    # Neither voided months nor other insurance types count; an adjustment is no new month.
    voider = TransactionFactory(employer=other_employer, state=State.FINISHED)
    history(person, other_employer, months_from(dt.date(2003, 1, 1), 84), voided_by=voider)
    history(person, other_employer, months_from(dt.date(2003, 1, 1), 84), itype="medical")
    history(person, other_employer, months_from(dt.date(2019, 1, 1), 12), kind=LineKind.ADJUSTMENT)
    tx, user, _issues = save(vip_employer, raw_of(person))
    assert submit_and_audit(tx, user) == "finished"
    assert tx.state == State.FINISHED
    found = {i["code"]: i for i in audit_issues(tx)}
    assert set(found) == {"AGE_OVER_RETIREMENT_CHECK", "AGE_EXTENDED_CONTRIBUTION"}
    extended = found["AGE_EXTENDED_CONTRIBUTION"]
    assert extended["params"] == {"retire": "2020-01", "paid": 120, "minimum": 180, "short": 60}
    text = Issue("AGE_EXTENDED_CONTRIBUTION", "insurance_types", extended["params"]).message("zh-hans")
    assert text == (
        "该人员已于 2020-01 达到法定退休年龄，累计缴费 120 个月，不足最低缴费年限 180 个月，"
        "可延长缴费至满最低缴费年限（尚差 60 个月）；满最低缴费年限后请及时办理退休。"
    )
    here = Relation.objects.filter(person=person, employer=vip_employer, status=RelationStatus.CONTRIBUTING)
    assert set(here.values_list("insurance_type", flat=True)) == {
        "pension",
        "medical",
        "unemployment",
        "injury",
        "maternity",
    }
    assert ContributionLine.objects.filter(transaction=tx, insurance_type="pension").count() == 1


def test_the_minimum_reached_is_refused_as_before(params, vip_employer, other_employer):
    person = retiree()
    history(person, other_employer, months_from(dt.date(2005, 1, 1), 180))
    tx, user, _issues = save(vip_employer, raw_of(person))
    assert submit_and_audit(tx, user) == "returned"
    assert tx.state == State.RETURNED
    assert codes(tx.return_reasons) == ["AGE_OVER_RETIREMENT"]
    issue = next(i for i in audit_issues(tx) if i["code"] == "AGE_OVER_RETIREMENT")
    assert issue["field"] == "insurance_types" and issue["params"] == {"retire": "2020-01"}
    assert not Relation.objects.filter(person=person, employer=vip_employer).exists()


def test_a_new_person_past_the_statutory_month_is_refused(params, vip_employer):
    number = make_resident_id(RETIRED_2020)
    tx, user, _issues = save(vip_employer, enrol_raw(number, first_work_date="1980-07-01"))
    assert submit_and_audit(tx, user) == "returned"
    assert codes(tx.return_reasons) == ["AGE_OVER_RETIREMENT"]


def test_a_person_without_pension_months_is_refused(params, vip_employer, other_employer):
    person = retiree()
    history(person, other_employer, months_from(dt.date(2010, 1, 1), 60), itype="medical")
    tx, user, _issues = save(vip_employer, raw_of(person))
    assert submit_and_audit(tx, user) == "returned"
    assert codes(tx.return_reasons) == ["AGE_OVER_RETIREMENT"]


def test_without_a_minimum_table_the_rule_is_as_before(params, vip_employer, other_employer):
    MinimumContribution.objects.all().delete()
    person = retiree()
    history(person, other_employer, months_from(dt.date(2010, 1, 1), 120))
    tx, user, _issues = save(vip_employer, raw_of(person))
    assert submit_and_audit(tx, user) == "returned"
    assert codes(tx.return_reasons) == ["AGE_OVER_RETIREMENT"]


@pytest.mark.clock("2031-03-16T02:00:00Z")
def test_the_minimum_is_that_of_the_start_months_year(params, vip_employer, other_employer):
    """2031: 180 + 2 × 6 = 192 months; 185 paid months are short of it."""
    person = retiree()
    history(person, other_employer, months_from(dt.date(2004, 1, 1), 185))
    tx, user, _issues = save(vip_employer, raw_of(person))
    assert submit_and_audit(tx, user) == "finished"
    extended = next(i for i in audit_issues(tx) if i["code"] == "AGE_EXTENDED_CONTRIBUTION")
    assert extended["params"] == {"retire": "2020-01", "paid": 185, "minimum": 192, "short": 7}


def test_the_audit_reads_the_paid_months_in_bulk(params, vip_employer, other_employer):
    """The same number of queries for 3 rows past the statutory month as for 30."""

    def audit_queries(count: int) -> tuple[int, dict]:
        rows = []
        for _n in range(count):
            person = retiree()
            history(person, other_employer, months_from(dt.date(2010, 1, 1), 24))
            rows.append(check(raw_of(person)).data)
        tx = TransactionFactory(employer=vip_employer, rows=rows)
        items = list(tx.items.all())
        with CaptureQueriesContext(connection) as queries:
            out = ENROL.audit(tx, items, registry.AuditContext(params=ParamSnapshot.load(), today=None))
        assert all("AGE_EXTENDED_CONTRIBUTION" in codes(out[item.pk]) for item in items)
        return len(queries), out

    assert audit_queries(3)[0] == audit_queries(30)[0]


# --- 弹性延迟退休: the agreement -------------------------------------------------------------------


DELAYED = dt.date(1965, 1, 1)  # statutory month 2025-02 (60 years 1 month): 2026-06 is 16 months after


def test_with_the_agreement_within_36_months_a_warning(params):
    result = check(raw_of(retiree(DELAYED), delay_agreement="是"))
    assert [(i.code, i.field) for i in result.issues] == [("AGE_DELAY_AGREEMENT", "delay_agreement")]
    issue = result.issues[0]
    assert issue.severity == Severity.WARNING
    assert issue.message("zh-hans") == (
        "该人员已于 2025-02 达到法定退休年龄，按弹性延迟退休增员（最晚延迟至 2028-02）："
        "弹性延迟退休书面协议须在法定退休年龄前签订，请上传协议，由经办机构审核。"
    )
    assert result.data["delay_agreement"] == "1"


def test_the_agreement_field_defaults_to_no(params):
    raw = raw_of(retiree(DELAYED))
    raw.pop("delay_agreement", None)
    result = check(raw)
    assert result.data["delay_agreement"] == "0"
    assert codes(result.issues) == ["AGE_OVER_RETIREMENT_CHECK"]


@pytest.mark.parametrize(
    ("birth", "after", "expected"),
    [
        (dt.date(1963, 6, 10), 36, "AGE_DELAY_AGREEMENT"),  # statutory 2023-06: 36 months after
        (dt.date(1963, 5, 10), 37, "AGE_OVER_DELAY_LIMIT"),  # statutory 2023-05: 37 months after
    ],
)
def test_at_most_36_months_after_the_statutory_month(params, birth, after, expected):
    person = retiree(birth)
    retire = ParamSnapshot.load().retirement_month(sex="1", identity="worker", birth_date=birth)
    assert retire is not None and add_months(retire, after) == current_month()
    result = check(raw_of(person, delay_agreement="是"))
    assert codes(result.issues) == [expected]
    issue = result.issues[0]
    if expected == "AGE_OVER_DELAY_LIMIT":
        assert issue.severity == Severity.ERROR and issue.field == "start_month"
        assert issue.message("zh-hans") == (
            "弹性延迟退休最长延迟 36 个月：该人员的法定退休年月为 2023-05，「参保起始年月」最晚为 2026-05。"
            "累计缴费不足最低缴费年限需延长缴费的，请在「弹性延迟退休协议」选择“否”。"
        )
    else:
        assert issue.severity == Severity.WARNING


def test_with_the_agreement_a_vip_enrolment_goes_to_a_clerk_with_the_agreement_attached(params, vip_employer):
    person = retiree(DELAYED)
    tx, user, issues = save(vip_employer, raw_of(person, delay_agreement="是"))
    assert codes(issues) == ["AGE_DELAY_AGREEMENT"]
    assert ENROL.required_materials(tx, list(tx.items.all())) == [DELAY_MATERIAL]
    assert DELAY_MATERIAL == "弹性延迟退休书面协议（须在法定退休年龄前签订）"
    # 提交审批 without the agreement is refused (不见面审批: the clerk must see it).
    assert materials.missing(tx, ENROL) == [DELAY_MATERIAL]
    with pytest.raises(ApplicationError) as refused:
        services.transaction_submit(tx=tx, actor=user, version=tx.version)
    assert refused.value.code == "MATERIALS_MISSING"
    attach(tx, user, DELAY_MATERIAL)
    assert submit_and_audit(tx, user) == "review"
    assert tx.state == State.REVIEW
    reason = Event.objects.get(transaction=tx, action="to_review").reason
    assert "弹性延迟退休" in reason
    assert codes(audit_issues(tx)) == ["AGE_DELAY_AGREEMENT"]  # no paid-months decision: the clerk's
    assert not Relation.objects.filter(person=person, employer=vip_employer).exists()


def test_an_ordinary_employer_needs_the_agreement_too(params, ordinary_employer):
    person = retiree(DELAYED)
    tx, user, _issues = save(ordinary_employer, raw_of(person, delay_agreement="是"))
    assert materials.missing(tx, ENROL) == [DELAY_MATERIAL]
    attach(tx, user, DELAY_MATERIAL)
    assert submit_and_audit(tx, user) == "review"


def test_the_agreement_before_the_statutory_month_is_not_needed(params, vip_employer):
    """Someone who has not passed the statutory month is enrolled as anyone: the employer is
    told the agreement plays no part, and neither a clerk nor the material is needed."""
    person = retiree(dt.date(1990, 1, 1))
    raw = raw_of(person, delay_agreement="是")
    result = check(raw)
    assert [(i.code, i.field) for i in result.issues] == [("DELAY_AGREEMENT_NOT_NEEDED", "delay_agreement")]
    assert result.issues[0].severity == Severity.WARNING
    assert result.issues[0].message("zh-hans") == (
        "该人员的法定退休年月为 2053-01，「参保起始年月」未超过该月，按正常增员办理："
        "「弹性延迟退休协议」选择“是”不起作用，无需提交协议。"
    )
    tx, user, _issues = save(vip_employer, raw)
    assert ENROL.required_materials(tx, list(tx.items.all())) == []
    assert submit_and_audit(tx, user) == "finished"


# --- 工伤 only: unchanged ---------------------------------------------------------------------------


@pytest.mark.parametrize("agreement", ["否", "是"])
def test_work_injury_only_stays_a_warning(params, vip_employer, agreement):
    number = make_resident_id(RETIRED_2020)
    raw = enrol_raw(number, first_work_date="1980-07-01", insurance_types="工伤", delay_agreement=agreement)
    result = check(raw)
    assert [(i.code, i.field) for i in result.issues] == [("AGE_OVER_RETIREMENT_INJURY", "insurance_types")]
    assert result.issues[0].message("zh-hans") == "该人员已于 2020-01 达到法定退休年龄，仅参加工伤保险。"
    tx, user, _issues = save(vip_employer, raw)
    assert ENROL.required_materials(tx, list(tx.items.all())) == []
    assert submit_and_audit(tx, user) == "finished"
    assert codes(audit_issues(tx)) == ["AGE_OVER_RETIREMENT_INJURY"]


# --- the batch -------------------------------------------------------------------------------------


def test_a_batch_decides_row_by_row_and_an_old_template_still_imports(params, vip_employer, other_employer):
    """A file of the template before the agreement column (no 弹性延迟退休协议) imports as 否."""
    user = OperatorFactory(employer=vip_employer)
    short, full = retiree(), retiree()
    history(short, other_employer, months_from(dt.date(2010, 1, 1), 120))
    history(full, other_employer, months_from(dt.date(2000, 1, 1), 200))
    young = make_resident_id(dt.date(1990, 3, 7))
    old_headers = [h for h in ENROL_HEADERS if h != "弹性延迟退休协议"]
    rows = [enrol_row(p.id_number, 姓名=p.name, 参加工作日期="1980-07-01", 个人身份="工人") for p in (short, full)] + [
        enrol_row(young, 姓名="王伟")
    ]
    tx = create_batch(vip_employer, user, xlsx_bytes(rows, old_headers))
    assert (tx.total_count, tx.import_failed_count) == (3, 0)
    items = {i.id_number: i for i in tx.items.all()}
    assert {i.data["delay_agreement"] for i in items.values()} == {"0"}
    assert codes(items[short.id_number].import_issues) == ["AGE_OVER_RETIREMENT_CHECK"]
    assert submit_and_audit(tx, user) == "finished"
    assert (tx.audit_passed_count, tx.audit_failed_count) == (2, 1)
    items = {i.id_number: i for i in tx.items.all()}
    assert "AGE_EXTENDED_CONTRIBUTION" in codes(items[short.id_number].audit_issues)
    assert "AGE_OVER_RETIREMENT" in codes(items[full.id_number].audit_issues)
    assert codes(items[young].audit_issues) == []


def test_the_agreement_column_in_a_batch(params, vip_employer):
    user = OperatorFactory(employer=vip_employer)
    delayed = retiree(DELAYED)
    rows = [
        enrol_row(delayed.id_number, 姓名=delayed.name, 参加工作日期="1985-07-01", 弹性延迟退休协议="是"),
        enrol_row(make_resident_id(dt.date(1990, 3, 7)), 姓名="王伟"),
    ]
    tx = create_batch(vip_employer, user, xlsx_bytes(rows))
    assert ENROL.required_materials(tx, list(tx.items.all())) == [DELAY_MATERIAL]
    assert DELAY_MATERIAL in materials.required(tx, ENROL)
    attach(tx, user, DELAY_MATERIAL)
    assert submit_and_audit(tx, user) == "review"


def test_the_delay_limit_month_is_named_in_the_month_format(params):
    """The latest month is the statutory month + 36, in YYYY-MM."""
    person = retiree(dt.date(1962, 1, 10))  # statutory 2022-01: latest 2025-01
    issue = check(raw_of(person, delay_agreement="1")).issues[0]
    assert issue.code == "AGE_OVER_DELAY_LIMIT"
    assert issue.params["latest"] == format_month(dt.date(2025, 1, 1))
