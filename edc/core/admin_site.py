"""The product's admin site: the data-entry screen for site staff."""

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User


class EdcAdminSite(admin.AdminSite):
    site_header = "Oncology EDC"
    site_title = "Oncology EDC"
    index_title = "Trials, subjects and data management"


site = EdcAdminSite(name="admin")
site.register(User, UserAdmin)
site.register(Group, GroupAdmin)
