"""The admin inlines of issue 19's forms: on the visit page (radiotherapy, biomarkers, survival
follow-up, subsequent therapy, the death form) and on the subject page (the death form).

The screening forms' inlines live with the visit page (edc/visits/admin.py, FORM_INLINES), which adds
these; every row is written by the same services as the API's (edc/forms/services.py): the death
form through `death_record` / `death_update`, so the schedule ends whichever door records it.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from edc.core.admin import AuditedStackedInline, AuditedTabularInline
from edc.core.services import ChangeReason
from edc.forms import services
from edc.forms.models import (
    Biomarker,
    Death,
    FormRecord,
    RadiotherapyCourse,
    SubsequentTherapy,
    SurvivalFollowUp,
)


class _FormInline:
    model: type[FormRecord]
    fk_name = "visit"

    def _visit(self, parent: Any) -> Any:
        return parent if self.fk_name == "visit" else None

    def _subject(self, parent: Any) -> Any:
        return parent.subject if self.fk_name == "visit" else parent

    def create_record(self, request: HttpRequest, parent: Any, data: dict[str, Any]) -> FormRecord:
        if self.model is Death:
            return services.death_record(
                user=request.user, subject=self._subject(parent), visit=self._visit(parent), **data
            )
        return services.form_record_create(
            user=request.user,
            model=self.model,
            subject=self._subject(parent),
            visit=self._visit(parent),
            **data,
        )

    def update_record(
        self,
        request: HttpRequest,
        instance: Any,
        changes: dict[str, Any],
        reason: ChangeReason | None,
        version: int,
    ) -> FormRecord:
        if self.model is Death:
            return services.death_update(
                user=request.user, record=instance, reason=reason, version=version, **changes
            )
        return services.form_record_update(
            user=request.user, record=instance, reason=reason, version=version, **changes
        )

    def void_record(
        self, request: HttpRequest, instance: Any, reason: ChangeReason, version: int
    ) -> FormRecord:
        return services.form_record_void(user=request.user, record=instance, reason=reason, version=version)


def _inline(model: type[FormRecord], *, stacked: bool = False, fk_name: str = "visit") -> type[Any]:
    base = AuditedStackedInline if stacked else AuditedTabularInline
    fields = [n for n in model.editable_fields if n != "visit"]
    return type(
        f"{model.__name__}{'Subject' if fk_name == 'subject' else ''}Inline",
        (_FormInline, base),
        {"model": model, "fields": [*fields, "base_version"], "fk_name": fk_name, "__module__": __name__},
    )


# On the visit page, after the screening forms.
VISIT_INLINES = [
    _inline(RadiotherapyCourse, stacked=True),
    _inline(Biomarker),
    _inline(SurvivalFollowUp),
    _inline(SubsequentTherapy),
    _inline(Death, stacked=True),
]
# On the subject page: the death form (once per subject; filed under the last visit done).
SUBJECT_INLINES = [_inline(Death, stacked=True, fk_name="subject")]
