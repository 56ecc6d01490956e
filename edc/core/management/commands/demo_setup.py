"""Create (or refresh) the demo logins for a local run and print them. Refuses to run in production.

Four logins, each with a fresh random password every run, so that site scoping shows on first login:

- ``demo``: superuser, sees everything;
- ``coordinator``: site coordinator at one site of one study (site 01 of CAM-BEV-CAP-HNSCC, seed 000,
  or of the first loaded study), sees and enters data for that site only;
- ``monitor``: monitor of every site of every loaded study (reads);
- ``datamanager``: data manager of every site of every loaded study.

The role logins are staff with the admin permissions their role needs today (view everything they
are scoped to; the coordinator also adds and changes subjects); what they see is narrowed by their
memberships. Run it after ``load_studies`` (``make setup`` does).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Permission, User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from edc.core.models import Membership, Role
from studies.models import Site, Study

COORDINATOR_STUDY = "CAM-BEV-CAP-HNSCC"
# Apps whose records the role logins may open in the admin (each list is still scoped to their sites).
VIEW_APPS = ("studies", "subjects", "safety")


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    what: str


class Command(BaseCommand):
    help = (
        "Create the demo logins with fresh random passwords and print them (debug only): a superuser, a "
        "site coordinator at one site of one study, a monitor and a data manager of every loaded study."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="demo", help="the superuser's name (default demo)")

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("demo_setup runs only with DJANGO_DEBUG=1: never a known login in production.")
        superuser, password, created = self._user(options["username"], superuser=True)
        logins = [
            DemoLogin(
                superuser.get_username(),
                password,
                _("superuser, every study and site") + ("" if created else _(" (password renewed)")),
            )
        ]
        studies = list(Study.objects.order_by("protocol_id"))
        if studies:
            logins.extend(self._role_logins(studies))
        else:
            self.stderr.write(
                _("No trials are loaded: run `python manage.py load_studies` first for the role logins.")
            )
        width = max(len(login.username) for login in logins)
        lines = [
            "",
            "  Oncology EDC is ready: http://127.0.0.1:8000/admin/   API docs: http://127.0.0.1:8000/api/docs/",
            "  " + _("Demo logins (new passwords every run):"),
        ]
        lines += [f"    {login.username.ljust(width)}  {login.password}  {login.what}" for login in logins]
        self.stdout.write(self.style.SUCCESS("\n".join(lines) + "\n"))

    def _user(self, username: str, *, superuser: bool = False) -> tuple[User, str, bool]:
        password = secrets.token_urlsafe(12)
        user, created = User.objects.get_or_create(
            username=username, defaults={"email": f"{username}@example.org"}
        )
        user.is_staff = user.is_active = True
        user.is_superuser = superuser
        user.set_password(password)
        user.save()
        return user, password, created

    def _role_logins(self, studies: list[Study]) -> list[DemoLogin]:
        coordinator_study = next((s for s in studies if s.protocol_id == COORDINATOR_STUDY), studies[0])
        site = Site.objects.filter(study=coordinator_study).order_by("code").first()
        view = Permission.objects.filter(content_type__app_label__in=VIEW_APPS, codename__startswith="view_")
        subject_entry = Permission.objects.filter(
            Q(codename="add_subject") | Q(codename="change_subject"), content_type__app_label="subjects"
        )
        logins = []
        if site is not None:
            user, password, _created = self._user("coordinator")
            self._memberships(user, [(coordinator_study, site)], Role.SITE_COORDINATOR)
            user.user_permissions.set([*view, *subject_entry])
            logins.append(
                DemoLogin(
                    "coordinator",
                    password,
                    _("site coordinator at site %(site)s of %(study)s only")
                    % {"site": site.code, "study": coordinator_study.protocol_id},
                )
            )
        every_site = [(study, None) for study in studies]
        for username, role, words in (
            ("monitor", Role.MONITOR, _("monitor, every site of the %(count)d loaded trials")),
            ("datamanager", Role.DATA_MANAGER, _("data manager, every site of the %(count)d loaded trials")),
        ):
            user, password, _created = self._user(username)
            self._memberships(user, every_site, role)
            user.user_permissions.set(list(view))
            logins.append(DemoLogin(username, password, words % {"count": len(studies)}))
        return logins

    def _memberships(self, user: User, grants: Sequence[tuple[Study, Site | None]], role: str) -> None:
        """Exactly these memberships, active; the user's other memberships are deactivated (never deleted)."""
        keep = []
        for study, site in grants:
            membership, _created = Membership.objects.get_or_create(
                user=user, study=study, site=site, defaults={"role": role}
            )
            if membership.role != role or not membership.is_active:
                membership.role, membership.is_active = role, True
                membership.save()
            keep.append(membership.pk)
        for stale in Membership.objects.filter(user=user, is_active=True).exclude(pk__in=keep):
            stale.is_active = False
            stale.save()
