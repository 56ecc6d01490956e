from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "edc.core"
    label = "core"
    verbose_name = "Access and audit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Connects the history plumbing (reason code on history rows).
        from edc.core import services  # noqa: F401
