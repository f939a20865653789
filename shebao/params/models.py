"""Parameter tables: data an administrator maintains, each row effective from a month."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from shebao.core.choices import InsuranceType
from shebao.core.models import TimeStampedModel


class EffectiveRow(TimeStampedModel):
    effective_from = models.DateField(_("生效年月"), help_text=_("取该月1日"))
    note = models.CharField(_("依据/备注"), max_length=200, blank=True)

    class Meta:
        abstract = True
        ordering = ["-effective_from"]

    def clean(self) -> None:
        if self.effective_from and self.effective_from.day != 1:
            raise ValidationError({"effective_from": _("生效年月须为某月1日。")})


class BaseLimit(EffectiveRow):
    """Contribution base floor and ceiling, as published (never computed)."""

    year = models.PositiveSmallIntegerField(_("年度"))
    insurance_type = models.CharField(_("险种"), max_length=20, choices=InsuranceType.choices)
    average_wage = models.DecimalField(_("社会平均工资(元/月)"), max_digits=12, decimal_places=2)
    floor = models.DecimalField(_("缴费基数下限"), max_digits=12, decimal_places=2)
    ceiling = models.DecimalField(_("缴费基数上限"), max_digits=12, decimal_places=2)

    class Meta(EffectiveRow.Meta):
        verbose_name = _("缴费基数上下限")
        verbose_name_plural = _("缴费基数上下限")
        constraints = [
            models.UniqueConstraint(fields=["year", "insurance_type", "effective_from"], name="baselimit_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.get_insurance_type_display()} {self.floor}-{self.ceiling}"


class Rate(EffectiveRow):
    """Employer and personal rates of one insurance type (work injury: see InjuryRate)."""

    insurance_type = models.CharField(_("险种"), max_length=20, choices=InsuranceType.choices)
    employer_rate = models.DecimalField(_("单位费率"), max_digits=7, decimal_places=5, help_text=_("如 0.16 表示 16%"))
    personal_rate = models.DecimalField(_("个人费率"), max_digits=7, decimal_places=5)
    illustrative = models.BooleanField(_("示例数据"), default=False)

    class Meta(EffectiveRow.Meta):
        verbose_name = _("费率")
        verbose_name_plural = _("费率")
        constraints = [models.UniqueConstraint(fields=["insurance_type", "effective_from"], name="rate_uniq")]

    def __str__(self) -> str:
        return f"{self.get_insurance_type_display()} {self.employer_rate}/{self.personal_rate}"


class InjuryRate(EffectiveRow):
    """Work-injury base rate per industry risk class; the employer's float grade multiplies it."""

    risk_class = models.PositiveSmallIntegerField(_("行业风险类别"), choices=[(i, str(i)) for i in range(1, 9)])
    rate = models.DecimalField(_("基准费率"), max_digits=7, decimal_places=5)

    class Meta(EffectiveRow.Meta):
        verbose_name = _("工伤保险基准费率")
        verbose_name_plural = _("工伤保险基准费率")
        constraints = [models.UniqueConstraint(fields=["risk_class", "effective_from"], name="injuryrate_uniq")]

    def __str__(self) -> str:
        return f"{self.risk_class}: {self.rate}"


class RetirementCategory(models.TextChoices):
    MALE = "male", _("男职工")
    FEMALE_CADRE = "female_cadre", _("女干部")
    FEMALE_WORKER = "female_worker", _("女工人")


class RetirementRule(EffectiveRow):
    """Statutory retirement age: the original age, and the gradual delay of a reform.

    With k = months from reform_start to the original retirement month,
    delay = min(cap_months, k // step_months + 1) for k >= 0.
    """

    category = models.CharField(_("人员类别"), max_length=20, choices=RetirementCategory.choices)
    original_age_years = models.PositiveSmallIntegerField(_("原法定退休年龄"))
    reform_start = models.DateField(_("延迟退休起始月"), null=True, blank=True)
    step_months = models.PositiveSmallIntegerField(_("每几个月延迟1个月"), default=4)
    cap_months = models.PositiveSmallIntegerField(_("最多延迟月数"), default=0)

    class Meta(EffectiveRow.Meta):
        verbose_name = _("法定退休年龄规则")
        verbose_name_plural = _("法定退休年龄规则")
        constraints = [models.UniqueConstraint(fields=["category", "effective_from"], name="retirement_uniq")]

    def __str__(self) -> str:
        return f"{self.get_category_display()} {self.original_age_years}"


class SettingKey(models.TextChoices):
    WINDOW_FIRST_DAY = "window_first_day", _("每月受理起始日")
    WINDOW_LAST_DAY = "window_last_day", _("每月受理截止日")
    BACKDATE_MONTHS = "backdate_months", _("无需追溯补缴可回溯的月数")
    REVIEW_BACKPAY_MONTHS = "review_backpay_months", _("补缴超过该月数须人工审核")
    SURCHARGE_DAILY_RATE = "surcharge_daily_rate", _("滞纳金日费率")
    DRAFT_EXPIRY_DAYS = "draft_expiry_days", _("草稿自动退单天数")
    MIN_WORK_AGE = "min_work_age", _("最低参保年龄")
    WAGE_OUT_OF_RANGE_IS_ERROR = "wage_out_of_range_is_error", _("申报工资超出上下限视为错误(1/0)")
    BASE_FROM_MONTH = "base_from_month", _("年度基数起始月份")
    INJURY_BACKPAY_ALLOWED = "injury_backpay_allowed", _("允许追溯补缴工伤保险(1/0)")
    REFUND_NEGATIVE_ADJUSTMENT = "refund_negative_adjustment", _("补差为负数时退还(1/0，0 为不退)")
    MINIMUM_WAGE_IS_ERROR = "minimum_wage_is_error", _("申报工资低于最低工资标准视为错误(1/0)")
    MEDICAL_MIN_YEARS_MALE = "medical_min_years_male", _("退休人员医疗保险最低缴费年限(男)")
    MEDICAL_MIN_YEARS_FEMALE = "medical_min_years_female", _("退休人员医疗保险最低缴费年限(女)")
    TRANSITION_COEFFICIENT = "transition_coefficient", _("过渡性养老金计发系数(如 0.013 表示 1.3%)")
    DEEMED_INDEX = "deemed_index", _("视同缴费指数")


SETTING_DEFAULTS: dict[str, Decimal] = {
    SettingKey.WINDOW_FIRST_DAY: Decimal(1),
    SettingKey.WINDOW_LAST_DAY: Decimal(31),
    SettingKey.BACKDATE_MONTHS: Decimal(3),
    SettingKey.REVIEW_BACKPAY_MONTHS: Decimal(6),
    SettingKey.SURCHARGE_DAILY_RATE: Decimal("0.0005"),
    SettingKey.DRAFT_EXPIRY_DAYS: Decimal(30),
    SettingKey.MIN_WORK_AGE: Decimal(16),
    SettingKey.WAGE_OUT_OF_RANGE_IS_ERROR: Decimal(0),
    SettingKey.BASE_FROM_MONTH: Decimal(1),
    SettingKey.INJURY_BACKPAY_ALLOWED: Decimal(0),
    SettingKey.REFUND_NEGATIVE_ADJUSTMENT: Decimal(0),
    SettingKey.MINIMUM_WAGE_IS_ERROR: Decimal(0),
    SettingKey.MEDICAL_MIN_YEARS_MALE: Decimal(30),
    SettingKey.MEDICAL_MIN_YEARS_FEMALE: Decimal(25),
    SettingKey.TRANSITION_COEFFICIENT: Decimal("0.013"),
    SettingKey.DEEMED_INDEX: Decimal(1),
}


class Setting(EffectiveRow):
    key = models.CharField(_("参数"), max_length=40, choices=SettingKey.choices)
    value = models.DecimalField(_("取值"), max_digits=12, decimal_places=5)

    class Meta(EffectiveRow.Meta):
        verbose_name = _("业务参数")
        verbose_name_plural = _("业务参数")
        constraints = [models.UniqueConstraint(fields=["key", "effective_from"], name="setting_uniq")]

    def __str__(self) -> str:
        return f"{self.get_key_display()} = {self.value}"


class MinimumWage(EffectiveRow):
    """The province's minimum monthly wage (最低工资标准) of an area tier, from a month."""

    tier = models.PositiveSmallIntegerField(_("地区档次"), choices=[(i, str(i)) for i in range(1, 5)])
    monthly = models.DecimalField(_("月最低工资标准(元)"), max_digits=10, decimal_places=2)

    class Meta(EffectiveRow.Meta):
        verbose_name = _("最低工资标准")
        verbose_name_plural = _("最低工资标准")
        constraints = [models.UniqueConstraint(fields=["tier", "effective_from"], name="minimumwage_uniq")]

    def __str__(self) -> str:
        return f"{self.tier} {self.monthly}"


class DeclarationWindow(TimeStampedModel):
    """The days of a year within which 个人工资年度申报 of that 申报年度 is accepted."""

    year = models.PositiveSmallIntegerField(_("申报年度"), unique=True)
    opens = models.DateField(_("受理开始日期"))
    closes = models.DateField(_("受理截止日期"))
    note = models.CharField(_("依据/备注"), max_length=200, blank=True)

    class Meta:
        ordering = ["-year"]
        verbose_name = _("年度工资申报受理期")
        verbose_name_plural = _("年度工资申报受理期")

    def clean(self) -> None:
        if self.opens and self.closes and self.opens > self.closes:
            raise ValidationError({"closes": _("受理截止日期不能早于开始日期。")})

    def __str__(self) -> str:
        return f"{self.year}: {self.opens} – {self.closes}"


class MinimumContribution(TimeStampedModel):
    """The minimum contribution months for a basic pension, by year of retirement: a year
    without a row takes the latest year before it (the earliest row before the first)."""

    year = models.PositiveSmallIntegerField(_("退休年度"), unique=True)
    months = models.PositiveSmallIntegerField(_("最低缴费月数"))
    note = models.CharField(_("依据/备注"), max_length=200, blank=True)

    class Meta:
        ordering = ["-year"]
        verbose_name = _("最低缴费年限")
        verbose_name_plural = _("最低缴费年限")

    def __str__(self) -> str:
        return f"{self.year}: {self.months}"


class PensionBase(TimeStampedModel):
    """计发基数: the province's average wage the pension of a year's retirees is computed on.
    Until a year's is published, the latest earlier year's applies (the estimate says so)."""

    year = models.PositiveSmallIntegerField(_("退休年度"), unique=True)
    amount = models.DecimalField(_("计发基数(元/月)"), max_digits=12, decimal_places=2)
    illustrative = models.BooleanField(_("示例数据"), default=False)
    note = models.CharField(_("依据/备注"), max_length=200, blank=True)

    class Meta:
        ordering = ["-year"]
        verbose_name = _("养老金计发基数")
        verbose_name_plural = _("养老金计发基数")

    def __str__(self) -> str:
        return f"{self.year}: {self.amount}"


class PayoutMonths(TimeStampedModel):
    """计发月数 of the personal account pension, by age at retirement in completed years
    (国发〔2005〕38号): an age outside the table takes its nearest end."""

    age = models.PositiveSmallIntegerField(_("退休年龄(周岁)"), unique=True)
    months = models.PositiveSmallIntegerField(_("计发月数"))
    note = models.CharField(_("依据/备注"), max_length=200, blank=True)

    class Meta:
        ordering = ["age"]
        verbose_name = _("个人账户养老金计发月数")
        verbose_name_plural = _("个人账户养老金计发月数")

    def __str__(self) -> str:
        return f"{self.age}: {self.months}"


class AccountInterest(TimeStampedModel):
    """The personal account's interest rate (记账利率) of a year. A year without a row takes
    the nearest published year's (an earlier one first); the estimate names such years."""

    year = models.PositiveSmallIntegerField(_("年度"), unique=True)
    rate = models.DecimalField(_("记账利率"), max_digits=7, decimal_places=5, help_text=_("如 0.0262 表示 2.62%"))
    note = models.CharField(_("依据/备注"), max_length=200, blank=True)

    class Meta:
        ordering = ["-year"]
        verbose_name = _("个人账户记账利率")
        verbose_name_plural = _("个人账户记账利率")

    def __str__(self) -> str:
        return f"{self.year}: {self.rate}"


def first_of_month(value: dt.date) -> dt.date:
    return value.replace(day=1)


class ReaderSettings(TimeStampedModel):
    """读卡器设置: the ID card reader service on the operator's PC (one row; params.reader reads
    it, with the SHEBAO_READER_* settings for what is blank or when there is no row)."""

    origin = models.CharField(
        _("读卡器服务地址"),
        max_length=200,
        blank=True,
        help_text=_("如 http://127.0.0.1:19196（协议、主机和端口，不含路径）；留空使用默认值"),
    )
    open_path = models.CharField(_("打开设备路径"), max_length=100, blank=True, help_text=_("如 /OpenDevice"))
    read_path = models.CharField(_("读卡路径"), max_length=100, blank=True, help_text=_("如 /readcard"))
    close_path = models.CharField(_("关闭设备路径"), max_length=100, blank=True, help_text=_("如 /CloseDevice"))
    field_names = models.JSONField(
        _("返回字段名"),
        default=dict,
        blank=True,
        help_text=_('与默认名称不同的字段，如 {"name": "xm", "number": "sfzh"}；留空使用默认名称'),
    )

    class Meta:
        verbose_name = _("读卡器设置")
        verbose_name_plural = _("读卡器设置")

    def __str__(self) -> str:
        return str(_("读卡器设置"))


class ParamsVersion(models.Model):
    """One row whose token the database changes with every write to a parameter table.

    ParamSnapshot.load() asks only this row whether the parameters changed since a process
    read them. Triggers (migration 0011) set a new random token after every INSERT, UPDATE,
    DELETE (and TRUNCATE on PostgreSQL) of every table the snapshot reads, whatever wrote it
    (a form, the admin, queryset.update(), bulk_create, raw SQL, a seed). A random token,
    not a counter: a write that is rolled back restores the token before it, and a later
    write never repeats a token a process may have cached inside the rolled-back transaction.
    A parameter table added later needs the same triggers (tests/test_params_snapshot.py
    writes every table of this app and checks the token moved).
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    token = models.CharField(max_length=32)

    class Meta:
        verbose_name = _("参数版本")
        verbose_name_plural = _("参数版本")

    def __str__(self) -> str:
        return self.token
