from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StudiesConfig(AppConfig):
    name = "studies"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Trial definitions")

    def ready(self) -> None:
        # Registers the definition consistency checks with `manage.py check`.
        from studies import checks  # noqa: F401
