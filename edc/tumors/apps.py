from django.apps import AppConfig


class TumorsConfig(AppConfig):
    name = "edc.tumors"
    label = "tumors"
    default_auto_field = "django.db.models.BigAutoField"
