"""Re-plan a study's subjects for a version of its definition: `manage.py schedule_replan --study P
[--version N] [--as-of YYYY-MM-DD] [--user U]`.

`load_studies` re-plans at once for a version that has taken effect; a version dated later is
applied with this command on its day (default: the study's latest version, from its effective date).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from edc.visits.services import study_version_replan
from studies.models import Study, StudyVersion


class Command(BaseCommand):
    help = "Re-plan the subjects of a study for a version of its definition (an amendment)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--study", required=True, help="The study's protocol id.")
        parser.add_argument(
            "--study-version", dest="study_version", help="The study version's number (default: the latest)."
        )
        parser.add_argument(
            "--as-of", help="YYYY-MM-DD: re-plan visits from this day (default: effective date)."
        )
        parser.add_argument("--user", help="The username the changes are recorded under.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            study = Study.objects.get(protocol_id=options["study"])
        except Study.DoesNotExist:
            raise CommandError(f"--study: no study {options['study']!r}") from None
        versions = StudyVersion.objects.filter(study=study).order_by("-loaded_at", "-id")
        if options.get("study_version"):
            versions = versions.filter(number=options["study_version"])
        version = versions.first()
        if version is None:
            raise CommandError(
                f"--version: no version {options.get('version') or ''!r} of {study.protocol_id}"
            )
        as_of = None
        if options.get("as_of"):
            try:
                as_of = dt.date.fromisoformat(options["as_of"])
            except ValueError:
                raise CommandError(f"--as-of: {options['as_of']!r} is not a date YYYY-MM-DD") from None
        user = None
        if options.get("user"):
            try:
                user = get_user_model().objects.get(username=options["user"])
            except get_user_model().DoesNotExist:
                raise CommandError(f"--user: no user {options['user']!r}") from None
        result = study_version_replan(user=user, version=version, as_of=as_of)
        self.stdout.write(
            f"{version}: {result.subjects} subjects re-planned ({result.created} visits created, "
            f"{result.moved} moved, {result.dropped} cancelled, {result.kept} kept)"
        )
