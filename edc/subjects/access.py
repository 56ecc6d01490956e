"""Who may write a subject's data, shared by the journey's services (subjects, consent, forms,
eligibility, visits).

`user=None` is the operator at the server console: a management command (`screening_import`)
run without `--user`. It passes the role checks (whoever runs manage.py holds the database anyway)
and its history rows name no user, as `load_studies` without `--user` does. Every door (admin, API)
passes the signed-in user (an anonymous one is never None), so no door reaches this path.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext

from edc.core.models import Capability
from edc.core.scoping import has_capability, require_site_write


def require_write(user: Any, site: Any) -> None:
    if user is not None:
        require_site_write(user, site)


def require_sign(user: Any, site: Any) -> None:
    """Confirmations and the screening outcome are the investigator's (Capability.SIGN)."""
    if user is not None and not has_capability(user, Capability.SIGN, site=site):
        raise PermissionDenied(
            gettext("Only an investigator of site {site} confirms eligibility and signs the outcome.").format(
                site=site.code
            )
        )


def site_today(site: Any) -> dt.date:
    return site.today()
