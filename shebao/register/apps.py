from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegisterConfig(AppConfig):
    name = "shebao.register"
    label = "register"
    verbose_name = _("参保登记")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from shebao.params.models import BaseLimit

        post_save.connect(_limits_saved, sender=BaseLimit, dispatch_uid="register-rebase-on-limits")


def _limits_saved(sender, instance, raw=False, **kwargs) -> None:
    """A year's limits row saved (an administrator publishing a notice): the bases and lines of
    that year and type computed on other limits are re-based in the background."""
    if raw:  # loading a fixture
        return
    from shebao.register.rebase import publish_limits

    publish_limits(instance)
