from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowConfig(AppConfig):
    name = "shebao.workflow"
    label = "workflow"
    verbose_name = _("业务办理")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        import os

        from django.conf import settings

        # Only in a worker of the long or the outbox cluster (Q_CLUSTER_NAME selects it; see
        # settings): single audits keep the CPU they need.
        nice = {settings.Q_LONG: settings.SHEBAO_LONG_NICE, settings.Q_OUTBOX: settings.SHEBAO_OUTBOX_NICE}
        value = nice.get(os.environ.get("Q_CLUSTER_NAME", ""))
        if value:
            os.nice(value)
