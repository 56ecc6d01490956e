"""Evaluate a RECIST 1.1 case file and print the result per case id as JSON."""

import json

from django.core.management.base import BaseCommand, CommandError

from edc.tumors import casefiles, recist

SECTIONS = {
    "response_cases": (casefiles.parse_response_case, lambda case: recist.evaluate_response(case).to_dict()),
    "measurability_cases": (
        casefiles.parse_measurability_case,
        lambda lesion: {"category": recist.classify_lesion(lesion)},
    ),
    "target_selection_cases": (
        casefiles.parse_target_selection_case,
        lambda targets: recist.validate_target_selection(targets).to_dict(),
    ),
}


class Command(BaseCommand):
    help = (
        "Evaluate RECIST 1.1 cases (response_cases, measurability_cases, target_selection_cases) "
        "from a JSON case file; prints one JSON object mapping each case id to its output."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the RECIST case file (JSON)")

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
