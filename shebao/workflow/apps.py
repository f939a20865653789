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

        # Only in a worker of the long cluster (Q_CLUSTER_NAME selects it; see settings).
        if os.environ.get("Q_CLUSTER_NAME") == settings.Q_LONG and settings.SHEBAO_LONG_NICE:
            os.nice(settings.SHEBAO_LONG_NICE)
