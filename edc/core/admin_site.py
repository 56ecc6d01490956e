"""The product's admin site: the data-entry screen for site staff."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.core.exceptions import BadRequest, PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


def _has_nul(request: HttpRequest) -> bool:
    if "\x00" in request.path:
        return True
    return any(
        "\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists()
    )


class EdcAdminSite(admin.AdminSite):
    site_header = _("Oncology EDC")
    site_title = _("Oncology EDC")
    index_title = _("Trials, subjects and data management")

    def autocomplete_view(self, request: HttpRequest) -> Any:
        return EdcAutocompleteJsonView.as_view(admin_site=self)(request)

    def admin_view(self, view: Any, cacheable: bool = False) -> Any:
        wrapped = super().admin_view(view, cacheable)

        def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            # A NUL in a filter, search or id reaches the database in the admin's own code paths
            # (PostgreSQL refuses it with an error): answer 400 before any of them runs.
            if _has_nul(request):
                raise BadRequest(gettext("A NUL character is not allowed in a URL or its parameters."))
            return wrapped(request, *args, **kwargs)

        inner.admin_site = self  # type: ignore[attr-defined]  # as AdminSite.admin_view marks its views
        return inner


class EdcAutocompleteJsonView(AutocompleteJsonView):
    """Each result also carries what the answering model admin's ``autocomplete_extra(obj)`` adds
    (the CTCAE term's grades, so the AE page lists only the picked term's grades)."""

    def serialize_result(self, obj: Any, to_field_name: str) -> dict[str, Any]:
        # Django's documented hook for extra result data (the stubs do not declare it).
        result = super().serialize_result(obj, to_field_name)  # type: ignore[misc]
        extra = getattr(self.model_admin, "autocomplete_extra", None)
        return {**extra(obj), **result} if extra is not None else result


site = EdcAdminSite(name="admin")


class SuperuserOnly:
    """Accounts and groups are managed by superusers (study administrators manage memberships)."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(User, site=site)
class EdcUserAdmin(SuperuserOnly, UserAdmin):
    """Users are deactivated, never deleted: their history rows keep naming them."""

    actions = ["deactivate"]

    @admin.action(description=_("Deactivate the selected users"))
    def deactivate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        from edc.core.services import user_deactivate

        done = 0
        for account in queryset:
            try:
                user_deactivate(user=request.user, account=account)
                done += 1
            except (PermissionDenied, ValidationError) as exc:
                self.message_user(
                    request, f"{account}: {'; '.join(getattr(exc, 'messages', [str(exc)]))}", messages.ERROR
                )
        if done:
            self.message_user(request, gettext("{count} user(s) deactivated.").format(count=done))


@admin.register(Group, site=site)
class EdcGroupAdmin(SuperuserOnly, GroupAdmin):
    pass
