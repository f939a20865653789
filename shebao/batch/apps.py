from django.apps import AppConfig


class BatchConfig(AppConfig):
    name = "shebao.batch"
    label = "batch"
    default_auto_field = "django.db.models.BigAutoField"
