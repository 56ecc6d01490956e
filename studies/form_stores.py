"""Which Django model stores which registry form, and whether a form version already holds data.

A model that stores the data of a registry form declares it with class attributes:

    form_code = "DM"                              # the registry form it stores
    form_item_fields = {"BIRTH_DATE": "birth_date"} # item -> field where the names differ
                                                  # (default: the item code in lower case)
    form_exempt_fields = ("status",)              # data fields that are no item of the form
    form_field_units = {"weight": "kg"}           # the unit a numeric field holds
    form_version_field = "form_version"           # optional: the field holding the version a
                                                  # row was entered in (else rows count for the
                                                  # current version)

The system check studies.E020-E024 (studies/checks.py) compares every such model with its form,
so later capabilities add form models by declaring these, and the check covers them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.db import models

if TYPE_CHECKING:
    from studies.models import FormDefinition


@dataclass(frozen=True)
class FormStore:
    model: type[models.Model]
    form_code: str
    item_fields: dict[str, str] = field(default_factory=dict)
    exempt_fields: tuple[str, ...] = ()
    field_units: dict[str, str] = field(default_factory=dict)
    version_field: str | None = None

    @property
    def label(self) -> str:
        return self.model._meta.label

    def field_for(self, item_code: str) -> str:
        return self.item_fields.get(item_code, item_code.lower())

    def data_fields(self) -> list[models.Field[Any, Any]]:
        """The model's own data fields: not the key, not what its abstract bases add, not exempt."""
        inherited: set[str] = set()
        for base in self.model.__mro__[1:]:
            meta = getattr(base, "_meta", None)
            if meta is not None and getattr(meta, "abstract", False):
                inherited |= {f.name for f in meta.local_fields}
        skip = inherited | set(self.exempt_fields) | ({self.version_field} if self.version_field else set())
        return [
            f
            for f in self.model._meta.concrete_fields
            if not f.primary_key and not f.auto_created and f.name not in skip
        ]


def store_of(model: type[models.Model]) -> FormStore | None:
    code = getattr(model, "form_code", None)
    if not isinstance(code, str) or not code:
        return None
    return FormStore(
        model=model,
        form_code=code,
        item_fields=dict(getattr(model, "form_item_fields", {}) or {}),
        exempt_fields=tuple(getattr(model, "form_exempt_fields", ()) or ()),
        field_units=dict(getattr(model, "form_field_units", {}) or {}),
        version_field=getattr(model, "form_version_field", None),
    )


def form_stores() -> list[FormStore]:
    """Every installed model that stores a registry form."""
    found = [store_of(model) for model in apps.get_models()]
    return [store for store in found if store is not None]


def rows_in_version(version: FormDefinition) -> str | None:
    """The model that holds data entered in this form version, or None."""
    for store in form_stores():
        if store.form_code != version.code:
            continue
        manager = store.model._base_manager
        if store.version_field:
            has_rows = manager.filter(**{store.version_field: version.version}).exists()
        else:
            # Without a version column, stored rows are in the current version.
            has_rows = version.is_current and manager.exists()
        if has_rows:
            return store.label
    return None
