"""Enrollment plans the subject's visits: the same as `schedule_preview` prints for the same dates,
created in bulk (one INSERT for the rows and one for their history), and a re-plan writes only
what differs."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from edc.core.services import ChangeReason
from edc.eligibility.services import eligibility_decide
from edc.subjects.services import subject_enroll
from edc.visits.models import Visit, VisitStatus
from edc.visits.services import schedule_rebuild
from studies.models import Study
from tests.factories import screen_subject

FIXTURES = Path(settings.BASE_DIR) / "fixtures"
ENROLLED, FIRST_DOSE = dt.date(2025, 3, 10), dt.date(2025, 3, 15)


@pytest.fixture(scope="module")
def studies(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            call_command("load_studies", stdout=StringIO())
            yield
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def _ready(protocol_id):
    """A subject screened, consented and signed eligible (every criterion confirmed in favour)."""
    study = Study.objects.get(protocol_id=protocol_id)
    subject = screen_subject(study.sites.order_by("code").first())
    eligibility_decide(user=None, subject=subject, as_of=FIRST_DOSE, confirm_unstructured=True)
    return subject


def _preview(protocol_id):
    out = StringIO()
    call_command(
        "schedule_preview",
        protocol_id,
        "--first-dose",
        FIRST_DOSE.isoformat(),
        "--enrollment",
        ENROLLED.isoformat(),
        "--consent",
        "2025-03-01",
        stdout=out,
    )
    return json.loads(out.getvalue())["visits"]


def _stored(subject):
    return [
        {
            "code": v.code,
            "name": v.name,
            "kind": v.kind,
            "target": v.target_date.isoformat(),
            "window_start": v.window_start.isoformat(),
            "window_end": v.window_end.isoformat(),
        }
        for v in Visit.objects.filter(subject=subject)
        .exclude(kind="screening")
        .order_by("target_date", "order", "code")
    ]


def _enrolled(protocol_id):
    """An enrolled subject: through subject_enroll where the seed's criteria need no data (000, 001,
    003), else with the enrollment dates set directly and the schedule planned by schedule_rebuild."""
    if protocol_id in ("CAM-BEV-CAP-HNSCC", "CADO-LDRT-HNSCC", "CAM-APA-NPC"):
        return subject_enroll(
            user=None, subject=_ready(protocol_id), enrollment_date=ENROLLED, planned_first_dose=FIRST_DOSE
        )
    from edc.core.services import record_update

    study = Study.objects.get(protocol_id=protocol_id)
    subject = screen_subject(study.sites.order_by("code").first())
    subject = record_update(
        subject,
        user=None,
        changes={"status": "enrolled", "enrollment_date": ENROLLED, "planned_first_dose": FIRST_DOSE},
        reason=ChangeReason("other", "test: enrolled"),
    )
    schedule_rebuild(user=None, subject=subject, reason="test")
    return subject


@pytest.mark.django_db
@pytest.mark.parametrize(
    "protocol_id", ["CAM-BEV-CAP-HNSCC", "CADO-LDRT-HNSCC", "CET-DALP-HNSCC", "CAM-APA-NPC", "CAM-CRT-HNSCC"]
)
def test_enrollment_stores_the_visits_schedule_preview_prints_for_the_same_dates(studies, protocol_id):
    subject = _enrolled(protocol_id)
    preview = [v for v in _preview(protocol_id) if v["kind"] != "screening"]
    assert _stored(subject) == preview
    assert len(preview) > 10
    assert (
        Visit.objects.filter(subject=subject)
        .exclude(kind="screening")
        .exclude(status=VisitStatus.PLANNED)
        .count()
        == 0
    )
    # The screening visit is kept as it was (done on the screening date).
    screening = Visit.objects.get(subject=subject, kind="screening")
    assert (screening.status, screening.visit_date) == (VisitStatus.DONE, dt.date(2025, 3, 1))


@pytest.mark.django_db
def test_the_schedule_is_written_in_bulk_whatever_its_length(studies):
    subject = _ready("CAM-BEV-CAP-HNSCC")
    with CaptureQueriesContext(connection) as ctx:
        enrolled = subject_enroll(
            user=None, subject=subject, enrollment_date=ENROLLED, planned_first_dose=FIRST_DOSE
        )
    created = Visit.objects.filter(subject=enrolled).exclude(kind="screening").count()
    inserts = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith('INSERT INTO "visits_')]
    # One statement for the rows and one for their history, or as many as the database's parameter
    # limit needs (SQLite: 999 parameters; PostgreSQL takes the schedule in one).
    batch = connection.ops.bulk_batch_size([f for f in Visit._meta.concrete_fields], [Visit()] * created)
    per_table = -(-created // batch)
    assert len(inserts) == 2 * per_table
    assert created == 47
    if connection.vendor == "postgresql":
        assert len(inserts) == 2
    # Enrollment with its whole schedule, in queries besides those INSERTs and the savepoints (pinned:
    # it does not grow with the visits): the enrollment lock (3), the subject read again (1), the
    # consent versions and consents (2), the signed decision (1) and its staleness (the record: 16,
    # the baseline lesions of measurable disease included), the arms (2), the identifier (3), the
    # status change with its checks and history row (9), the schedule (definitions, consent date, the
    # death form, done visits, stored visits: 5).
    others = [
        q
        for q in ctx.captured_queries
        if not q["sql"].startswith(('INSERT INTO "visits_', "SAVEPOINT", "RELEASE SAVEPOINT"))
    ]
    assert len(others) == ENROLL_QUERIES_WITHOUT_INSERTS


ENROLL_QUERIES_WITHOUT_INSERTS = 42


@pytest.mark.django_db
def test_a_re_plan_with_nothing_changed_writes_nothing(studies):
    subject = _enrolled("CET-DALP-HNSCC")
    before = (Visit.objects.count(), Visit.history.count())
    change = schedule_rebuild(user=None, subject=subject, reason="nothing changed")
    assert (change.created, change.moved, change.dropped) == ([], {}, [])
    assert (Visit.objects.count(), Visit.history.count()) == before


@pytest.mark.django_db
def test_a_re_plan_creates_only_the_missing_visits_and_reports_the_ones_it_would_move(studies):
    from edc.core.services import record_void

    subject = _enrolled("CET-DALP-HNSCC")
    cycle2 = Visit.objects.get(subject=subject, code="CYCLE2")
    record_void(cycle2, user=None, reason=ChangeReason("other", "test: lost"))
    history = Visit.history.count()
    change = schedule_rebuild(user=None, subject=subject, reason="re-plan")
    assert [v.code for v in change.created] == ["CYCLE2"]
    assert Visit.history.count() == history + 1
