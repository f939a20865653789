from django.apps import AppConfig


class WorkflowConfig(AppConfig):
    name = "shebao.workflow"
    label = "workflow"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        import os

        from django.conf import settings

        # Only in a worker of the long cluster (Q_CLUSTER_NAME selects it; see settings).
        if os.environ.get("Q_CLUSTER_NAME") == settings.Q_LONG and settings.SHEBAO_LONG_NICE:
            os.nice(settings.SHEBAO_LONG_NICE)
