"""The admin's door to a study's efficacy endpoints: a proxy of the study (no table, no data of its own).

The endpoints page (edc/outcomes/admin.py) reads everything through edc/outcomes/selectors.py, the
same computation as GET /api/studies/{id}/endpoints/.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from studies.models import Study


class StudyEndpoints(Study):
    class Meta:
        proxy = True
        verbose_name = _("study endpoints")
        verbose_name_plural = _("study endpoints")
