from django.apps import AppConfig


class StudiesConfig(AppConfig):
    name = "studies"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the definition consistency checks with `manage.py check`.
        from studies import checks  # noqa: F401
