"""factory_boy factories for the tests. Every generated identifier is valid and unique.

    office = OfficeFactory()
    employer = EmployerFactory(office=office, is_vip=True)   # valid 统一社会信用代码
    operator = OperatorFactory(employer=employer)            # User + Membership (单位管理员)
    clerk = ClerkFactory(office=office)
    admin = AdminFactory()
    person = PersonFactory(birth_date=dt.date(1990, 5, 1), sex="2")  # valid 18-digit ID

Users get the password DEFAULT_PASSWORD (hashed with Argon2 once per session, then reused,
so creating users stays fast) and must_change_password=False; pass must_change_password=True
to test the forced change.
"""

from __future__ import annotations

import datetime as dt
import functools

import factory
from django.contrib.auth.hashers import make_password

from shebao.accounts.models import Membership, Role, User
from shebao.core.identity import ID_CHECK, ID_WEIGHTS, USCC_CHARS, USCC_WEIGHTS, id_key
from shebao.employers.models import Employer, MaterialsChecklist, Office
from shebao.register.models import Person

DEFAULT_PASSWORD = "Test#Pass2026x"


@functools.cache
def default_password_hash() -> str:
    return make_password(DEFAULT_PASSWORD)


def make_credit_code(serial: int, division: str = "420102") -> str:
    """A 统一社会信用代码 with a correct GB 32100 check character."""
    body = f"91{division}MA7T{serial % 100000:05d}"
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(body, USCC_WEIGHTS, strict=True))
    return body + USCC_CHARS[(31 - total % 31) % 31]


def make_resident_id(birth: dt.date, sex: str, serial: int, area: str = "420102") -> str:
    """An 18-character 居民身份证 number with a correct GB 11643 check character.

    The 17th digit is odd for men ("1") and even for women ("2"). `serial` (0–499) makes it unique
    for one birth date.
    """
    order = (serial % 500) * 2 + (1 if sex == "1" else 0)  # 0..999 with the right parity
    first17 = f"{area}{birth:%Y%m%d}{order:03d}"
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return first17 + ID_CHECK[total % 11]


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
    class Meta:
        model = Employer

    number = factory.Sequence(lambda n: f"{20000001 + n}")
    name = factory.Sequence(lambda n: f"武汉测试单位{n}有限公司")
    credit_code = factory.Sequence(lambda n: make_credit_code(n + 1))
    office = factory.SubFactory(OfficeFactory)
    risk_class = 1
    injury_float_percent = 100
    is_vip = False
    contact_name = "张三"
    contact_phone = "027-88888888"
    address = "武汉市江岸区解放大道1号"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Sequence(lambda n: f"测试用户{n}")
    role = Role.OPERATOR
    must_change_password = False
    password = factory.LazyFunction(default_password_hash)


class OperatorFactory(UserFactory):
    """An employer operator; `employer=` (default: a new employer) gets a Membership."""

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


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平"


class PersonFactory(factory.django.DjangoModelFactory):
    """A person on the register with a valid 居民身份证 number (derived sex and birth date)."""

    class Meta:
        model = Person

    id_type = "01"
    sex = factory.Sequence(lambda n: "1" if n % 2 else "2")
    birth_date = factory.Sequence(lambda n: dt.date(1985 + n % 15, 1 + n % 12, 1 + n % 28))
    id_number = factory.LazyAttributeSequence(lambda o, n: make_resident_id(o.birth_date, o.sex, n))
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
