from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsentConfig(AppConfig):
    name = "edc.consent"
    label = "consent"
    verbose_name = _("Informed consent")
    default_auto_field = "django.db.models.BigAutoField"
