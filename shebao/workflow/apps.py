from django.apps import AppConfig


class WorkflowConfig(AppConfig):
    name = "shebao.workflow"
    label = "workflow"
    default_auto_field = "django.db.models.BigAutoField"
