from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "edc.accounts"
    label = "accounts"
    verbose_name = _("Accounts")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Django's own login doors (admin login and logout, authenticate()) announce themselves
        # only through the auth signals; the receivers record them as account events.
        from edc.accounts import receivers  # noqa: F401
