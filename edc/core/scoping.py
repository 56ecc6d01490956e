"""Site scoping: the one start of every list, detail, filter, count and history a user sees.

A membership grants a study and one of its sites (or all of them). Superusers see everything.
Scoping is done with subqueries on ids, so a scoped queryset never duplicates rows and composes with
any further filter.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Model, Q, QuerySet

from edc.core.models import WRITING_ROLES, Membership
from studies.models import Site, Study


def _memberships(user: Any) -> QuerySet[Membership]:
    return Membership.objects.filter(user_id=user.pk, is_active=True)


def _sees_all(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.is_superuser)


def visible_studies(user: Any) -> QuerySet[Study]:
    if _sees_all(user):
        return Study.objects.all()
    if not (user and user.is_authenticated and user.is_active):
        return Study.objects.none()
    return Study.objects.filter(id__in=_memberships(user).values("study_id"))


def visible_sites(user: Any) -> QuerySet[Site]:
    if _sees_all(user):
        return Site.objects.all()
    if not (user and user.is_authenticated and user.is_active):
        return Site.objects.none()
    memberships = _memberships(user)
    return Site.objects.filter(
        Q(study_id__in=memberships.filter(site__isnull=True).values("study_id"))
        | Q(id__in=memberships.filter(site__isnull=False).values("site_id"))
    )


def scope(queryset: QuerySet, user: Any, model: type[Model] | None = None) -> QuerySet:
    """Restrict a queryset of a study- or site-owned model (or of its history) to what the user sees."""
    model = model or queryset.model
    site_field = getattr(model, "scope_site_field", None)
    study_field = getattr(model, "scope_study_field", None)
    if _sees_all(user):
        return queryset
    if site_field:
        return queryset.filter(**{f"{site_field}__in": visible_sites(user).values("id")})
    if study_field:
        return queryset.filter(**{f"{study_field}__in": visible_studies(user).values("id")})
    raise TypeError(f"{model.__name__} declares no scope_site_field or scope_study_field.")


def scope_history(model: type[Model], user: Any) -> QuerySet:
    """The history rows of a model that the user may read (same sites as the records)."""
    return scope(model.history.all(), user, model=model)


def can_write_site(user: Any, site: Site) -> bool:
    if _sees_all(user):
        return True
    return (
        _memberships(user)
        .filter(role__in=WRITING_ROLES, study_id=site.study_id)
        .filter(Q(site__isnull=True) | Q(site_id=site.pk))
        .exists()
    )


def require_site_write(user: Any, site: Site) -> None:
    if not can_write_site(user, site):
        raise PermissionDenied(f"You may not enter data at site {site.code}.")
