"""Eligibility from the stored data, for seeds 002 and 004, table-driven.

The table (journey_cases.py) is one case file. `eligibility_evaluate` gives each case's answer from
the file; `screening_import` stores the file; `GET /api/subjects/{id}/eligibility/?as_of=` gives the
answer from the stored forms. The two must be the same object for every case, and each the outcome
the protocol gives.
"""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import transaction

from edc.eligibility.selectors import screening_record
from edc.subjects.models import Subject
from tests.eligibility.journey_cases import AS_OF, all_cases
from tests.factories import UserFactory

FIXTURES = Path(settings.BASE_DIR) / "fixtures"
CASES = all_cases()
IDS = [case["id"] for case, _ in CASES]


@pytest.fixture(scope="module")
def stored(django_db_setup, django_db_blocker, tmp_path_factory):
    """The studies loaded and the table imported once for the module (rolled back at its end)."""
    path = tmp_path_factory.mktemp("cases") / "cases.json"
    path.write_text(json.dumps({"cases": [case for case, _ in CASES]}), encoding="utf-8")
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            call_command(
                "load_studies",
                str(FIXTURES / "forms.yaml"),
                str(FIXTURES / "studies" / "002_cet_dalp_hnscc.yaml"),
                str(FIXTURES / "studies" / "004_cam_crt_hnscc.yaml"),
                stdout=StringIO(),
            )
            evaluated = StringIO()
            call_command("eligibility_evaluate", str(path), stdout=evaluated)
            imported = StringIO()
            call_command("screening_import", str(path), stdout=imported)
            yield {"file": json.loads(evaluated.getvalue()), "subjects": json.loads(imported.getvalue())}
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def reader(stored, client_for):
    return client_for(UserFactory(username="journey_reader", is_superuser=True))


# Every test here asks for the database (`db`), so that pytest-django keeps them together and the
# module's import runs once.
pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("case", "outcome"), CASES, ids=IDS)
def test_the_case_file_gives_the_protocols_outcome(stored, case, outcome):
    result = stored["file"][case["id"]]
    assert result["outcome"] == outcome, _not_in_favour(result)


@pytest.mark.parametrize(("case", "outcome"), CASES, ids=IDS)
def test_the_stored_patient_gives_the_same_answer_as_the_case_file(stored, reader, case, outcome):
    subject_id = stored["subjects"][case["id"]]
    response = reader.get(f"/api/subjects/{subject_id}/eligibility/", {"as_of": case["as_of"]})
    assert response.status_code == 200, response.json()
    assert response.json() == stored["file"][case["id"]]


def test_the_import_prints_one_new_subject_per_case(stored):
    ids = stored["subjects"]
    assert set(ids) == set(IDS)
    assert Subject.objects.filter(pk__in=ids.values()).count() == len(IDS)


def test_a_stored_patient_reads_back_as_the_record_the_case_file_gives(stored):
    from edc.eligibility.casefile import EligibilityCaseIn
    from edc.inputs.cases import read_case

    for case, _ in CASES:
        subject = Subject.objects.get(pk=stored["subjects"][case["id"]])
        from_file = read_case(EligibilityCaseIn, case).to_record()
        from_rows = screening_record(subject, subject.planned_first_dose or _day(AS_OF))
        # Confirmations are stored per criterion under their canonical key ("I3"): compare apart.
        assert from_rows.patient().__class__ is from_file.patient().__class__
        assert _without_confirmations(from_rows) == _without_confirmations(from_file), case["id"]


def _not_in_favour(result):
    """The criteria that keep a patient from being eligible, with their reasons."""
    favour = {"inclusion": "met", "exclusion": "not_met"}
    return {
        f"{c['kind'][0].upper()}{c['number']}": (c["status"], c["reason"])
        for c in result["criteria"]
        if c["status"] != favour[c["kind"]]
    }


def _day(text):
    import datetime as dt

    return dt.date.fromisoformat(text)


def _without_confirmations(record):
    from dataclasses import replace

    return replace(record, confirmations={}, confirm_unstructured=False, vitals=record.vitals)
