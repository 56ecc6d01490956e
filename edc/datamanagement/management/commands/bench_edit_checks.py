"""`python manage.py bench_edit_checks --subjects 10000 [--json]`: time a full bulk edit-check run.

Builds a throw-away study (rolled back at the end, nothing stays): N consented subjects, each with a
screening visit, two treatment visits (one done outside its window for every tenth subject, one
before consent for every fiftieth) and a vital-signs form; then runs every edit check over the study
and counts the SQL queries. Prints the seconds of the run, the queries per subject (the run's queries
divided by the subjects: it falls as the study grows, since every rule costs a fixed number of
queries whatever the number of subjects) and the queries raised; `on_save_queries` is the cost of the
on-save run for one subject.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from edc.consent.models import ConsentVersion, SignedConsent
from edc.core.services import record_bulk_create
from edc.datamanagement.services import edit_checks_run, edit_checks_run_for
from edc.forms.models import VitalSigns
from edc.subjects.models import Subject
from edc.visits.models import Visit, VisitStatus
from studies.models import Site, Study


class _Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Benchmark a full bulk edit-check run on a generated study (rolled back afterwards)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--subjects", type=int, default=1000)
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        n = options["subjects"]
        if n < 1:
            from django.core.management.base import CommandError

            raise CommandError("--subjects: give a positive number.")
        result: dict[str, Any] = {}
        try:
            with transaction.atomic():
                study = self._world(n)
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    run = edit_checks_run(study=study)
                    seconds = time.perf_counter() - started
                one = Subject.objects.filter(study=study).order_by("screening_number").first()
                visit = Visit.objects.filter(subject=one).exclude(kind="screening").first()
                with CaptureQueriesContext(connection) as on_save:
                    edit_checks_run_for(visit)
                result = {
                    "subjects": n,
                    "seconds": round(seconds, 2),
                    "queries_per_subject": round(len(captured.captured_queries) / n, 4),
                    "queries_raised": run.raised,
                    "sql_queries": len(captured.captured_queries),
                    "on_save_queries": len(on_save.captured_queries),
                    "sql_seconds": round(sum(float(q["time"]) for q in captured.captured_queries), 2),
                }
                if options["verbosity"] > 1:
                    slow = sorted(captured.captured_queries, key=lambda q: -float(q["time"]))[:3]
                    for query in slow:
                        self.stderr.write(f"{query['time']} {query['sql'][:300]}")
                raise _Rollback
        except _Rollback:
            pass
        if options["json"]:
            self.stdout.write(json.dumps(result))
        else:
            self.stdout.write(
                "{subjects} subjects: {seconds} s, {sql_queries} SQL queries "
                "({queries_per_subject} per subject), "
                "{queries_raised} queries raised; on save {on_save_queries} SQL queries".format(**result)
            )

    def _world(self, n: int) -> Study:
        stamp = f"{time.time_ns()}"[-8:]
        study = Study.objects.create(
            protocol_id=f"BENCH-EC-{stamp}", title="Edit-check benchmark", short_title="bench"
        )
        sites = [
            Site.objects.create(study=study, code=f"B{i}", name=f"Bench {i}", time_zone="UTC")
            for i in range(4)
        ]
        version = ConsentVersion.objects.create(
            study=study, version="1.0", language="en", effective_from=dt.date(2020, 1, 1)
        )
        day = dt.date(2025, 3, 1)
        subjects = record_bulk_create(
            [
                Subject(
                    study=study,
                    site=sites[i % 4],
                    screening_number=f"B-{i:06d}",
                    sex="F" if i % 2 else "M",
                    birth_date="1970",
                    screening_date=day,
                )
                for i in range(n)
            ],
            user=None,
            batch_size=2000,
        )
        signed = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)
        record_bulk_create(
            [
                SignedConsent(
                    study=study,
                    site=s.site,
                    subject=s,
                    consent_version=version,
                    signed_at=signed,
                    obtained_by="Dr B",
                )
                for s in subjects
            ],
            user=None,
            batch_size=2000,
        )
        visits = []
        for i, s in enumerate(subjects):
            visits.append(
                Visit(
                    study=study,
                    site=s.site,
                    subject=s,
                    code="SCR",
                    name="Screening",
                    kind="screening",
                    target_date=day,
                    status=VisitStatus.DONE,
                    visit_date=day,
                )
            )
            late = i % 10 == 0
            early = i % 50 == 1
            for code, offset in (("C1D1", 14), ("C2D1", 35)):
                target = day + dt.timedelta(days=offset)
                done = target + dt.timedelta(days=9 if late and code == "C2D1" else 0)
                if early and code == "C1D1":
                    done = day - dt.timedelta(days=3)
                    target = done
                visits.append(
                    Visit(
                        study=study,
                        site=s.site,
                        subject=s,
                        code=code,
                        name=code,
                        kind="treatment",
                        target_date=target,
                        window_start=target - dt.timedelta(days=3),
                        window_end=target + dt.timedelta(days=3),
                        status=VisitStatus.DONE,
                        visit_date=done,
                    )
                )
        visits = record_bulk_create(visits, user=None, batch_size=2000)
        record_bulk_create(
            [
                VitalSigns(
                    study=study,
                    site=v.site,
                    subject=v.subject,
                    visit=v,
                    date=v.visit_date or day,
                    weight_kg=70,
                )
                for v in visits
                if v.code == "SCR"
            ],
            user=None,
            batch_size=2000,
        )
        return study
