"""The one way to make test data: every suite makes its identifiers and rows here.

Identifiers, valid, their check character computed by the product's own code
(``shebao.core.identity``):

    make_resident_id(dt.date(1990, 5, 17), sex="2")    # 18-digit 居民身份证 of a woman born that day
    make_resident_id(birth, serial=3)                   # the same number each time serial=3 is asked for
    make_resident_id(birth, region="420106")            # another county (default 420102)
    make_credit_code()                                  # 统一社会信用代码; make_credit_code(7): always the same

Rows, with factory_boy (keyword arguments set any field):

    office = OfficeFactory(code="420102")                # get-or-create by code
    employer = EmployerFactory(office=office, is_vip=True)
    operator = OperatorFactory(employer=employer)        # User + Membership (单位管理员)
    clerk = ClerkFactory(office=office)
    admin = AdminFactory()
    UserFactory(username="op1", role=Role.OPERATOR)      # a user acting for no employer
    MembershipFactory(user=clerk, employer=employer)
    person = PersonFactory(birth_date=dt.date(1990, 5, 1), sex="2")   # its ID number fits both
    ContributionBaseFactory(person=person, employer=employer, year=2026)
    tx = TransactionFactory(employer=employer, operator=operator, rows=[data, ...])
    ItemFactory(transaction=tx, row_no=4, status=ItemStatus.IMPORT_FAILED, data=data)
    seed_params([2025, 2026])                            # base limits, rates, injury rates, retirement

``rows=`` makes one imported item per row (row_no from 1) and, unless given, mode (batch for
more than one row) and total_count; a transaction's serial is the engine's (date and id)
unless given.

Users get the password DEFAULT_PASSWORD (hashed with Argon2 once per session, then reused,
so creating users stays fast) and must_change_password=False; pass must_change_password=True
to test the forced change.

Unique values. Made-up employer numbers, credit codes, office codes, usernames and ID numbers
are never equal within a test, however many it makes: an identifier asked for without
``serial`` is one the test has not had yet (running out, after 500 ID numbers of one birth date,
sex and region, is an error, never a repeat). The counters start again before every test
(``tests/conftest.py``), so what a test gets does not depend on which tests ran before it in
the same process, as it would under xdist; each xdist worker has its own test database.
Values a test names itself (``number="100001"``, ``username="op_a"``, ``serial=1``) are its
own: the generated ones stay clear of the ones the suites name (employer numbers from
20000001, office codes 43xxxx, ID serials counted down from 499).
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from decimal import Decimal

import factory
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from shebao.accounts.models import Membership, Role, User
from shebao.core.identity import USCC_CHARS, check_uscc, id_check_char, id_key
from shebao.core.months import current_month
from shebao.employers.models import Employer, MaterialsChecklist, Office
from shebao.params.models import BaseLimit, InjuryRate, Rate, RetirementRule
from shebao.register.models import ContributionBase, Person
from shebao.workflow.models import Item, Mode, State, Transaction
from shebao.workflow.services import make_serial

DEFAULT_PASSWORD = "Test#Pass2026x"


@functools.cache
def default_password_hash() -> str:
    return make_password(DEFAULT_PASSWORD)


# --- serials ---------------------------------------------------------------------------------


class _Serials:
    """The serials handed out in the current test, per kind of identifier."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._taken: dict[tuple, set[int]] = {}
        self._next: dict[tuple, int] = {}

    def reset(self) -> None:
        with self._lock:
            self._taken.clear()
            self._next.clear()

    def take(self, kind: tuple, serial: int | None, size: int) -> int:
        """`serial` itself (0 ≤ serial < size), or when None the highest one not taken yet."""
        with self._lock:
            taken = self._taken.setdefault(kind, set())
            if serial is None:
                serial = self._next.get(kind, size - 1)
                while serial in taken:
                    serial -= 1
                if serial < 0:
                    raise ValueError(f"all {size} serials of {kind} are taken in this test; vary the other arguments")
                self._next[kind] = serial - 1
            elif not 0 <= serial < size:
                raise ValueError(f"serial {serial} is outside 0–{size - 1}")
            taken.add(serial)
            return serial


_serials = _Serials()


def make_resident_id(
    birth: dt.date = dt.date(1990, 1, 1), sex: str = "1", serial: int | None = None, *, region: str = "420102"
) -> str:
    """An 18-character 居民身份证 number: `region` (6 digits), `birth`, a sequence code whose last
    digit is odd for men (sex "1") and even for women ("2"), and the GB 11643 check character.

    `serial` (0–499) picks one of the 500 numbers of that region, birth date and sex: the same
    serial always gives the same number. Without it, a number not yet made in this test.
    """
    if sex not in ("1", "2"):
        raise ValueError(f"sex is '1' or '2', not {sex!r}")
    if not (len(region) == 6 and region.isdigit()):
        raise ValueError(f"region is six digits, not {region!r}")
    serial = _serials.take(("resident_id", region, birth, sex), serial, 500)
    first17 = f"{region}{birth:%Y%m%d}{serial * 2 + (1 if sex == '1' else 0):03d}"
    return first17 + id_check_char(first17)


def make_credit_code(serial: int | None = None, division: str = "420102") -> str:
    """A 统一社会信用代码 (GB 32100) of a company registered in `division` (6 digits).

    `serial` (0–99999) gives the same code each time; without it, a code not yet made in this test.
    The check character is the one ``check_uscc`` accepts.
    """
    serial = _serials.take(("credit_code", division), serial, 100_000)
    body = f"91{division}MA7T{serial:05d}"
    for check in USCC_CHARS:
        if check_uscc(body + check, authorities=body[0])[1] is None:
            return body + check
    raise ValueError(f"no 统一社会信用代码 starts with {body!r}")


def reset_sequences() -> None:
    """Start every counter of this module afresh (tests/conftest.py does, before each test)."""
    _serials.reset()
    for factory_class in (
        OfficeFactory,
        EmployerFactory,
        UserFactory,
        MembershipFactory,
        MaterialsChecklistFactory,
        PersonFactory,
        ContributionBaseFactory,
        TransactionFactory,
        ItemFactory,
    ):
        factory_class.reset_sequence()


# --- offices, employers, users ---------------------------------------------------------------


class OfficeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Office
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"43{n:04d}")
    name = factory.Sequence(lambda n: f"测试区社会保险管理处{n}")
    address = "武汉市江岸区沿江大道188号"
    hours = "周一至周五 9:00-12:00 13:30-17:00"
    phone = "027-82700001"


class EmployerFactory(factory.django.DjangoModelFactory):
    """An employer of `office` (default: a new office); ordinary unless is_vip=True; no contact."""

    class Meta:
        model = Employer

    number = factory.Sequence(lambda n: f"{20000001 + n}")
    name = factory.Sequence(lambda n: f"武汉测试单位{n}有限公司")
    credit_code = factory.LazyFunction(make_credit_code)
    office = factory.SubFactory(OfficeFactory)
    risk_class = 1
    injury_float_percent = 100
    is_vip = False


class UserFactory(factory.django.DjangoModelFactory):
    """A user without a name (pages show the username) who need not change the password."""

    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    role = Role.OPERATOR
    must_change_password = False
    password = factory.LazyFunction(default_password_hash)


class OperatorFactory(UserFactory):
    """An employer operator; `employer=` (default: a new employer) gets a Membership, an
    administrator's unless employer__is_admin=False."""

    username = factory.Sequence(lambda n: f"operator{n}")
    role = Role.OPERATOR

    @factory.post_generation
    def employer(self, create, extracted, **kwargs):
        if not create:
            return
        employer = extracted or EmployerFactory()
        Membership.objects.get_or_create(
            user=self, employer=employer, defaults={"is_admin": kwargs.get("is_admin", True)}
        )


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    employer = factory.SubFactory(EmployerFactory)
    is_admin = False


class ClerkFactory(UserFactory):
    """A clerk of `office` (default: a new office)."""

    username = factory.Sequence(lambda n: f"clerk{n}")
    role = Role.CLERK
    office = factory.SubFactory(OfficeFactory)


class AdminFactory(UserFactory):
    username = factory.Sequence(lambda n: f"admin{n}")
    role = Role.ADMIN
    is_staff = True
    is_superuser = True


class MaterialsChecklistFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MaterialsChecklist

    office = None
    business_type = "enrol"
    items = "《企业参保人员增员表》（加盖单位公章）\n参保人员居民身份证复印件"


# --- the register ----------------------------------------------------------------------------

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平"


class PersonFactory(factory.django.DjangoModelFactory):
    """A person on the register with a valid 居民身份证 number (of their sex and birth date,
    unless id_number is given)."""

    class Meta:
        model = Person

    id_type = "01"
    sex = factory.Sequence(lambda n: "1" if n % 2 else "2")
    birth_date = factory.Sequence(lambda n: dt.date(1985 + n % 15, 1 + n % 12, 1 + n % 28))
    id_number = factory.LazyAttribute(lambda o: make_resident_id(o.birth_date, o.sex))
    id_key = factory.LazyAttribute(lambda o: id_key(o.id_type, o.id_number))
    name = factory.Sequence(
        lambda n: SURNAMES[n % len(SURNAMES)] + GIVEN[(n // len(SURNAMES)) % len(GIVEN)] + GIVEN[n % len(GIVEN)]
    )
    ethnicity = "汉族"
    hukou = "urban"
    identity = "worker"
    employment_form = "contract"
    first_work_date = factory.LazyAttribute(lambda o: dt.date(o.birth_date.year + 20, 7, 1))
    phone = factory.Sequence(lambda n: f"138{n % 100000000:08d}")
    address = "武汉市江岸区解放大道1号"


class ContributionBaseFactory(factory.django.DjangoModelFactory):
    """A person's contribution base at an employer for a year and insurance type (default:
    this year's 养老)."""

    class Meta:
        model = ContributionBase

    person = factory.SubFactory(PersonFactory)
    employer = factory.SubFactory(EmployerFactory)
    year = factory.LazyFunction(lambda: current_month().year)
    insurance_type = "pension"
    declared_wage = Decimal("6500")
    base = factory.LazyAttribute(lambda o: o.declared_wage)


# --- transactions ----------------------------------------------------------------------------


class TransactionFactory(factory.django.DjangoModelFactory):
    """A transaction built directly, as the engine leaves it: by default a saved enrolment of
    a new (ordinary) employer by one of its operators.

    rows=[data, ...] adds one imported item per row (row_no from 1, id_number and name from the
    row) and, unless given, makes the transaction a batch when there is more than one row and
    counts them in total_count. Without serial=, the engine's serial (date and id) is set.
    """

    class Meta:
        model = Transaction

    employer = factory.SubFactory(EmployerFactory)
    operator = factory.LazyAttribute(lambda o: OperatorFactory(employer=o.employer))
    business_type = "enrol"
    rows = ()
    mode = factory.LazyAttribute(lambda o: Mode.BATCH if len(o.rows) > 1 else Mode.SINGLE)
    state = State.SAVED
    total_count = factory.LazyAttribute(lambda o: len(o.rows))

    @classmethod
    def _create(cls, model_class, *args, rows=(), **kwargs):
        tx = super()._create(model_class, *args, **kwargs)
        if tx.serial is None:
            tx.serial = make_serial(tx)
            tx.save(update_fields=["serial"])
        Item.objects.bulk_create(
            [ItemFactory.build(transaction=tx, row_no=row_no, data=data) for row_no, data in enumerate(rows, start=1)]
        )
        return tx


class ItemFactory(factory.django.DjangoModelFactory):
    """One row of a transaction; id_number, name and id_key follow `data` unless given."""

    class Meta:
        model = Item

    transaction = factory.SubFactory(TransactionFactory)
    row_no = 1
    data = factory.LazyFunction(dict)
    id_number = factory.LazyAttribute(lambda o: o.data.get("id_number", ""))
    name = factory.LazyAttribute(lambda o: o.data.get("name", ""))
    id_key = factory.LazyAttribute(lambda o: id_key(o.data.get("id_type") or "01", o.id_number) if o.id_number else "")


# --- parameters ------------------------------------------------------------------------------


def seed_params(years: list[int] | None = None) -> None:
    """Base limits for `years` (default: 2024, 2025, last year and this year), rates, work-injury
    rates and retirement rules; only the rows missing are added."""
    years = years or sorted({2024, 2025, timezone.localdate().year, timezone.localdate().year - 1})
    types = ["pension", "medical", "unemployment", "injury", "maternity"]
    for year in years:
        for itype in types:
            BaseLimit.objects.get_or_create(
                year=year,
                insurance_type=itype,
                effective_from=dt.date(year, 1, 1),
                defaults={"average_wage": Decimal("7496"), "floor": Decimal("4498"), "ceiling": Decimal("22488")},
            )
    for itype, er, pr in [
        ("pension", "0.16", "0.08"),
        ("medical", "0.08", "0.02"),
        ("unemployment", "0.007", "0.003"),
        ("maternity", "0.007", "0"),
    ]:
        Rate.objects.get_or_create(
            insurance_type=itype,
            effective_from=dt.date(2019, 5, 1),
            defaults={"employer_rate": Decimal(er), "personal_rate": Decimal(pr)},
        )
    for cls, rate in enumerate(["0.002", "0.004", "0.007", "0.009", "0.011", "0.013", "0.016", "0.019"], start=1):
        InjuryRate.objects.get_or_create(
            risk_class=cls, effective_from=dt.date(2015, 10, 1), defaults={"rate": Decimal(rate)}
        )
    for cat, age, step, cap in [("male", 60, 4, 36), ("female_cadre", 55, 4, 36), ("female_worker", 50, 2, 60)]:
        RetirementRule.objects.get_or_create(
            category=cat,
            effective_from=dt.date(1951, 1, 1),
            defaults={
                "original_age_years": age,
                "reform_start": dt.date(2025, 1, 1),
                "step_months": step,
                "cap_months": cap,
            },
        )
