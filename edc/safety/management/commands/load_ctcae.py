"""Load a CTCAE term list into the dictionary table (idempotent); default: the vendored v5.0."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError
from django.utils.translation import gettext as _

from edc.safety.ctcae import VERSION, CtcaeFileError
from edc.safety.reference import VENDORED_CSV, read_ctcae_file
from edc.safety.services import ctcae_terms_load

_VERSION = re.compile(r"^\d+\.\d+$")


class Command(BaseCommand):
    help = (
        "Load the CTCAE terms of one version into the database (grading, the admin and the AE form read "
        "them there). Default: the 837 CTCAE v5.0 terms vendored in edc/safety/data/ctcae/. "
        "A second run changes nothing; other versions are left as they are."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # `--version` is the CTCAE version here; it replaces Django's own --version (which prints
        # Django's version, still shown by `manage.py --version`).
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--file",
            help="the term-list CSV (NCI's clean-copy columns); default: the vendored file of --version",
        )
        parser.add_argument(
            "--version",
            dest="ctcae_version",
            default=VERSION,
            metavar="VERSION",
            help=f"the CTCAE version the file holds, e.g. 6.0 (default {VERSION})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        version = options["ctcae_version"]
        if not _VERSION.match(version):
            raise CommandError(
                _("--version: %(version)r is not a CTCAE version such as 5.0 or 6.0.") % {"version": version}
            )
        if options.get("file"):
            path = Path(options["file"])
        elif version in VENDORED_CSV:
            path = VENDORED_CSV[version]
        else:
            raise CommandError(
                _("--file: no CTCAE v%(version)s term list is vendored; give its CSV with --file.")
                % {"version": version}
            )
        try:
            terms = read_ctcae_file(path, version=version)  # the whole file is checked before writing
        except CtcaeFileError as exc:
            raise CommandError(str(exc)) from None
        try:
            loaded = ctcae_terms_load(terms=terms, version=version)
        except IntegrityError as exc:
            raise CommandError(f"{path}: cannot load: {exc}") from None
        message = f"{loaded.created} created, {loaded.updated} updated, {loaded.unchanged} unchanged"
        summary = {
            "file": str(path),
            "version": version,
            "terms": len(terms),
            "socs": len({t.soc for t in terms}),
            "created": loaded.created,
            "updated": loaded.updated,
            "unchanged": loaded.unchanged,
            "not_in_file": loaded.not_in_file,
            "message": message,
        }
        self.stderr.write(message)
        self.stdout.write(json.dumps(summary))
