from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "shebao.core"
    label = "core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers <id:…> before any URLconf is loaded (the URLconf is read at the first
        # request or reverse(), after every app is ready), and the integer `__in` lookup.
        from shebao.core import converters, lookups  # noqa: F401
