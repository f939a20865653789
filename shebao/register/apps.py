from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegisterConfig(AppConfig):
    name = "shebao.register"
    label = "register"
    verbose_name = _("参保登记")
    default_auto_field = "django.db.models.BigAutoField"
