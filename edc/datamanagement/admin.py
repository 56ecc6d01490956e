"""Admin pages of data management: the query list with ageing and each query's dialogue, where the
site answers and monitors and data managers close or re-open it; SDV marks and signatures
(read-only: they are written through the API).

Every write goes through the services the API calls; these pages are scoped like every clinical
page (the user's sites), their history pages read-only (edc.core.admin).
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from edc.core.admin import REFUSALS, AuditedModelAdmin, VoidedFilter, object_or_404, refusal_messages
from edc.core.admin_site import site
from edc.core.models import Capability
from edc.core.scoping import has_capability, scope
from edc.datamanagement import services
from edc.datamanagement.models import Query, Signature, SourceVerification
from edc.datamanagement.selectors import (
    query_age_days,
    query_steps_allowed,
    rule_description,
    sdv_states,
    signature_state,
)


class ReadOnlyAdmin(AuditedModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


RESPONSES = {
    "answer": _("Answer (the site)"),
    "close": _("Close"),
    "reopen": _("Re-open"),
}


class QueryResponseForm(forms.Form):
    action = forms.ChoiceField(label=_("action"))
    text = forms.CharField(
        label=_("text"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text=_("The answer, or why the query is closed or re-opened (needed to answer or re-open)."),
    )
    # The version the user read: a response to a query changed since is refused, never merged.
    base_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args: Any, allowed: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["action"]).choices = [(name, RESPONSES[name]) for name in allowed]


class RaiseForm(forms.Form):
    field = forms.ChoiceField(label=_("field"), required=False)
    text = forms.CharField(
        label=_("query"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text=_("What needs clarifying."),
    )

    def __init__(self, *args: Any, record: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        system = {"id", "study", "site", *record.system_fields}
        cast(forms.ChoiceField, self.fields["field"]).choices = [
            ("", gettext("the whole record")),
            *(
                (f.name, str(f.verbose_name).capitalize())
                for f in record._meta.concrete_fields
                if f.name not in system
            ),
        ]


@admin.register(Query, site=site)
class QueryAdmin(ReadOnlyAdmin):
    list_display = [
        "subject", "site", "record_type", "field", "rule", "status", "age", "text", "raised_by", "respond",
    ]  # fmt: skip
    readonly_fields = ["dialogue", "respond"]
    list_filter = (
        VoidedFilter,
        "status",
        "rule",
        ("site", admin.RelatedOnlyFieldListFilter),
        ("study", admin.RelatedOnlyFieldListFilter),
    )
    list_select_related = ["subject", "site", "raised_by"]
    search_fields = ["text", "subject__screening_number", "subject__subject_identifier"]

    @admin.display(description=_("age (days)"))
    def age(self, query: Query) -> int:
        return query_age_days(query)

    @admin.display(description=_("respond"))
    def respond(self, query: Query) -> str:
        url = reverse("admin:datamanagement_query_respond", args=[query.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("answer, close or re-open"))

    @admin.display(description=_("dialogue"))
    def dialogue(self, query: Query) -> str:
        return "; ".join(
            f"{event.at:%Y-%m-%d %H:%M} {event.get_action_display()}"
            f" ({event.by.get_username() if event.by else gettext('edit check')}): {event.text}"
            for event in query.events.select_related("by")
        )

    def get_urls(self) -> list[Any]:
        own = [
            path(
                "raise/<str:record_type>/<path:record_id>/",
                self.admin_site.admin_view(self.raise_view),
                name="datamanagement_query_raise",
            ),
            path(
                "<path:object_id>/respond/",
                self.admin_site.admin_view(self.respond_view),
                name="datamanagement_query_respond",
            ),
        ]
        return own + super().get_urls()

    def raise_view(self, request: HttpRequest, record_type: str, record_id: str) -> HttpResponse:
        """A monitor's or data manager's manual query on a record (and one of its fields), raised from
        the record's page through query_raise, as POST /api/queries/ does."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            model = services.record_model(record_type)
        except ValidationError as exc:
            raise Http404 from exc
        # A record the user does not see answers as one that does not exist.
        record = object_or_404(scope(model._default_manager.all(), request.user), record_id)
        try:
            subject = services.subject_of(record)
        except ValidationError as exc:
            raise Http404 from exc
        may_raise = has_capability(request.user, Capability.RAISE_QUERIES, site=subject.site)
        form = RaiseForm(request.POST or None, record=record, initial={"field": request.GET.get("field", "")})
        if request.method == "POST":
            if not may_raise:
                raise PermissionDenied
            if form.is_valid():
                try:
                    services.query_raise(
                        user=request.user,
                        record=record,
                        text=form.cleaned_data["text"],
                        field=form.cleaned_data["field"],
                    )
                except REFUSALS as exc:
                    for field, errors in refusal_messages(exc).items():
                        for error in errors:
                            form.add_error(field if field in form.fields else None, error)
                else:
                    messages.success(request, gettext("The query is raised."))
                    return HttpResponseRedirect(self._record_page(record))
        return TemplateResponse(
            request,
            "admin/datamanagement/query_raise.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": gettext("Raise a query"),
                "record": record,
                "record_kind": model._meta.verbose_name,
                "record_url": self._record_page(record),
                "subject": subject,
                "form": form,
                "may_raise": may_raise,
            },
        )

    def _record_page(self, record: Any) -> str:
        try:
            return reverse(
                f"admin:{record._meta.app_label}_{record._meta.model_name}_change", args=[record.pk]
            )
        except NoReverseMatch:
            return reverse("admin:datamanagement_query_changelist")

    def respond_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """A query's page for the dialogue: answer, close or re-open through the query services."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        # A query of a site the user does not see answers as one that does not exist.
        query = object_or_404(self.get_queryset(request).select_related("subject", "site"), object_id)
        allowed = query_steps_allowed(request.user, query)
        form = QueryResponseForm(
            request.POST or None, allowed=allowed, initial={"base_version": query.version}
        )
        errors: dict[Any, list[str]] = {}
        if request.method == "POST":
            # A step the role may not take is refused as the API refuses it, not as a bad choice.
            if not allowed or request.POST.get("action") in set(RESPONSES) - set(allowed):
                raise PermissionDenied
            if form.is_valid():
                data = form.cleaned_data
                step = {
                    "answer": lambda: services.query_answer(
                        user=request.user, query=query, answer=data["text"], version=data["base_version"]
                    ),
                    "close": lambda: services.query_close(
                        user=request.user, query=query, text=data["text"], version=data["base_version"]
                    ),
                    "reopen": lambda: services.query_reopen(
                        user=request.user, query=query, text=data["text"], version=data["base_version"]
                    ),
                }[data["action"]]
                try:
                    saved = step()
                except REFUSALS as exc:  # a refusal, a locked record, a query changed since it was read
                    errors = refusal_messages(exc)
                else:
                    messages.success(
                        request,
                        gettext("The query is {status}.").format(status=saved.get_status_display().lower()),
                    )
                    return HttpResponseRedirect(reverse("admin:datamanagement_query_changelist"))
        return TemplateResponse(
            request,
            "admin/datamanagement/query_respond.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": gettext("Query"),
                "query": query,
                "rule": rule_description(query.rule) if query.rule else "",
                "events": list(query.events.select_related("by")),
                "form": form,
                "errors": errors,
                "allowed": allowed,
            },
        )


@admin.register(SourceVerification, site=site)
class SourceVerificationAdmin(ReadOnlyAdmin):
    list_display = [
        "subject",
        "site",
        "record_type",
        "field",
        "verified_version",
        "verified_by",
        "verified_at",
        "state",
    ]
    list_filter = (VoidedFilter, ("site", admin.RelatedOnlyFieldListFilter))
    list_select_related = ["subject", "site", "verified_by"]

    @admin.display(description=_("state"))
    def state(self, mark: SourceVerification) -> str:
        return sdv_states([mark])[mark.pk].state


@admin.register(Signature, site=site)
class SignatureAdmin(ReadOnlyAdmin):
    list_display = ["subject", "site", "kind", "signer_name", "signed_at", "meaning", "state"]
    list_filter = (VoidedFilter, "kind", ("site", admin.RelatedOnlyFieldListFilter))
    list_select_related = ["subject", "site"]

    @admin.display(description=_("state"))
    def state(self, signature: Signature) -> str:
        return signature_state(signature).state
