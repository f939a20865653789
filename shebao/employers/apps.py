from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EmployersConfig(AppConfig):
    name = "shebao.employers"
    label = "employers"
    verbose_name = _("经办机构与单位")
    default_auto_field = "django.db.models.BigAutoField"
