import importlib
import pkgutil

from django.apps import AppConfig


class BusinessConfig(AppConfig):
    name = "shebao.business"
    label = "business"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Every module of this package is imported: a business type module registers itself
        # with the workflow registry (@register), so adding a type is adding its module.
        assert self.module is not None, "an installed app has its module"
        for module in pkgutil.iter_modules(self.module.__path__):
            if not module.name.startswith("_") and module.name not in ("apps", "models", "migrations"):
                importlib.import_module(f"{self.name}.{module.name}")
