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
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from edc.core.admin import REFUSALS, AuditedModelAdmin, VoidedFilter, object_or_404, refusal_messages
from edc.core.admin_site import site
from edc.core.models import Capability
from edc.core.scoping import has_capability
from edc.datamanagement import services
from edc.datamanagement.models import Query, QueryStatus, Signature, SourceVerification
from edc.datamanagement.selectors import query_age_days, rule_description, sdv_states, signature_state


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


def allowed_responses(user: Any, query: Query) -> list[str]:
    """What this user may do to the query now: the site answers an open query; monitors and data
    managers close one not closed and re-open one not open (the services check the same)."""
    allowed = []
    if query.status == QueryStatus.OPEN and has_capability(user, Capability.ANSWER_QUERIES, site=query.site):
        allowed.append("answer")
    if has_capability(user, Capability.RAISE_QUERIES, site=query.site):
        if query.status != QueryStatus.CLOSED:
            allowed.append("close")
        if query.status != QueryStatus.OPEN:
            allowed.append("reopen")
    return allowed


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
                "<path:object_id>/respond/",
                self.admin_site.admin_view(self.respond_view),
                name="datamanagement_query_respond",
            )
        ]
        return own + super().get_urls()

    def respond_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """A query's page for the dialogue: answer, close or re-open through the query services."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        # A query of a site the user does not see answers as one that does not exist.
        query = object_or_404(self.get_queryset(request).select_related("subject", "site"), object_id)
        allowed = allowed_responses(request.user, query)
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
