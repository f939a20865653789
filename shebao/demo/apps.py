from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo data and the demo commands (`manage.py seed_demo`, `manage.py rundemo`).

    Above every other app: it fills each of them.
    """

    name = "shebao.demo"
    label = "demo"
    default_auto_field = "django.db.models.BigAutoField"
