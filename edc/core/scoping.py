"""Site scoping and roles: the one start of every list, detail, filter, count, history and permission.

A membership grants a study, one of its sites (or all of them) and a role; the role's capabilities
(edc.core.models.ROLE_CAPABILITIES) say what the user may do there. Superusers see and do everything.
Scoping is done with subqueries on ids, so a scoped queryset never duplicates rows and composes with
any further filter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext

from edc.core.models import ROLE_CAPABILITIES, Capability, Membership, Role, roles_with
from studies.models import Site, Study


def _memberships(user: Any) -> QuerySet[Membership]:
    return Membership.objects.filter(user_id=user.pk, is_active=True)


def _signed_in(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def _sees_all(user: Any) -> bool:
    return _signed_in(user) and bool(user.is_superuser)


def visible_studies(user: Any) -> QuerySet[Study]:
    if _sees_all(user):
        return Study.objects.all()
    if not _signed_in(user):
        return Study.objects.none()
    return Study.objects.filter(id__in=_memberships(user).values("study_id"))


def _sites_of(memberships: QuerySet[Membership]) -> QuerySet[Site]:
    return Site.objects.filter(
        Q(study_id__in=memberships.filter(site__isnull=True).values("study_id"))
        | Q(id__in=memberships.filter(site__isnull=False).values("site_id"))
    )


def visible_sites(user: Any) -> QuerySet[Site]:
    if _sees_all(user):
        return Site.objects.all()
    if not _signed_in(user):
        return Site.objects.none()
    return _sites_of(_memberships(user))


def sites_with(user: Any, capability: Capability) -> QuerySet[Site]:
    """The sites where the user's roles grant `capability` (e.g. where they may enter data)."""
    if _sees_all(user):
        return Site.objects.all()
    if not _signed_in(user):
        return Site.objects.none()
    return _sites_of(_memberships(user).filter(role__in=roles_with(capability)))


def studies_with(user: Any, capability: Capability) -> QuerySet[Study]:
    """The studies where one of the user's memberships grants `capability` (at any of its sites)."""
    if _sees_all(user):
        return Study.objects.all()
    if not _signed_in(user):
        return Study.objects.none()
    return Study.objects.filter(
        id__in=_memberships(user).filter(role__in=roles_with(capability)).values("study_id")
    )


@dataclass(frozen=True)
class Grant:
    """One active membership, as the pages of a request need it."""

    role: str
    study_id: int
    site_id: int | None
    study_locked: bool


def user_grants(user: Any) -> tuple[Grant, ...]:
    """The user's active memberships in one query (superusers need none: they see everything)."""
    if not _signed_in(user) or _sees_all(user):
        return ()
    rows = _memberships(user).values_list("role", "study_id", "site_id", "study__locked_at")
    return tuple(Grant(role, study, site, locked is not None) for role, study, site, locked in rows)


def request_grants(request: Any) -> tuple[Grant, ...]:
    """`user_grants` once per request: menus and page permissions ask for them many times."""
    grants = getattr(request, "_edc_grants", None)
    if grants is None:
        grants = user_grants(request.user)
        request._edc_grants = grants
    return grants


def capabilities_anywhere(user: Any, grants: tuple[Grant, ...] | None = None) -> frozenset[Capability]:
    """Everything the user's roles allow somewhere (one query, none given the grants)."""
    if _sees_all(user):
        return frozenset(Capability)
    if not _signed_in(user):
        return frozenset()
    roles = {g.role for g in (user_grants(user) if grants is None else grants)}
    return frozenset(c for role in roles for c in ROLE_CAPABILITIES.get(role, ()))


def has_capability(user: Any, capability: Capability, *, study: Any = None, site: Any = None) -> bool:
    """Whether the user may do `capability` at `site` (or anywhere in `study`, or anywhere at all)."""
    if _sees_all(user):
        return True
    if not _signed_in(user):
        return False
    memberships = _memberships(user).filter(role__in=roles_with(capability))
    if site is not None:
        memberships = memberships.filter(study_id=site.study_id).filter(
            Q(site__isnull=True) | Q(site_id=site.pk)
        )
    elif study is not None:
        memberships = memberships.filter(study_id=study.pk)
    return memberships.exists()


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
    """The history rows of a model that the user may read: rows written while at their sites."""
    return scope(model.history.all(), user, model=model)  # type: ignore[attr-defined]  # simple-history's manager is unstubbed


def can_write_site(user: Any, site: Site) -> bool:
    return has_capability(user, Capability.ENTER_DATA, site=site)


def require_site_write(user: Any, site: Site) -> None:
    if not can_write_site(user, site):
        raise PermissionDenied(
            gettext("Your role does not allow entering or changing data at site {site}.").format(
                site=site.code
            )
        )


def pseudonymised(user: Any, record: Any) -> bool:
    """Whether the user sees the record's study only pseudonymised (issue 22): every active
    membership they hold there is a sponsor viewer's, so identifying fields (a model's
    `identifying_fields`: initials, birth date) are withheld from them in the API, history and admin."""
    if _sees_all(user) or not _signed_in(user):
        return False
    study_id = getattr(record, "study_id", None)
    if study_id is None:
        return False
    roles = set(_memberships(user).filter(study_id=study_id).values_list("role", flat=True))
    return bool(roles) and roles <= {Role.SPONSOR_VIEWER}
