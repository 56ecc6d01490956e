from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission

from edc.core.scoping import can_write_site


class SiteWritePermission(BasePermission):
    """Reads follow the scoped queryset; writes need a writing role at the record's site."""

    message = _("Your role does not allow entering or changing data at this site.")

    def has_object_permission(self, request: Any, view: Any, obj: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        site = getattr(obj, "site", None)
        return site is None or can_write_site(request.user, site)
