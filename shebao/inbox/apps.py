from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InboxConfig(AppConfig):
    name = "shebao.inbox"
    label = "inbox"
    verbose_name = _("消息中心")
    default_auto_field = "django.db.models.BigAutoField"
