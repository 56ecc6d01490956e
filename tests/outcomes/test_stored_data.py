"""The endpoints of seed 003 (CAM-APA-NPC, loaded from fixtures/) from records stored through the
services: lesions and assessments (the tumor derivation), PD-L1, subsequent therapy and death forms.
No stand-in: the readers of edc/tumors and edc/forms, as the API runs them."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from edc.core.services import record_save
from edc.forms import services as forms_services
from edc.outcomes import selectors
from edc.subjects.models import SubjectStatus
from edc.tumors import services as tumor_services
from edc.visits import selectors as visits_selectors
from edc.visits.models import Visit
from studies.models import Study
from tests.factories import SubjectFactory, UserFactory
from tests.tumors.conftest import studies  # noqa: F401  (the seed studies, loaded once per module)

pytestmark = pytest.mark.django_db
REGISTERED = dt.date(2025, 3, 10)


def _visit(subject, code: str, kind: str, day: dt.date) -> Visit:
    return record_save(
        Visit(
            study=subject.study,
            site=subject.site,
            subject=subject,
            code=code,
            name=code,
            kind=kind,
            target_date=day,
            window_start=day,
            window_end=day,
            status="done",
            visit_date=day,
        ),
        user=None,
    )


def subject_with_scans(study, identifier: str, diameters: list[int | None], cps: int | None):
    """A registered subject: a 50 mm target at baseline, then a scan every 6 weeks (mm; None: not done)."""
    subject = SubjectFactory(
        site=study.sites.order_by("code").first(),
        screening_number=f"SCR-{identifier}",
        subject_identifier=identifier,
        status=SubjectStatus.ON_TREATMENT,
        enrollment_date=REGISTERED,
        planned_first_dose=REGISTERED + dt.timedelta(days=2),
    )
    screening = _visit(subject, "SCR", "screening", REGISTERED - dt.timedelta(days=7))
    tumor_services.lesion_create(
        user=None,
        subject=subject,
        visit=screening,
        code="T1",
        category="TARGET",
        location="liver",
        organ="liver",
        nodal="N",
        method="CT",
        slice_thickness_mm=Decimal(5),
        diameter_mm=Decimal(50),
        date=REGISTERED - dt.timedelta(days=7),
    )
    for i, mm in enumerate(diameters, start=1):
        day = REGISTERED + dt.timedelta(days=42 * i)
        visit = _visit(subject, f"IMG{i}", "imaging", day)
        if mm is None:
            tumor_services.assessment_create(
                user=None, subject=subject, visit=visit, date=day, not_done_reason="not_done"
            )
            continue
        tumor_services.assessment_create(
            user=None,
            subject=subject,
            visit=visit,
            date=day,
            investigator_new_lesions="N",
            investigator_overall="SD",  # the investigator's own reading (the derived one may differ)
            measurements=[{"lesion": "T1", "target_state": "MEASURED", "diameter_mm": Decimal(mm)}],
        )
    if cps is not None:
        forms_services.biomarker_create(
            user=None,
            subject=subject,
            date=REGISTERED - dt.timedelta(days=7),
            test="PDL1",
            visit=screening,
            assay="22C3",
            pdl1_score="CPS",
            pdl1_value=Decimal(cps),
        )
    return subject


@pytest.fixture
def npc(studies):  # noqa: F811
    study = Study.objects.get(protocol_id="CAM-APA-NPC")
    # PR at week 6 confirmed at week 12, still PR at week 18: a confirmed responder, PD-L1 positive.
    r1 = subject_with_scans(study, "R-001", [25, 24, 26], cps=5)
    # PR at week 6 only, then PD at week 12 (unconfirmed: SD counts), dies; PD-L1 negative.
    r2 = subject_with_scans(study, "R-002", [25, 60], cps=0)
    forms_services.death_record(
        user=None, subject=r2, death_date=REGISTERED + dt.timedelta(days=120), cause="PD"
    )
    # SD, a new anticancer therapy after the week-12 scan; the week-18 scan is after it.
    r3 = subject_with_scans(study, "R-003", [45, 44, 43], cps=None)
    forms_services.subsequent_therapy_create(
        user=None,
        subject=r3,
        start_date=(REGISTERED + dt.timedelta(days=90)).isoformat(),
        regimen="docetaxel",
    )
    return study, {"R-001": r1, "R-002": r2, "R-003": r3}


def test_seed_003_states_its_analysis_from_the_fixture(npc):
    study, _ = npc
    rules = selectors.endpoint_rules(study)
    assert (rules.population, rules.anchor) == ("all_enrolled", "registration")
    assert rules.anchor_stated_by == ("PFS_RATE", "OS_RATE")
    assert rules.landmarks_days == (730,)
    assert rules.subgroups == ("PDL1",)
    assert rules.confirmation_required is True
    assert rules.problems == ()


@pytest.mark.parametrize(
    ("protocol", "anchor", "landmarks", "subgroups"),
    [
        ("CAM-BEV-CAP-HNSCC", "first_dose", (), ()),
        ("CADO-LDRT-HNSCC", "enrollment", (), ()),
        ("CET-DALP-HNSCC", "first_dose", (), ()),  # no endpoints stated: our default, said so
        ("CAM-CRT-HNSCC", "first_dose", (), ()),
    ],
)
def test_every_seed_states_its_anchor(studies, protocol, anchor, landmarks, subgroups):  # noqa: F811
    rules = selectors.endpoint_rules(Study.objects.get(protocol_id=protocol))
    assert (rules.anchor, rules.landmarks_days, rules.subgroups) == (anchor, landmarks, subgroups)
    assert rules.population == "all_enrolled"
    assert bool(rules.anchor_stated_by) == (protocol in ("CAM-BEV-CAP-HNSCC", "CADO-LDRT-HNSCC"))


def test_the_rows_come_from_the_stored_records(npc):
    study, _subjects = npc
    rows = {row["id"]: row for row in selectors.study_endpoints_case(study).raw["subjects"]}
    day = lambda n: (REGISTERED + dt.timedelta(days=n)).isoformat()  # noqa: E731
    assert rows["R-001"] | {"last_known_alive_date": None} == {
        "id": "R-001",
        "in_analysis_set": True,
        "anchor_date": REGISTERED.isoformat(),
        "best_response": "PR",
        "first_response_date": day(42),
        "progression_date": None,
        "death_date": None,
        "new_anticancer_therapy_date": None,
        "last_adequate_assessment_date": day(126),
        "last_known_alive_date": None,
        "subgroups": {"PDL1": "positive"},
    }
    assert rows["R-002"]["best_response"] == "SD"  # the PR was never confirmed
    assert (rows["R-002"]["progression_date"], rows["R-002"]["death_date"]) == (day(84), day(120))
    assert rows["R-002"]["subgroups"] == {"PDL1": "negative"}
    assert rows["R-003"]["new_anticancer_therapy_date"] == day(90)
    assert rows["R-003"]["last_adequate_assessment_date"] == day(84)  # not the week-18 scan after it
    assert rows["R-003"]["subgroups"] == {}


def test_the_dose_dates_read_in_bulk_equal_the_visits_selectors(npc):
    _, subjects = npc
    bulk = selectors._dose_dates(list(subjects.values()))
    for subject in subjects.values():
        assert bulk[subject.pk] == (
            visits_selectors.first_dose_date(subject),
            visits_selectors.last_dose_date(subject),
        )


def test_the_api_serves_endpoints_evaluate_on_the_stored_case(npc, client_for, tmp_path):
    study, _ = npc
    client = client_for(UserFactory(username="npc_root", is_superuser=True))
    answer = client.get(f"/api/studies/{study.pk}/endpoints/").json()
    path = tmp_path / "npc.json"
    path.write_text(json.dumps({"cases": [answer["case"]]}), encoding="utf-8")
    out = StringIO()
    call_command("endpoints_evaluate", str(path), stdout=out)
    assert json.loads(out.getvalue()) == {"CAM-APA-NPC": answer["result"]}
    assert answer["counted"]["orr"]["responders"] == ["R-001"]
    assert answer["counted"]["pfs"] == {"events": ["R-002"], "censored": ["R-001", "R-003"]}
    assert answer["counted"]["os"]["events"] == ["R-002"]
    assert answer["counted"]["orr_by_subgroup"]["PDL1"] == {
        "negative": {"n": ["R-002"], "responders": []},
        "positive": {"n": ["R-001"], "responders": ["R-001"]},
    }
    assert set(answer["result"]["pfs"]["landmarks"]) == {"730"}


def test_on_stored_data_the_endpoints_and_plots_use_a_pinned_number_of_queries(
    npc, client_for, django_assert_num_queries
):
    study, _ = npc
    client = client_for(UserFactory(username="npc_monitor2", is_superuser=True))
    # study, endpoints, subjects, first doses, last doses; tumor facts 2, survival facts 6, PD-L1 1.
    with django_assert_num_queries(QUERIES):
        assert client.get(f"/api/studies/{study.pk}/endpoints/").status_code == 200
    for kind in selectors.PLOT_KINDS:
        with django_assert_num_queries(QUERIES):
            assert client.get(f"/api/studies/{study.pk}/plots/{kind}.png").status_code == 200
    subject_with_scans(study, "R-004", [40], cps=3)
    subject_with_scans(study, "R-005", [None, 70], cps=None)
    with django_assert_num_queries(QUERIES):
        assert client.get(f"/api/studies/{study.pk}/endpoints/").status_code == 200


QUERIES = 14
