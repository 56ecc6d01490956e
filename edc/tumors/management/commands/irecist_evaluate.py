"""Evaluate an iRECIST case file and print the result per case id as JSON."""

from edc.tumors import casefiles, irecist
from edc.tumors.management.commands._casefile_command import CaseFileCommand


class Command(CaseFileCommand):
    help = "Evaluate iRECIST cases from a JSON case file; prints one JSON object mapping case id to output."
    file_help = "the iRECIST case file (JSON)"
    sections = {
        "cases": (casefiles.parse_irecist_case, lambda case: irecist.evaluate_irecist(case).to_dict()),
    }
