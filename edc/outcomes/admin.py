"""The endpoints page of the admin: per study the figures of GET /api/studies/{id}/endpoints/ (the same
selectors), the subjects behind each count, the rules, and the five plots.

Read-only: nothing here writes. A user sees the studies they are a member of and, of each, the subjects
of their sites (a site coordinator: their site's subjects only), as in the API.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from edc.core.admin import _cached_capability, object_or_404
from edc.core.admin_site import site
from edc.core.models import Capability
from edc.core.scoping import visible_studies
from edc.outcomes import selectors
from edc.outcomes.models import StudyEndpoints

PLOT_TYPES = {"png": "image/png", "svg": "image/svg+xml"}


@admin.register(StudyEndpoints, site=site)
class StudyEndpointsAdmin(admin.ModelAdmin):
    list_display = ["protocol_id", "short_title", "endpoints_link"]
    search_fields = ["protocol_id", "short_title"]
    ordering = ["protocol_id"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return StudyEndpoints.objects.filter(id__in=visible_studies(request.user).values("id"))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _cached_capability(request, Capability.READ)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _cached_capability(request, Capability.READ)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("Endpoints"))
    def endpoints_link(self, obj: StudyEndpoints) -> str:
        url = reverse("admin:outcomes_studyendpoints_change", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("Endpoints and plots"))

    def get_urls(self) -> list[Any]:
        own = [
            path(
                "<path:object_id>/plots/<str:kind>.<str:fmt>",
                self.admin_site.admin_view(self.plot_view),
                name="outcomes_studyendpoints_plot",
            ),
        ]
        return own + super().get_urls()

    def _study(self, request: HttpRequest, object_id: str) -> StudyEndpoints:
        study: StudyEndpoints = object_or_404(self.get_queryset(request), object_id)
        if not self.has_view_permission(request, study):
            raise Http404
        return study

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        """The endpoints page (the change view of a read-only proxy: there is nothing to change)."""
        study = self._study(request, object_id)
        built = selectors.study_endpoints_case(study, user=request.user)
        answer = selectors.study_endpoints(built)
        result = answer["result"]
        counted = answer["counted"]
        figures = [
            (gettext("Objective response rate (ORR)"), result["orr"], counted["orr"]),
            (gettext("Disease control rate (DCR)"), result["dcr"], counted["dcr"]),
        ]
        survival = [
            (gettext("Progression-free survival (PFS)"), result["pfs"], counted["pfs"]),
            (gettext("Overall survival (OS)"), result["os"], counted["os"]),
            (gettext("Duration of response (DoR)"), result["dor"], counted["dor"]),
        ]
        subgroups = [
            (name, value, figure, counted["orr_by_subgroup"][name][value])
            for name, values in result["orr_by_subgroup"].items()
            for value, figure in values.items()
        ]
        case_rows = {row["id"]: row for row in answer["case"]["subjects"]}
        subject_rows = [(trace, case_rows.get(trace["id"])) for trace in answer["subjects"]]
        plots = [
            (kind, reverse("admin:outcomes_studyendpoints_plot", args=[study.pk, kind, "svg"]))
            for kind in selectors.PLOT_KINDS
        ]
        return TemplateResponse(
            request,
            "admin/outcomes/studyendpoints/endpoints.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "study": study,
                "title": gettext("Efficacy endpoints of %(study)s") % {"study": study.protocol_id},
                "answer": answer,
                "figures": figures,
                "survival": survival,
                "subgroups": subgroups,
                "subject_rows": subject_rows,
                "plots": plots,
                "png_links": [
                    (kind, reverse("admin:outcomes_studyendpoints_plot", args=[study.pk, kind, "png"]))
                    for kind in selectors.PLOT_KINDS
                ],
            },
        )

    def plot_view(self, request: HttpRequest, object_id: str, kind: str, fmt: str) -> HttpResponse:
        if kind not in selectors.PLOT_KINDS or fmt not in PLOT_TYPES:
            raise Http404
        study = self._study(request, object_id)
        built = selectors.study_endpoints_case(study, user=request.user)
        response = HttpResponse(selectors.study_plot(built, kind, fmt), content_type=PLOT_TYPES[fmt])
        response["Cache-Control"] = "private, no-store"
        return response
