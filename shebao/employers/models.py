from collections.abc import Callable

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from shebao.core.models import TimeStampedModel


class Office(TimeStampedModel):
    """A district office (社保处/经办机构): reviews its district's transactions."""

    code = models.CharField(_("机构编号"), max_length=20, unique=True)
    name = models.CharField(_("机构名称"), max_length=100)
    address = models.CharField(_("办公地址"), max_length=200)
    hours = models.CharField(_("办公时间"), max_length=200)
    phone = models.CharField(_("咨询电话"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("经办机构")
        verbose_name_plural = _("经办机构")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


# The name of a business type code in the reader's language: set by the engine's registry
# (shebao.backoffice.admin), as this app knows no business types.
business_type_label: Callable[[str], str] = str


class MaterialsChecklist(TimeStampedModel):
    """What an ordinary employer brings to the office for one business type."""

    office = models.ForeignKey(
        Office,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="checklists",
        verbose_name=_("经办机构"),
        help_text=_("留空表示所有经办机构通用"),
    )
    business_type = models.CharField(_("业务类型"), max_length=40)
    items = models.TextField(_("材料清单"), help_text=_("每行一项"))

    class Meta:
        verbose_name = _("材料清单")
        verbose_name_plural = _("材料清单")
        constraints = [
            models.UniqueConstraint(fields=["office", "business_type"], name="checklist_office_business_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.office or _('所有经办机构通用')} {business_type_label(self.business_type)}"

    def item_list(self) -> list[str]:
        return [line.strip() for line in self.items.splitlines() if line.strip()]


class Employer(TimeStampedModel):
    """The tenant: every employer-side query starts here."""

    number = models.CharField(_("单位编号"), max_length=20, unique=True)
    name = models.CharField(_("单位名称"), max_length=200)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="employers", verbose_name=_("经办机构"))
    risk_class = models.PositiveSmallIntegerField(
        _("工伤行业风险类别"), choices=[(i, str(i)) for i in range(1, 9)], default=1
    )
    wage_tier = models.PositiveSmallIntegerField(
        _("最低工资标准地区档次"), choices=[(i, str(i)) for i in range(1, 5)], default=1
    )
    injury_float_percent = models.PositiveSmallIntegerField(
        _("工伤费率浮动档次(%)"), choices=[(p, f"{p}%") for p in (50, 80, 100, 120, 150)], default=100
    )
    is_vip = models.BooleanField(_("VIP单位"), default=False)
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=40, blank=True)
    address = models.CharField(_("单位地址"), max_length=200, blank=True)
    email = models.CharField(_("电子邮箱"), max_length=100, blank=True)
    # Where refunds are paid: changed only through a clerk (单位信息变更).
    bank_name = models.CharField(_("开户银行"), max_length=100, blank=True)
    bank_account = models.CharField(_("银行账号"), max_length=40, blank=True)
    account_name = models.CharField(_("户名"), max_length=200, blank=True)
    active = models.BooleanField(_("有效"), default=True)

    # Set by accounts.scoping on the employer of an employer page, read in the same query as
    # the membership; absent on an employer loaded otherwise, whose version
    # workflow.tasklists.version_of reads from its TaskListStamp. Not a column.
    task_list_version: int

    class Meta:
        verbose_name = _("单位")
        verbose_name_plural = _("单位")
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"

    @property
    def kind_label(self) -> str:
        return str(_("VIP单位") if self.is_vip else _("普通单位"))


class EmployerChange(models.Model):
    """One changed detail of an employer: which field, the old and the new value, when, by
    which transaction (单位信息变更) and the operator who declared it. Written when the change
    takes effect, never edited."""

    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="changes", verbose_name=_("单位"))
    field = models.CharField(_("变更项目"), max_length=40)
    old_value = models.CharField(_("原值"), max_length=200, blank=True)
    new_value = models.CharField(_("新值"), max_length=200, blank=True)
    changed_at = models.DateTimeField(_("变更时间"))
    transaction = models.ForeignKey(
        "workflow.Transaction", on_delete=models.PROTECT, related_name="employer_changes", verbose_name=_("流水号")
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("经办人")
    )

    class Meta:
        verbose_name = _("单位信息变更记录")
        verbose_name_plural = _("单位信息变更记录")
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["employer", "-changed_at"], name="employer_change_when")]

    def __str__(self) -> str:
        return f"{self.employer_id} {self.field}"

    @property
    def field_label(self) -> str:
        field = next((f for f in Employer._meta.concrete_fields if f.name == self.field), None)
        return str(field.verbose_name) if field is not None else self.field


class TaskListStamp(models.Model):
    """One row per employer: the version of its task lists, under which 首页 caches them.

    Read with the employer on every employer page (shebao.accounts.scoping); bumped after every
    committed change of a transaction that a list row shows (shebao.workflow.tasklists).
    """

    employer = models.OneToOneField(
        Employer, on_delete=models.CASCADE, primary_key=True, related_name="task_list_stamp"
    )
    version = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("任务列表版本")
        verbose_name_plural = _("任务列表版本")

    def __str__(self) -> str:
        return f"{self.employer_id} v{self.version}"
