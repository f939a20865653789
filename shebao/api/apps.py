from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "shebao.api"
    label = "api"
    verbose_name = _("接口（API）")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from shebao.api import webhooks
        from shebao.workflow import outbox

        # The engine queues the webhooks' fan-out with the outbox rows they tell of.
        outbox.listen(
            outbox.Listener(frozenset(webhooks.EVENT_TYPES), webhooks.employer_listens, webhooks.FAN_OUT_TASK)
        )
