from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SafetyConfig(AppConfig):
    name = "edc.safety"
    label = "safety"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Safety")
