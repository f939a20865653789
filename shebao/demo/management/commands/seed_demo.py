"""`manage.py seed_demo`: the demo data of README (idempotent; running it twice changes nothing).

Offices, materials checklists, employers, demo logins, illustrative base limits for the years
around 2025 (only 2025 is published), and a few hundred insured persons with relations,
contribution bases and contribution lines for the last twelve months. Persons are generated
deterministically (random.Random(seed)), so every run produces the same register.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.apps import apps as django_apps
from django.core.management.base import BaseCommand
from django.db import transaction

from shebao.accounts import lockout
from shebao.accounts.models import Membership, Role, User
from shebao.api import tokens
from shebao.api.models import ApiToken, Scope
from shebao.core import clock
from shebao.core.choices import ALL_INSURANCE
from shebao.core.identity import id_key
from shebao.core.months import add_months, month_range
from shebao.core.pinyin import name_sort_key
from shebao.demo import data
from shebao.employers.models import Employer, Office
from shebao.params.models import BaseLimit, DeclarationWindow, Rate
from shebao.params.services import ParamSnapshot
from shebao.register.choices import EmploymentForm, Hukou, PersonIdentity, SuspendReason
from shebao.register.contributions import base_for, compute_lines
from shebao.register.models import ContributionBase, ContributionLine, LineKind, Person, Relation, RelationStatus

ILLUSTRATIVE_LIMIT_NOTE = "示例数据：{year}年度基数尚未公布"
ILLUSTRATIVE_PAST_NOTE = "示例数据：按2025年度基数复制，非{year}年度公布值"
FIRST_DEMO_YEAR = 2023

# Persons per employer number who reach their statutory retirement month around now (for
# 退休人员待遇申报), with a contribution history long enough for the minimum months.
RETIRING = {"10000001": 4, "10000002": 4}
RETIRING_HISTORY_MONTHS = 200

# Persons per employer number, and how many of them are suspended (for 续保).
HEADCOUNT = {"10000001": 200, "10000002": 130, "10000003": 24}
SUSPENDED = {"10000001": 8, "10000002": 6, "10000003": 2}


def seed_published_parameters() -> None:
    """Re-apply params migrations 0002, 0007 and 0009 (idempotent), e.g. after a test flushed the tables."""
    import importlib

    importlib.import_module("shebao.params.migrations.0002_seed_published_parameters").seed_published(django_apps)
    importlib.import_module("shebao.params.migrations.0007_seed_minimum_wages").seed_minimum_wages(django_apps)
    importlib.import_module("shebao.params.migrations.0009_seed_retirement_parameters").seed_retirement_parameters(
        django_apps
    )


DEMO_WINDOW_NOTE = "示例数据：演示环境全年受理，便于随时试用"


def seed_demo_window(year: int) -> bool:
    """Open the year's 个人工资年度申报 all year (demo only), unless a window is set already."""
    _window, created = DeclarationWindow.objects.get_or_create(
        year=year, defaults={"opens": dt.date(year, 1, 1), "closes": dt.date(year, 12, 31), "note": DEMO_WINDOW_NOTE}
    )
    return created


PAST_RATES_FROM = dt.date(2006, 1, 1)
PAST_RATES = {"pension": (Decimal("0.19"), Decimal("0.08")), "medical": (Decimal("0.08"), Decimal("0.02"))}
PAST_RATES_NOTE = "示例数据：2019年5月降费前的费率，仅供演示较长的缴费历史"


def seed_illustrative_past_rates() -> int:
    """Pension and medical rates before the published ones (2019-05), labelled as examples,
    so that the demo's persons near retirement can have a long history of lines."""
    created = 0
    for itype, (employer_rate, personal_rate) in PAST_RATES.items():
        _, new = Rate.objects.get_or_create(
            insurance_type=itype,
            effective_from=PAST_RATES_FROM,
            defaults={
                "employer_rate": employer_rate,
                "personal_rate": personal_rate,
                "illustrative": True,
                "note": PAST_RATES_NOTE,
            },
        )
        created += new
    return created


def seed_illustrative_limits(years: list[int]) -> int:
    """Copy the published 2025 limits into years that have no row, labelled as examples.

    A year or insurance type that already has a row (published, or entered by an
    administrator) is never touched.
    """
    source = {row.insurance_type: row for row in BaseLimit.objects.filter(year=2025).order_by("effective_from")}
    created = 0
    for year in years:
        note = (ILLUSTRATIVE_LIMIT_NOTE if year > 2025 else ILLUSTRATIVE_PAST_NOTE).format(year=year)
        for itype, row in source.items():
            if BaseLimit.objects.filter(year=year, insurance_type=itype).exists():
                continue
            BaseLimit.objects.create(
                year=year,
                insurance_type=itype,
                effective_from=dt.date(year, 1, 1),
                average_wage=row.average_wage,
                floor=row.floor,
                ceiling=row.ceiling,
                note=note,
            )
            created += 1
    return created


class Command(BaseCommand):
    help = "Create the demo offices, employers, logins and insured persons (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=data.DEMO_SEED, help="random seed of the demo register")
        parser.add_argument("--quiet-logins", action="store_true", help="do not print the logins table")

    def handle(self, *args, seed: int, quiet_logins: bool, **options):
        today = clock.today()
        with transaction.atomic():
            seed_published_parameters()
            limits = seed_illustrative_limits(list(range(FIRST_DEMO_YEAR, today.year + 1)))
            seed_demo_window(today.year)
            seed_illustrative_past_rates()
            offices = self.seed_offices()
            employers = self.seed_employers(offices)
            self.seed_logins(employers, offices)
            self.seed_api_token(employers)
        with transaction.atomic():
            persons = self.seed_register(employers, seed)
            persons += self.seed_retiring(employers, seed)
        self.stdout.write(
            f"seed_demo: {len(offices)} offices, {len(employers)} employers, "
            f"{len(data.LOGINS)} logins, {limits} new base-limit rows, {persons} new insured persons."
        )
        if not quiet_logins:
            self.stdout.write(data.logins_table())

    # --- reference data -------------------------------------------------------------------

    def seed_offices(self) -> dict[str, Office]:
        offices = {}
        for spec in data.OFFICES:
            office, _ = Office.objects.update_or_create(
                code=spec.code,
                defaults={"name": spec.name, "address": spec.address, "hours": spec.hours, "phone": spec.phone},
            )
            offices[spec.code] = office
        return offices

    def seed_employers(self, offices: dict[str, Office]) -> dict[str, Employer]:
        employers = {}
        for spec in data.EMPLOYERS:
            employer, _ = Employer.objects.update_or_create(
                number=spec.number,
                defaults={
                    "name": spec.name,
                    "office": offices[spec.office_code],
                    "is_vip": spec.is_vip,
                    "credit_code": data.credit_code(spec.office_code, spec.org_serial),
                    "risk_class": spec.risk_class,
                    "injury_float_percent": 100,
                    "contact_name": spec.contact_name,
                    "contact_phone": spec.contact_phone,
                    "address": spec.address,
                    "active": True,
                },
            )
            if not employer.bank_account:
                # Fictitious refund account and e-mail (示例数据), set once: a 单位信息变更 tried
                # in the demo is not undone by the next seed.
                employer.email = f"hr{spec.number}@example.com"
                employer.bank_name = "中国工商银行武汉江岸支行"
                employer.bank_account = f"320200{spec.number}{spec.org_serial:05d}"
                employer.account_name = spec.name
                employer.save(update_fields=["email", "bank_name", "bank_account", "account_name"])
            employers[spec.number] = employer
        return employers

    def seed_logins(self, employers: dict[str, Employer], offices: dict[str, Office]) -> None:
        for spec in data.LOGINS:
            user = User.objects.filter(username=spec.username).first() or User(username=spec.username)
            user.first_name = spec.full_name
            user.role = spec.role
            user.office = offices[spec.office_code] if spec.office_code else None
            user.is_staff = spec.role == Role.ADMIN
            user.is_superuser = spec.role == Role.ADMIN
            user.is_active = True
            # Demo users skip the forced first-login password change (README says so).
            user.must_change_password = False
            if not user.pk or not user.check_password(data.DEMO_PASSWORD):
                user.set_password(data.DEMO_PASSWORD)
            user.save()
            lockout.unlock([user.username])  # a demo login is never left locked
            if spec.employer_number:
                Membership.objects.update_or_create(
                    user=user, employer=employers[spec.employer_number], defaults={"is_admin": True, "active": True}
                )

    def seed_api_token(self, employers: dict[str, Employer]) -> None:
        """The demo employer's read-write API token (data.DEMO_API_TOKEN), active again if it
        was revoked in an earlier demo."""
        ApiToken.objects.update_or_create(
            digest=tokens.digest(data.DEMO_API_TOKEN),
            defaults={
                "employer": employers[data.DEMO_API_EMPLOYER],
                "name": "示例人事系统（演示令牌）",
                "scope": Scope.WRITE,
                "prefix": data.DEMO_API_TOKEN[:11],
                "created_by": User.objects.get(username=data.DEMO_API_ADMIN),
                "revoked_at": None,
                "revoked_by": None,
            },
        )

    # --- the register ---------------------------------------------------------------------

    def seed_register(self, employers: dict[str, Employer], seed: int) -> int:
        """Insured persons with relations, bases and the last twelve months of lines.

        Only persons not yet on the register are added, with their history; existing ones
        are left alone, so a second run adds nothing.
        """
        # Identities come from one generator and dates/wages from another, so that running
        # the command in a later month generates the same persons (and adds none).
        who = random.Random(seed)
        when = random.Random(seed + 1)
        params = ParamSnapshot.load()
        this_month = clock.current_month()
        first_line_month = add_months(this_month, -11)
        earliest_start = dt.date(FIRST_DEMO_YEAR, 1, 1)
        people = []  # (person kwargs, employer, start month, end month or None, wage)
        seen: set[str] = set()
        serial = 0
        for number, headcount in HEADCOUNT.items():
            employer = employers[number]
            suspended = SUSPENDED[number]
            for index in range(headcount):
                sex = who.choice("12")
                # Born 1980-2003: of working age and before the statutory retirement age in every case.
                birth = dt.date(who.randint(1980, 2003), who.randint(1, 12), who.randint(1, 28))
                number_ = ""
                while not number_ or number_ in seen:
                    serial += 1
                    number_ = data.resident_id(who.choice(data.AREAS), birth, serial, sex)
                seen.add(number_)
                start_span = max(1, (this_month.year - earliest_start.year) * 12 + this_month.month - 2)
                start = add_months(earliest_start, when.randrange(start_span))
                end = None
                if index < suspended:
                    end = add_months(this_month, -when.randint(1, 5))
                    if end <= start:
                        start = max(earliest_start, add_months(end, -when.randint(3, 24)))
                wage = Decimal(when.randrange(3000, 32000, 50))
                first_work = dt.date(birth.year + when.randint(18, 23), when.randint(1, 12), 1)
                kwargs: dict[str, Any] = {
                    "id_type": "01",
                    "id_number": number_,
                    "id_key": id_key("01", number_),
                    "name": data.person_name(who, sex),
                    "sex": sex,
                    "birth_date": birth,
                    "ethnicity": who.choice(data.ETHNICITIES),
                    "hukou": who.choice([Hukou.URBAN, Hukou.URBAN, Hukou.RURAL]).value,
                    "identity": who.choice([PersonIdentity.WORKER, PersonIdentity.WORKER, PersonIdentity.CADRE]).value,
                    "employment_form": when.choice(
                        [EmploymentForm.CONTRACT] * 6 + [EmploymentForm.DISPATCH, EmploymentForm.PART_TIME]
                    ).value,
                    "first_work_date": min(first_work, start),
                    "phone": data.phone(who),
                    "address": data.address(who),
                }
                people.append((kwargs, employer, start, end, wage))

        keys = [p[0]["id_key"] for p in people]
        existing = set(Person.objects.filter(id_key__in=keys).values_list("id_key", flat=True))
        todo = [p for p in people if p[0]["id_key"] not in existing]
        if not todo:
            return 0
        Person.objects.bulk_create(
            [Person(**kwargs, name_key=name_sort_key(kwargs["name"])) for kwargs, *_ in todo], batch_size=500
        )
        ids = dict(Person.objects.filter(id_key__in=[p[0]["id_key"] for p in todo]).values_list("id_key", "pk"))

        relations, bases, lines = [], [], []
        for kwargs, employer, start, end, wage in todo:
            person_id = ids[kwargs["id_key"]]
            status = RelationStatus.SUSPENDED if end else RelationStatus.CONTRIBUTING
            for itype in ALL_INSURANCE:
                relations.append(
                    Relation(
                        person_id=person_id,
                        employer=employer,
                        insurance_type=itype,
                        status=status,
                        start_month=start,
                        end_month=end,
                        end_reason=SuspendReason.RESIGN.value if end else "",
                    )
                )
            last_year = (end - dt.timedelta(days=1)).year if end else this_month.year
            for year in range(start.year, last_year + 1):
                for itype in ALL_INSURANCE:
                    limits = params.base_limits(year, itype)
                    if limits is not None:
                        bases.append(
                            ContributionBase(
                                person_id=person_id,
                                employer=employer,
                                year=year,
                                insurance_type=itype,
                                declared_wage=wage,
                                base=base_for(limits, wage),
                                limits_id=limits.row_id,
                                provisional=limits.provisional,
                            )
                        )
            months = month_range(max(start, first_line_month), end or add_months(this_month, 1))
            for line in compute_lines(
                params,
                months=months,
                insurance_types=ALL_INSURANCE,
                wage=wage,
                risk_class=employer.risk_class,
                float_percent=employer.injury_float_percent,
            ):
                lines.append(
                    ContributionLine(
                        person_id=person_id,
                        employer=employer,
                        month=line.month,
                        insurance_type=line.insurance_type,
                        kind=LineKind.REGULAR,
                        base=line.base,
                        employer_amount=line.employer_amount,
                        personal_amount=line.personal_amount,
                        limits_id=line.limits_id,
                        rate_id=line.rate_id,
                        injury_rate_id=line.injury_rate_id,
                        provisional=line.provisional,
                    )
                )
        Relation.objects.bulk_create(relations, batch_size=1000)
        ContributionBase.objects.bulk_create(bases, batch_size=1000, ignore_conflicts=True)
        ContributionLine.objects.bulk_create(lines, batch_size=2000, ignore_conflicts=True)
        return len(todo)

    def seed_retiring(self, employers: dict[str, Employer], seed: int) -> int:
        """Persons whose statutory retirement month is last month, this month or one of the
        next two (so they depend on the month the command runs in: a later month may add a
        few more), contributing here to every insurance for RETIRING_HISTORY_MONTHS months,
        with the lines of all of them: enough for the minimum contribution months and the
        pension estimate. Existing persons are left alone."""
        who = random.Random(seed + 2)
        params = ParamSnapshot.load()
        this_month = clock.current_month()
        added = 0
        serial = 900_000
        for number, count in RETIRING.items():
            employer = employers[number]
            for index in range(count):
                wanted = add_months(this_month, index % 4 - 1)
                sex = "1" if index % 2 == 0 else "2"
                identity = PersonIdentity.CADRE.value if sex == "2" else PersonIdentity.WORKER.value
                birth = _born_to_retire(params, sex, identity, wanted)
                if birth is None:
                    continue
                serial += 1
                number_ = data.resident_id(data.AREAS[index % len(data.AREAS)], birth, serial, sex)
                key = id_key("01", number_)
                if Person.objects.filter(id_key=key).exists():
                    continue
                name = data.person_name(who, sex)
                start = add_months(this_month, -RETIRING_HISTORY_MONTHS)
                person = Person.objects.create(
                    id_type="01",
                    id_number=number_,
                    id_key=key,
                    name=name,
                    name_key=name_sort_key(name),
                    sex=sex,
                    birth_date=birth,
                    ethnicity="汉族",
                    hukou=Hukou.URBAN.value,
                    identity=identity,
                    employment_form=EmploymentForm.CONTRACT.value,
                    first_work_date=dt.date(birth.year + 20, 7, 1),
                    phone=data.phone(who),
                    address=data.address(who),
                )
                wage = Decimal(who.randrange(5000, 16000, 100))
                Relation.objects.bulk_create(
                    Relation(
                        person=person,
                        employer=employer,
                        insurance_type=itype,
                        status=RelationStatus.CONTRIBUTING,
                        start_month=start,
                    )
                    for itype in ALL_INSURANCE
                )
                lines = compute_lines(
                    params,
                    months=month_range(start, add_months(this_month, 1)),
                    insurance_types=ALL_INSURANCE,
                    wage=wage,
                    risk_class=employer.risk_class,
                    float_percent=employer.injury_float_percent,
                )
                ContributionLine.objects.bulk_create(
                    [
                        ContributionLine(
                            person=person,
                            employer=employer,
                            month=line.month,
                            insurance_type=line.insurance_type,
                            kind=LineKind.REGULAR,
                            base=line.base,
                            employer_amount=line.employer_amount,
                            personal_amount=line.personal_amount,
                            limits_id=line.limits_id,
                            rate_id=line.rate_id,
                            injury_rate_id=line.injury_rate_id,
                            provisional=line.provisional,
                        )
                        for line in lines
                    ],
                    batch_size=2000,
                )
                added += 1
        return added


def _born_to_retire(params: ParamSnapshot, sex: str, identity: str, month: dt.date) -> dt.date | None:
    """A birth date (the 15th) whose statutory retirement month is `month`, if there is one."""
    for back in range(50 * 12, 66 * 12):
        birth = add_months(month, -back).replace(day=15)
        if params.retirement_month(sex=sex, identity=identity, birth_date=birth) == month:
            return birth
    return None
