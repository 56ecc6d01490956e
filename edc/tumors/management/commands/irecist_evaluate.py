"""Evaluate an iRECIST case file and print the result per case id as JSON."""

import json

from django.core.management.base import BaseCommand, CommandError

from edc.tumors import casefiles, irecist

SECTIONS = {
    "cases": (casefiles.parse_irecist_case, lambda case: irecist.evaluate_irecist(case).to_dict()),
}


class Command(BaseCommand):
    help = "Evaluate iRECIST cases from a JSON case file; prints one JSON object mapping case id to output."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the iRECIST case file (JSON)")

    def handle(self, *args, **options):
        path = options["file"]
        try:
            data = casefiles.read_case_file(path, tuple(SECTIONS))
        except casefiles.CaseFileError as exc:
            raise CommandError(str(exc)) from exc
        outputs, errors = casefiles.evaluate_sections(data, SECTIONS)
        self.stdout.write(json.dumps(outputs, indent=2, ensure_ascii=False))
        if errors:
            raise CommandError(casefiles.error_summary(path, errors))
