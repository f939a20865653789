"""The register's vocabulary: a person's attributes and why a relation ended. Codes stored,
labels shown."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Hukou(models.TextChoices):
    URBAN = "urban", _("城镇")
    RURAL = "rural", _("农村")


class PersonIdentity(models.TextChoices):
    CADRE = "cadre", _("干部")
    WORKER = "worker", _("工人")


class EmploymentForm(models.TextChoices):
    CONTRACT = "contract", _("劳动合同")
    DISPATCH = "dispatch", _("劳务派遣")
    PART_TIME = "part_time", _("非全日制")
    OTHER = "other", _("其他")


class SuspendReason(models.TextChoices):
    CONTRACT_END = "01", _("解除/终止劳动合同")
    RESIGN = "02", _("辞职")
    RETIRE = "03", _("退休")
    DEATH = "04", _("死亡")
    EMIGRATE = "05", _("出国(境)定居")
    DISMISS = "06", _("开除/除名")
    TRANSFER_OUT = "07", _("转出本市")
    ENLIST = "08", _("应征入伍")
    OTHER = "99", _("其他")


TERMINATING_REASONS = {SuspendReason.RETIRE.value, SuspendReason.DEATH.value}


class RetirementKind(models.TextChoices):
    NORMAL = "01", _("正常退休")
    FLEXIBLE_EARLY = "02", _("弹性提前退休")
    FLEXIBLE_DELAY = "03", _("弹性延迟退休")
    SPECIAL_JOB = "04", _("特殊工种提前退休")
    SICK = "05", _("病退")


class BenefitItem(models.TextChoices):
    BASIC = "basic", _("基础养老金")
    ACCOUNT = "account", _("个人账户养老金")
    TRANSITION = "transition", _("过渡性养老金")
