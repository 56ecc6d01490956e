from django.apps import AppConfig


class DataManagementConfig(AppConfig):
    name = "edc.datamanagement"
    label = "datamanagement"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Data management"
