from django.apps import AppConfig


class SubjectsConfig(AppConfig):
    name = "edc.subjects"
    label = "subjects"
    default_auto_field = "django.db.models.BigAutoField"
