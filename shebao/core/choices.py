"""Code lists every layer uses (insurance types, identity documents, sex, yes/no). Codes stored,
labels shown. The register's own vocabulary is in shebao/register/choices.py."""

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


class YesNo(models.TextChoices):
    YES = "1", _("是")
    NO = "0", _("否")
