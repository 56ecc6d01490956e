"""Evaluate an iRECIST case file and print the result per case id as JSON."""

from edc.tumors.casefiles import IRECIST_SECTIONS
from edc.tumors.management.commands._casefile_command import CaseFileCommand


class Command(CaseFileCommand):
    help = (
        "Evaluate iRECIST cases from a JSON case file; prints one JSON object mapping case id to output. "
        "Exits 1 when any case is invalid (errors as JSON on stderr, docs/input-files.md)."
    )
    file_help = "the iRECIST case file (JSON)"
    sections = IRECIST_SECTIONS
