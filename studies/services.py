"""Writes of trial definitions outside the loader: the admin's door.

Who may change a definition: a superuser, or a study administrator (an active membership with the
ADMIN role) of the definition's study; nobody changes a locked study's definition, and nobody
deletes a definition (visits, forms and criteria may already have data pointing at them). The form
registry (forms, codelists) is shared by every study: only superusers change it. Every change keeps
a history row with the user and the reason.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from edc.core.models import Membership, Role
from studies.models import Study

M = TypeVar("M", bound=models.Model)


def study_of(obj: models.Model) -> Study | None:
    """The study a definition belongs to (None for the shared form registry)."""
    if isinstance(obj, Study):
        return obj
    study: Study | None = getattr(obj, "study", None) if getattr(obj, "study_id", None) else None
    return study


def administered_studies(user: Any) -> QuerySet[Study]:
    """The studies whose definitions the user may change (unlocked ones only)."""
    if not (user and user.is_authenticated and user.is_active):
        return Study.objects.none()
    studies = Study.objects.filter(locked_at__isnull=True)
    if user.is_superuser:
        return studies
    admin_of = Membership.objects.filter(user_id=user.pk, is_active=True, role=Role.ADMIN).values("study_id")
    return studies.filter(id__in=admin_of)


def may_change_definition(user: Any, obj: models.Model | None, *, registry: bool = False) -> bool:
    """Whether the user may change this definition (or, with obj None, any of its kind)."""
    if not (user and user.is_authenticated and user.is_active and user.is_staff):
        return False
    if registry:
        return bool(user.is_superuser)
    study = study_of(obj) if obj is not None else None
    if obj is None or study is None:
        return administered_studies(user).exists()
    return administered_studies(user).filter(pk=study.pk).exists()


def refusal(user: Any, obj: models.Model, *, registry: bool = False) -> str | None:
    """Why the user may not change the definition, in words; None when they may."""
    study = study_of(obj)
    if study is not None and study.locked_at is not None:
        return _("Study %(study)s is locked: its definition cannot change.") % {"study": study.protocol_id}
    if not may_change_definition(user, obj if study is not None else None, registry=registry):
        if registry:
            return _("Only a superuser changes the form registry, which every study shares.")
        return _("Only a study administrator of this study changes its definition.")
    return None


@transaction.atomic
def definition_save(*, obj: M, user: Any, reason: str, registry: bool = False) -> M:
    """Create or change one definition with its history row (who and why); nothing else writes it."""
    why = refusal(user, obj, registry=registry)
    if why:
        raise PermissionDenied(why)
    adding = obj._state.adding
    if not adding and not reason.strip():
        raise ValidationError({"change_reason": [_("A reason for change is required.")]})
    obj.full_clean(validate_constraints=True)
    obj._change_reason = reason.strip() or _("created in the admin")  # type: ignore[attr-defined]  # simple-history reads it
    obj._history_user = user  # type: ignore[attr-defined]  # simple-history reads it
    obj.save()
    return obj
