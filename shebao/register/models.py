"""The register: the system of record. Only a finished transaction changes it."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shebao.core.choices import IdType, InsuranceType, Sex
from shebao.core.models import TimeStampedModel
from shebao.core.months import format_month
from shebao.core.pinyin import MAX_LENGTH, name_sort_key
from shebao.employers.models import Employer
from shebao.register.choices import BenefitItem, EmploymentForm, Hukou, PersonIdentity, RetirementKind, SuspendReason


class Person(TimeStampedModel):
    id_type = models.CharField(_("证件类型"), max_length=2, choices=IdType.choices, default=IdType.RESIDENT)
    id_number = models.CharField(_("证件号码"), max_length=20)
    id_key = models.CharField(max_length=24, unique=True, editable=False)
    name = models.CharField(_("姓名"), max_length=50)
    # The name in pinyin order (shebao.core.pinyin), filled on save and by every bulk write.
    name_key = models.CharField(max_length=MAX_LENGTH, db_index=True, editable=False, default="")
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("出生日期"))
    ethnicity = models.CharField(_("民族"), max_length=20, blank=True)
    hukou = models.CharField(_("户口性质"), max_length=10, choices=Hukou.choices, blank=True)
    identity = models.CharField(_("个人身份"), max_length=10, choices=PersonIdentity.choices, blank=True)
    employment_form = models.CharField(_("用工形式"), max_length=20, choices=EmploymentForm.choices, blank=True)
    first_work_date = models.DateField(_("参加工作日期"), null=True, blank=True)
    phone = models.CharField(_("联系电话"), max_length=40, blank=True)
    address = models.CharField(_("联系地址"), max_length=200, blank=True)
    photo = models.BinaryField(_("照片"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("参保人")
        verbose_name_plural = _("参保人")

    def __str__(self) -> str:
        return f"{self.name} {self.id_number}"

    def save(self, *args, **kwargs) -> None:
        self.name_key = name_sort_key(self.name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "name_key"}
        super().save(*args, **kwargs)


class RelationStatus(models.TextChoices):
    CONTRIBUTING = "contributing", _("参保缴费")
    SUSPENDED = "suspended", _("暂停缴费")
    TERMINATED = "terminated", _("终止")


class Relation(TimeStampedModel):
    """One period of insurance of a person at an employer for one insurance type."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="relations", verbose_name=_("参保人"))
    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="relations", verbose_name=_("单位"))
    insurance_type = models.CharField(_("险种"), max_length=20, choices=InsuranceType.choices)
    status = models.CharField(_("参保状态"), max_length=20, choices=RelationStatus.choices)
    start_month = models.DateField(_("参保起始年月"))
    end_month = models.DateField(_("停保年月"), null=True, blank=True, help_text=_("第一个不缴费的月份"))
    end_reason = models.CharField(_("减员原因"), max_length=2, choices=SuspendReason.choices, blank=True)
    started_by = models.ForeignKey(
        "workflow.Transaction",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("参保业务"),
    )
    ended_by = models.ForeignKey(
        "workflow.Transaction",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("停保业务"),
    )

    class Meta:
        verbose_name = _("参保关系")
        verbose_name_plural = _("参保关系")
        indexes = [models.Index(fields=["employer", "status"]), models.Index(fields=["person", "status"])]
        constraints = [
            # Per insurance type a person contributes at one employer at a time; work injury
            # may run at several employers at once.
            models.UniqueConstraint(
                fields=["person", "insurance_type"],
                condition=Q(status="contributing") & ~Q(insurance_type="injury"),
                name="relation_one_contributing_per_type",
            ),
            models.UniqueConstraint(
                fields=["person", "employer", "insurance_type"],
                condition=Q(status="contributing"),
                name="relation_one_contributing_per_employer_type",
            ),
        ]


def parameter_row(model: str, label) -> models.ForeignKey:
    """A link to the parameter row a base or line was computed from. Written by the hundred
    thousand and read only when a year is re-based: no index and no database constraint (its
    check per row cost a third more per COPY of lines); deleting a row still used is refused
    by the ORM (PROTECT), as in the admin."""
    return models.ForeignKey(
        model,
        verbose_name=label,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )


class ContributionBase(TimeStampedModel):
    """One base per person, employer, year and insurance type (DOMAIN §3): the declared wage
    clamped to that year's floor and ceiling of that type (cities publish different limits for
    medical and pension), the declared wage kept beside it for a later re-base."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="bases", verbose_name=_("参保人"))
    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="bases", verbose_name=_("单位"))
    year = models.PositiveSmallIntegerField(_("年度"))
    insurance_type = models.CharField(_("险种"), max_length=20, choices=InsuranceType.choices)
    declared_wage = models.DecimalField(_("申报工资"), max_digits=12, decimal_places=2)
    base = models.DecimalField(_("缴费基数"), max_digits=12, decimal_places=2)
    transaction = models.ForeignKey(
        "workflow.Transaction", on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("业务")
    )
    # The base limits row the base was clamped to, and whether it is another year's, applied
    # until this year's limits are published (re-based then).
    limits = parameter_row("params.BaseLimit", _("缴费基数上下限"))
    provisional = models.BooleanField(_("暂按上年度标准"), default=False)
    # 沿用: the year's window closed without a declaration; the previous year's declared wage
    # was re-clamped to the year's limits.
    carried_over = models.BooleanField(_("沿用上年度申报工资"), default=False)

    class Meta:
        verbose_name = _("缴费基数")
        verbose_name_plural = _("缴费基数")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "employer", "year", "insurance_type"], name="base_person_employer_year_type_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"#{self.person_id} {self.year} {self.insurance_type} {self.base}"


class LineKind(models.TextChoices):
    REGULAR = "regular", _("正常应缴")
    BACKPAY = "backpay", _("追溯补缴")
    ADJUSTMENT = "adjustment", _("补差")


class RebaseCause(models.TextChoices):
    DECLARATION = "declaration", _("年度工资申报")
    LIMITS = "limits", _("公布缴费基数上下限")
    CARRY_OVER = "carry_over", _("沿用上年度申报工资")


class RebaseState(models.TextChoices):
    RUNNING = "running", _("处理中")
    FINISHED = "finished", _("已完成")
    FAILED = "failed", _("失败")


class Rebase(models.Model):
    """One re-base of a year (the one engine of DOMAIN §5a): a finished declaration's new bases,
    or an administrator publishing a year's limits that had been provisional. Its adjustment
    lines (补差) name it; the bases it re-clamped say which limits row they use now."""

    cause = models.CharField(_("原因"), max_length=20, choices=RebaseCause.choices)
    year = models.PositiveSmallIntegerField(_("年度"))
    from_month = models.DateField(_("起始月份"))
    transaction = models.ForeignKey(
        "workflow.Transaction", on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("业务")
    )
    limits = parameter_row("params.BaseLimit", _("缴费基数上下限"))
    state = models.CharField(_("状态"), max_length=10, choices=RebaseState.choices, default=RebaseState.RUNNING)
    total = models.PositiveIntegerField(_("待处理"), default=0)
    done = models.PositiveIntegerField(_("已处理"), default=0)
    bases_changed = models.PositiveIntegerField(_("重新核定的基数"), default=0)
    lines_written = models.PositiveIntegerField(_("补差明细"), default=0)
    created_at = models.DateTimeField(_("开始时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    error = models.TextField(_("错误"), blank=True)

    class Meta:
        verbose_name = _("基数重新核定")
        verbose_name_plural = _("基数重新核定")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_cause_display()} {self.year} #{self.pk}"


class ContributionLine(models.Model):
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="lines", verbose_name=_("参保人"))
    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="lines", verbose_name=_("单位"))
    month = models.DateField(_("费款所属期"))
    insurance_type = models.CharField(_("险种"), max_length=20, choices=InsuranceType.choices)
    kind = models.CharField(_("类别"), max_length=10, choices=LineKind.choices, default=LineKind.REGULAR)
    base = models.DecimalField(_("缴费基数"), max_digits=12, decimal_places=2)
    employer_amount = models.DecimalField(_("单位应缴"), max_digits=12, decimal_places=2)
    personal_amount = models.DecimalField(_("个人应缴"), max_digits=12, decimal_places=2)
    # The transaction and the re-base that wrote the line are the same for every line of a
    # statement that writes millions (a declaration's 补差): no database constraint, whose
    # check per row cost the commit a quarter of the re-base; deleting a transaction or a
    # re-base still named is refused by the ORM (PROTECT), and neither is ever deleted.
    transaction = models.ForeignKey(
        "workflow.Transaction",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("业务"),
        db_constraint=False,
    )
    # The parameter rows the line was computed from (rate: a Rate, or an InjuryRate for work
    # injury), and whether its limits are another year's, applied until the month's year has
    # limits of its own (re-based then).
    limits = parameter_row("params.BaseLimit", _("缴费基数上下限"))
    rate = parameter_row("params.Rate", _("费率"))
    injury_rate = parameter_row("params.InjuryRate", _("工伤保险基准费率"))
    provisional = models.BooleanField(_("暂按上年度标准"), default=False)
    # An adjustment (补差) names the re-base that wrote it (and, for a declaration, its transaction).
    rebase = models.ForeignKey(
        Rebase,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="lines",
        verbose_name=_("基数重新核定"),
        db_constraint=False,
    )
    # A line that no longer applies (e.g. a backdated suspension) is voided, never deleted.
    voided_by = models.ForeignKey(
        "workflow.Transaction",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("作废业务"),
    )

    class Meta:
        verbose_name = _("应缴明细")
        verbose_name_plural = _("应缴明细")
        constraints = [
            # One charge per person, employer, month and type (a regular line or a back
            # payment), and at most one adjustment per re-base on top of it.
            models.UniqueConstraint(
                fields=["person", "employer", "month", "insurance_type"],
                condition=models.Q(voided_by__isnull=True) & ~models.Q(kind="adjustment"),
                name="line_person_employer_month_type_uniq",
            ),
            models.UniqueConstraint(
                fields=["person", "employer", "month", "insurance_type", "rebase"],
                condition=models.Q(kind="adjustment"),
                name="line_adjustment_per_rebase_uniq",
            ),
        ]
        indexes = [models.Index(fields=["person", "insurance_type", "month"])]

    def __str__(self) -> str:
        # Ids rather than names: a list of lines must not cost a query per line.
        voided = " voided" if self.voided_by_id else ""
        return f"#{self.person_id} {format_month(self.month)} {self.insurance_type} {self.kind}{voided}"


class AssessmentState(models.TextChoices):
    RUNNING = "running", _("核定中")
    FINISHED = "finished", _("已完成")
    FAILED = "failed", _("失败")


class AssessmentRun(models.Model):
    """月度缴费核定 of one month: the regular lines of every relation contributing in it.

    One row per month. The job works through the employers in id order and commits each chunk
    with its lines and ``last_employer_id``, so a run that stopped resumes where it was; lines go
    in with ON CONFLICT DO NOTHING, so running a month again (or twice at once) adds nothing.
    """

    month = models.DateField(_("费款所属期"), unique=True)
    state = models.CharField(_("状态"), max_length=10, choices=AssessmentState.choices, default=AssessmentState.RUNNING)
    employers_total = models.PositiveIntegerField(_("单位数"), default=0)
    employers_done = models.PositiveIntegerField(_("已核定单位数"), default=0)
    last_employer_id = models.BigIntegerField(default=0)
    lines_written = models.PositiveBigIntegerField(_("新增应缴明细"), default=0)
    # Relations contributing in the month for which no base or no parameter was found: no line,
    # counted here so that the administrator sees them.
    skipped = models.PositiveBigIntegerField(_("未能核定"), default=0)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(_("错误"), blank=True)

    class Meta:
        verbose_name = _("月度缴费核定")
        verbose_name_plural = _("月度缴费核定")
        ordering = ["-month"]

    def __str__(self) -> str:
        return format_month(self.month)

    @property
    def percent(self) -> int:
        if self.state == AssessmentState.FINISHED:
            return 100
        return min(99, self.employers_done * 100 // self.employers_total) if self.employers_total else 0


class Retiree(TimeStampedModel):
    """A person whose retirement an employer declared and a finished transaction approved: the
    pension starts the month after the retirement month. One per person."""

    person = models.OneToOneField(Person, on_delete=models.PROTECT, related_name="retiree", verbose_name=_("参保人"))
    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="retirees", verbose_name=_("单位"))
    transaction = models.ForeignKey(
        "workflow.Transaction", on_delete=models.PROTECT, related_name="+", verbose_name=_("申报业务")
    )
    kind = models.CharField(_("退休类别"), max_length=2, choices=RetirementKind.choices)
    retire_month = models.DateField(_("退休年月"))
    pension_start = models.DateField(_("待遇起始年月"))
    contribution_months = models.PositiveIntegerField(_("实际缴费月数"), default=0)
    deemed_months = models.PositiveIntegerField(_("视同缴费月数"), default=0)
    special_job_years = models.DecimalField(_("特殊工种年限"), max_digits=4, decimal_places=1, null=True, blank=True)
    bank = models.CharField(_("养老金发放银行"), max_length=60)
    account = models.CharField(_("银行账号"), max_length=40)
    phone = models.CharField(_("联系电话"), max_length=40, blank=True)
    # How the amounts were computed (计发基数, indices, account balance, 计发月数 …), as shown
    # on the estimate: the figures behind the benefit items.
    basis = models.JSONField(_("计算依据"), default=dict, blank=True)

    class Meta:
        verbose_name = _("退休人员")
        verbose_name_plural = _("退休人员")
        indexes = [models.Index(fields=["employer", "retire_month"])]

    def __str__(self) -> str:
        return f"#{self.person_id} {format_month(self.retire_month)}"


class RetireeBenefit(models.Model):
    """One monthly benefit item of a retiree (基础养老金, 个人账户养老金, 过渡性养老金)."""

    retiree = models.ForeignKey(Retiree, on_delete=models.PROTECT, related_name="benefits", verbose_name=_("退休人员"))
    item = models.CharField(_("待遇项目"), max_length=20, choices=BenefitItem.choices)
    monthly = models.DecimalField(_("月标准(元)"), max_digits=12, decimal_places=2)
    start_month = models.DateField(_("起始年月"))

    class Meta:
        verbose_name = _("退休待遇项目")
        verbose_name_plural = _("退休待遇项目")
        constraints = [models.UniqueConstraint(fields=["retiree", "item"], name="retiree_benefit_item_uniq")]

    def __str__(self) -> str:
        return f"{self.item} {self.monthly}"
