"""Numbers under concurrent requests, on PostgreSQL with real connections: 20 threads, each its own
connection and transaction, screen (or enroll) at once; every one gets its own number, and the
numbers are consecutive. SQLite serialises writers with a database lock instead of row locks
(concurrent writers there fail with "database is locked"), so these tests run on PostgreSQL only.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from edc.subjects import services
from edc.subjects.models import Subject
from tests.subjects.conftest import ENROLLED_ON, FIRST_DOSE, eligible_subject

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locks need PostgreSQL (SQLite locks the whole database)",
    ),
]

THREADS = 20


def _race(work, items):
    """Run `work(item)` in one thread per item, all released at once; return results and errors."""
    barrier = threading.Barrier(len(items))
    results, errors = [], []

    def run(item):
        from django.db import connection as own

        try:
            barrier.wait()
            results.append(work(item))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            own.close()

    threads = [threading.Thread(target=run, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def test_twenty_parallel_screenings_draw_twenty_distinct_consecutive_numbers(trial):
    def screen(_):
        return services.subject_screen(
            user=None, study=trial.study, site=trial.site_a, sex="F", birth_date="1970"
        ).screening_number

    numbers, errors = _race(screen, range(THREADS))
    assert errors == []
    assert sorted(numbers) == [f"01-S{n:04d}" for n in range(1, THREADS + 1)]
    assert Subject.objects.count() == THREADS


def test_twenty_parallel_enrollments_at_one_site_get_twenty_distinct_consecutive_identifiers(trial):
    subjects = [eligible_subject(trial.site_a) for _ in range(THREADS)]

    def enroll(subject):
        return services.subject_enroll(
            user=None, subject=subject, enrollment_date=ENROLLED_ON, planned_first_dose=FIRST_DOSE
        ).subject_identifier

    identifiers, errors = _race(enroll, subjects)
    assert errors == []
    assert sorted(identifiers) == [f"01-{n:04d}" for n in range(1, THREADS + 1)]


def test_parallel_enrollments_never_pass_the_target(trial):
    trial.study.target_enrollment = 5
    trial.study.save()
    subjects = [eligible_subject(trial.site_a) for _ in range(12)]

    def enroll(subject):
        return services.subject_enroll(
            user=None, subject=subject, enrollment_date=ENROLLED_ON, planned_first_dose=FIRST_DOSE
        ).subject_identifier

    identifiers, errors = _race(enroll, subjects)
    assert sorted(identifiers) == [f"01-{n:04d}" for n in range(1, 6)]
    assert len(errors) == 7
    assert all("target enrollment of 5" in str(error) for error in errors)
