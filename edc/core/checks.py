"""System checks that keep the write path closed for models added later."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core import checks

from edc.core import history  # noqa: F401  (registers core.E010, the trigger check)
from edc.core.models import AuditedModel, AuditedQuerySet


@checks.register(checks.Tags.models)
def check_audited_managers(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Every manager of an audited model refuses bulk writes (its queryset is an AuditedQuerySet)."""
    errors: list[checks.CheckMessage] = []
    for model in apps.get_models():
        if not issubclass(model, AuditedModel):
            continue
        for manager in [*model._meta.managers, model._meta.base_manager]:
            if not issubclass(manager._queryset_class, AuditedQuerySet):  # type: ignore[attr-defined]  # private, unstubbed manager attribute
                errors.append(
                    checks.Error(
                        f"{model.__name__}.{manager.name} does not use an AuditedQuerySet: "
                        "its update() and bulk writes would skip history.",
                        hint="Build the manager from a subclass of edc.core.models.AuditedQuerySet.",
                        obj=model,
                        id="core.E001",
                    )
                )
    return errors
