from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TumorsConfig(AppConfig):
    name = "edc.tumors"
    label = "tumors"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Tumour assessments")
