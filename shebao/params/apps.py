from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ParamsConfig(AppConfig):
    name = "shebao.params"
    label = "params"
    verbose_name = _("参数管理")
    default_auto_field = "django.db.models.BigAutoField"
