"""Evaluate a RECIST 1.1 case file and print the result per case id as JSON."""

from edc.tumors import casefiles, recist
from edc.tumors.management.commands._casefile_command import CaseFileCommand


class Command(CaseFileCommand):
    help = (
        "Evaluate RECIST 1.1 cases (response_cases, measurability_cases, target_selection_cases) "
        "from a JSON case file; prints one JSON object mapping each case id to its output."
    )
    file_help = "the RECIST case file (JSON)"
    sections = {
        "response_cases": (
            casefiles.parse_response_case,
            lambda case: recist.evaluate_response(case).to_dict(),
        ),
        "measurability_cases": (
            casefiles.parse_measurability_case,
            lambda lesion: {"category": recist.classify_lesion(lesion)},
        ),
        "target_selection_cases": (
            casefiles.parse_target_selection_case,
            lambda targets: recist.validate_target_selection(targets).to_dict(),
        ),
    }
