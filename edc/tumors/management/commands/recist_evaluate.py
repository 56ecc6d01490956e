"""Evaluate a RECIST 1.1 case file and print the result per case id as JSON."""

from edc.tumors.casefiles import RECIST_SECTIONS
from edc.tumors.management.commands._casefile_command import CaseFileCommand


class Command(CaseFileCommand):
    help = (
        "Evaluate RECIST 1.1 cases (response_cases, measurability_cases, target_selection_cases) "
        "from a JSON case file; prints one JSON object mapping each case id to its output. "
        "Exits 1 when any case is invalid (errors as JSON on stderr, docs/input-files.md)."
    )
    file_help = "the RECIST case file (JSON)"
    sections = RECIST_SECTIONS
