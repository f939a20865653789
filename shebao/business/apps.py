from django.apps import AppConfig


class BusinessConfig(AppConfig):
    name = "shebao.business"
    label = "business"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Each module registers its business type with the workflow registry.
        from shebao.business import enrol, suspend  # noqa: F401
