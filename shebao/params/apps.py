from django.apps import AppConfig


class ParamsConfig(AppConfig):
    name = "shebao.params"
    label = "params"
    default_auto_field = "django.db.models.BigAutoField"
