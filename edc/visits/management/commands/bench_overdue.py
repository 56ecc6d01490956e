"""Benchmark of enrollment with its schedule and of the overdue report:

    manage.py bench_overdue --subjects N [--sites 50] [--reuse] [--json]

Builds N enrolled subjects of seed 000 (CAM-BEV-CAP-HNSCC) across the sites, each with its whole
schedule from the same engine and the same Visit rows `schedule_rebuild` writes, first doses spread
over the past two years; of the visits whose window has closed 85 % are done, 10 % missed and 5 %
left open (overdue). The bulk of the world is written through the core write path's bulk helper
(`record_bulk_create`: rows and history rows, in batches) rather than one service call per subject,
so 10,000 subjects build in minutes; then it measures, through the real services:

- enrolling one more subject with its whole schedule (`subject_enroll`, after `subject_screen`,
  `consent_sign` and `eligibility_decide`): median time and query count of 7;
- the overdue report (edc/visits/reports.py, every row, each site's today): median of 7;
- the minimal raw SQL returning the same rows: median of 7.

`--reuse` keeps a world already built in this database (same study and size). The study's target
enrollment is lifted in the bench database (the seed states none anyway).
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import random
import statistics
import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from edc.consent import services as consent_services
from edc.consent.models import ConsentVersion
from edc.core.services import record_bulk_create
from edc.eligibility.services import eligibility_decide
from edc.subjects import services as subject_services
from edc.subjects.models import Subject
from edc.visits import reports, schedule
from edc.visits.models import Visit, VisitStatus
from edc.visits.selectors import study_schedule_params, study_visit_specs
from edc.visits.services import _new_visit
from studies.models import Site, Study

PROTOCOL = "CAM-BEV-CAP-HNSCC"
PREFIX = "BENCH"
BATCH = 20_000
RUNS = 7

RAW_SQL = """
SELECT v.id, st.protocol_id, s.code, s.time_zone, v.subject_id, sub.subject_identifier,
       sub.screening_number, v.code, v.name, v.kind, v.target_date, v.window_start, v.window_end
FROM visits_visit v
JOIN studies_site s ON s.id = v.site_id
JOIN studies_study st ON st.id = v.study_id
JOIN subjects_subject sub ON sub.id = v.subject_id
WHERE v.status = 'planned' AND v.voided_at IS NULL AND v.study_id = %s AND v.window_end < %s
ORDER BY v.window_end, v.site_id, v.subject_id, v.code
"""


class Command(BaseCommand):
    help = "Benchmark enrollment with its schedule and the overdue-visit report."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--subjects", type=int, required=True, help="Subjects to build.")
        parser.add_argument("--sites", type=int, default=50, help="Sites to spread them over (default 50).")
        parser.add_argument("--reuse", action="store_true", help="Keep a world already built.")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args: Any, **options: Any) -> None:
        n, n_sites = options["subjects"], options["sites"]
        if n < 1:
            raise CommandError("--subjects: at least 1")
        if not 1 <= n_sites <= 999:
            raise CommandError("--sites: between 1 and 999")
        if not Study.objects.filter(protocol_id=PROTOCOL).exists():
            call_command("load_studies", stdout=open("/dev/null", "w"))  # noqa: SIM115
        study = Study.objects.get(protocol_id=PROTOCOL)
        if study.target_enrollment is not None:
            Study.objects.filter(pk=study.pk).update(target_enrollment=None)
            study.refresh_from_db()
        sites = self._sites(study, n_sites)
        built = Subject.objects.filter(study=study, screening_number__startswith=PREFIX).count()
        t0 = time.perf_counter()
        if not (options["reuse"] and built >= n):
            self._build(study, sites, n, start=built)
        build_s = time.perf_counter() - t0
        # Measured as the server runs: edc/wsgi.py freezes the loaded code out of the garbage
        # collector's sight, so a full collection does not walk it (without this, one in two report
        # runs paid ~100 ms of collection over this process's heap).
        gc.collect()
        gc.freeze()
        enroll_ms, enroll_queries = self._enroll(study, sites)
        report_ms, raw_ms, rows = self._report(study)
        result = {
            "subjects": Subject.objects.filter(study=study).count(),
            "visits": Visit.objects.filter(study=study).count(),
            "enroll_ms_median": round(enroll_ms, 2),
            "enroll_queries": enroll_queries,
            "report_ms_median": round(report_ms, 2),
            "raw_sql_ms_median": round(raw_ms, 2),
            "report_rows": rows,
        }
        if options["json"]:
            self.stdout.write(json.dumps(result))
            return
        for key, value in result.items():
            self.stdout.write(f"{key:20} {value}")
        self.stdout.write(f"{'ratio':20} {report_ms / raw_ms if raw_ms else float('nan'):.2f}")
        self.stdout.write(f"{'build_s':20} {build_s:.1f}")

    def _sites(self, study: Study, n_sites: int) -> list[Site]:
        have = {s.code: s for s in Site.objects.filter(study=study, code__startswith="B")}
        zones = ["Asia/Shanghai", "Asia/Urumqi", "Asia/Tokyo", "Europe/London", "America/Lima"]
        for i in range(n_sites):
            code = f"B{i:03d}"
            if code not in have:
                have[code] = Site.objects.create(
                    study=study, code=code, name=f"Bench site {i}", time_zone=zones[i % len(zones)]
                )
        return [have[f"B{i:03d}"] for i in range(n_sites)]

    def _build(self, study: Study, sites: list[Site], n: int, *, start: int) -> None:
        rng = random.Random(18)
        rows = list(study.visit_definitions.select_related("phase"))
        specs = study_visit_specs(study, rows=rows)
        by_code = {row.code: row for row in rows}
        params = study_schedule_params(study)
        arm = study.arms.order_by("code").first()
        today = timezone.now().date()
        plans: dict[dt.date, list[schedule.PlannedVisit]] = {}
        for first in range(start, n, 2000):
            chunk = range(first, min(n, first + 2000))
            with transaction.atomic():
                subjects = []
                for i in chunk:
                    dose = today - dt.timedelta(days=rng.randint(0, 730))
                    site = sites[i % len(sites)]
                    subjects.append(
                        Subject(
                            study=study,
                            site=site,
                            screening_number=f"{PREFIX}-{i:06d}",
                            subject_identifier=f"{PROTOCOL}-{site.code}-{i:06d}",
                            status="enrolled",
                            sex="F" if i % 2 else "M",
                            birth_date="1960",
                            screening_date=dose - dt.timedelta(days=14),
                            enrollment_date=dose - dt.timedelta(days=5),
                            planned_first_dose=dose,
                            arm=arm,
                        )
                    )
                subjects = record_bulk_create(subjects, user=None, batch_size=BATCH)
                visits: list[Visit] = []
                for subject in subjects:
                    assert subject.planned_first_dose is not None  # every bench subject has one
                    dose = subject.planned_first_dose
                    if dose not in plans:
                        dates = schedule.SubjectDates(
                            consent=subject.screening_date,
                            enrollment=subject.enrollment_date,
                            first_dose=dose,
                        )
                        plans[dose] = schedule.plan(specs, dates, params)
                    for planned in plans[dose]:
                        visit = _new_visit(subject, planned, by_code.get(planned.definition))
                        if planned.window_end < today:
                            roll = rng.random()
                            if roll < 0.85:
                                visit.status, visit.visit_date = VisitStatus.DONE, planned.target
                            elif roll < 0.95:
                                visit.status, visit.missed_reason = VisitStatus.MISSED, "bench: missed"
                        visits.append(visit)
                record_bulk_create(visits, user=None, batch_size=BATCH)

    def _enroll(self, study: Study, sites: list[Site]) -> tuple[float, int]:
        version = ConsentVersion.objects.filter(study=study).order_by("-effective_from").first()
        times, queries = [], []
        stamp = timezone.now().strftime("%H%M%S")
        for k in range(RUNS):
            site = sites[k % len(sites)]
            today = site.today()  # each site's own date: the sites span time zones
            subject = subject_services.subject_screen(
                user=None, study=study, site=site, sex="F", birth_date="1965", screening_date=today
            )
            if version is not None:
                consent_services.consent_sign(
                    user=None, subject=subject, version=version, signed_at=timezone.now(), obtained_by=stamp
                )
            eligibility_decide(user=None, subject=subject, as_of=today, confirm_unstructured=True)
            with CaptureQueriesContext(connection) as ctx:
                t0 = time.perf_counter()
                subject_services.subject_enroll(
                    user=None, subject=subject, enrollment_date=today, planned_first_dose=today
                )
                times.append((time.perf_counter() - t0) * 1000)
            queries.append(len(ctx.captured_queries))
        return statistics.median(times), int(statistics.median(queries))

    def _report(self, study: Study) -> tuple[float, float, int]:
        filters = reports.ReportFilters(study=study)
        times, raw = [], []
        rows: list[Any] = []
        for _ in range(RUNS):
            t0 = time.perf_counter()
            rows, _more = reports.overdue_visits(None, filters)
            times.append((time.perf_counter() - t0) * 1000)
        day = Site.objects.filter(study=study).first().today()  # type: ignore[union-attr]
        for _ in range(RUNS):
            t0 = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(RAW_SQL, [study.pk, day])
                cursor.fetchall()
            raw.append((time.perf_counter() - t0) * 1000)
        return statistics.median(times), statistics.median(raw), len(rows)
