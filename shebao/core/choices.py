"""Code lists shared by the register and the business modules. Codes stored, labels shown."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class InsuranceType(models.TextChoices):
    PENSION = "pension", _("养老")
    MEDICAL = "medical", _("医疗")
    UNEMPLOYMENT = "unemployment", _("失业")
    INJURY = "injury", _("工伤")
    MATERNITY = "maternity", _("生育")


ALL_INSURANCE = [c.value for c in InsuranceType]


class IdType(models.TextChoices):
    RESIDENT = "01", _("居民身份证")
    HMT = "02", _("港澳台居民居住证")
    FOREIGN = "03", _("外国人永久居留身份证")


class Sex(models.TextChoices):
    MALE = "1", _("男")
    FEMALE = "2", _("女")


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


class YesNo(models.TextChoices):
    YES = "1", _("是")
    NO = "0", _("否")


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
