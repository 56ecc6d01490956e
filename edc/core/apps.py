from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _refuse_user_deletion(sender: Any, instance: Any, **kwargs: Any) -> None:
    from edc.core.exceptions import DeletionRefused
    from edc.core.services import USER_DELETION_REFUSED

    raise DeletionRefused(str(USER_DELETION_REFUSED))


class CoreConfig(AppConfig):
    name = "edc.core"
    label = "core"
    verbose_name = _("Access and audit")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Plumbing of the write path, not domain behaviour:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import pre_delete

        from edc.core import checks, services  # noqa: F401  (reason code on history rows; system checks)
        from edc.core.history import guard_history_models

        # History rows are append-only through the ORM on every database (a trigger adds PostgreSQL).
        guard_history_models()
        # Users are deactivated, never deleted: deleting one would blank `history_user` on their rows.
        pre_delete.connect(
            _refuse_user_deletion, sender=get_user_model(), dispatch_uid="edc_no_user_deletion"
        )
