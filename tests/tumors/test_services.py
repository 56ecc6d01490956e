"""The tumour services: judged by the engine at entry, the derivation kept true with history when a
measurement is corrected, the investigator's response beside the derived one, the study facts (seed
000's baseline window, seed 001's irradiated targets, seed 002's measurable disease)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from edc.core.services import ChangeReason
from edc.tumors import services
from edc.tumors.models import LesionMeasurement, TumorAssessment
from edc.tumors.selectors import response_facts
from tests.tumors.casestore import store_case
from tests.tumors.conftest import FIRST_DOSE, enrolled, imaging_visits
from tests.tumors.test_stored_path import recist_case

pytestmark = pytest.mark.django_db

BASELINE = dt.date(2025, 3, 1)


def target(subject, code, organ="liver", mm=20, nodal="N", **extra):
    return services.lesion_create(
        user=None,
        subject=subject,
        code=code,
        category="TARGET",
        location=f"{organ} {code}",
        organ=organ,
        nodal=nodal,
        method=extra.pop("method", "CT"),
        slice_thickness_mm=extra.pop("slice_thickness_mm", Decimal(5)),
        diameter_mm=Decimal(mm),
        date=extra.pop("date", BASELINE),
        **extra,
    )


def assess(subject, visit, mm, **extra):
    return services.assessment_create(
        user=None,
        subject=subject,
        visit=visit,
        date=visit.target_date,
        investigator_overall=extra.pop("overall", "SD"),
        investigator_new_lesions="N",
        measurements=[{"lesion": "T1", "target_state": "MEASURED", "diameter_mm": Decimal(mm)}],
        **extra,
    )


def errors(exc_info):
    return exc_info.value.message_dict


# --- entry checks ---------------------------------------------------------------------------------


def test_a_target_too_small_to_measure_is_refused_naming_its_diameter(studies):
    subject = enrolled()
    with pytest.raises(ValidationError) as exc:
        target(subject, "T1", mm=9)
    assert "not measurable" in errors(exc)["diameter_mm"][0]


def test_a_thick_slice_raises_the_minimum_to_twice_the_slice(studies):
    subject = enrolled()
    with pytest.raises(ValidationError):
        target(subject, "T1", mm=15, slice_thickness_mm=Decimal(8))
    assert target(subject, "T1", mm=16, slice_thickness_mm=Decimal(8)).measurability == "measurable"


def test_a_nodal_target_needs_a_short_axis_of_15_mm_and_a_small_node_is_no_lesion(studies):
    subject = enrolled()
    with pytest.raises(ValidationError):
        target(subject, "T1", organ="lymph node", mm=14, nodal="Y")
    with pytest.raises(ValidationError) as exc:
        services.lesion_create(
            user=None,
            subject=subject,
            code="NT1",
            category="NONTARGET",
            location="neck",
            organ="lymph node",
            nodal="Y",
            method="CT",
            diameter_mm=Decimal(8),
            date=BASELINE,
        )
    assert "non-pathological" in errors(exc)["diameter_mm"][0]


def test_at_most_two_targets_per_organ_all_nodes_counting_as_one_organ(studies):
    subject = enrolled()
    target(subject, "T1", organ="neck node", nodal="Y", mm=20)
    target(subject, "T2", organ="axillary node", nodal="Y", mm=18)
    with pytest.raises(ValidationError) as exc:
        target(subject, "T3", organ="mediastinal node", nodal="Y", mm=16)
    assert "lymph_node" in errors(exc)["category"][0]


def test_at_most_five_targets(studies):
    subject = enrolled()
    for i, organ in enumerate(["liver", "lung", "kidney", "spleen", "adrenal"], start=1):
        target(subject, f"T{i}", organ=organ)
    with pytest.raises(ValidationError) as exc:
        target(subject, "T6", organ="pancreas")
    assert "at most 5" in errors(exc)["category"][0]


def test_seed_000_baseline_scan_must_be_within_28_days_before_the_first_dose(studies):
    subject = enrolled()  # first dose 2025-03-15
    with pytest.raises(ValidationError) as exc:
        target(subject, "T1", date=FIRST_DOSE - dt.timedelta(days=29))
    assert "within 28 days before the first dose" in errors(exc)["date"][0]
    assert target(subject, "T1", date=FIRST_DOSE - dt.timedelta(days=28)).code == "T1"
    with pytest.raises(ValidationError):
        target(subject, "T2", organ="lung", date=FIRST_DOSE + dt.timedelta(days=1))


def test_a_lesion_code_is_unique_per_subject_and_fixed_once_measured(studies):
    subject = enrolled()
    lesion = target(subject, "t1")
    assert lesion.code == "T1"
    with pytest.raises(ValidationError):
        target(subject, "T1", organ="lung")
    assess(subject, imaging_visits(subject)[0], 18)
    with pytest.raises(ValidationError) as exc:
        services.lesion_update(user=None, lesion=lesion, reason=ChangeReason("other", "rename"), code="T9")
    assert "code" in errors(exc)


def test_an_assessment_needs_the_baseline_first_and_a_scan_after_it(studies):
    subject = enrolled()
    visit = imaging_visits(subject)[0]
    with pytest.raises(ValidationError) as exc:
        assess(subject, visit, 10)
    assert "subject" in errors(exc)
    target(subject, "T1")
    with pytest.raises(ValidationError) as exc:
        services.assessment_create(
            user=None,
            subject=subject,
            visit=visit,
            date=BASELINE,
            investigator_overall="SD",
            investigator_new_lesions="N",
        )
    assert "date" in errors(exc)


def test_a_measurement_error_is_located_in_the_list_and_nothing_is_written(studies):
    subject = enrolled()
    target(subject, "T1")
    with pytest.raises(ValidationError) as exc:
        services.assessment_create(
            user=None,
            subject=subject,
            visit=imaging_visits(subject)[0],
            date=imaging_visits(subject)[0].target_date,
            investigator_overall="SD",
            investigator_new_lesions="N",
            measurements=[{"lesion": "T1", "target_state": "MEASURED"}],
        )
    assert "measurements[0].diameter_mm" in errors(exc)
    assert not TumorAssessment.objects.filter(subject=subject).exists()


# --- derivation kept true -----------------------------------------------------------------------


def test_a_corrected_measurement_recomputes_every_later_response_with_history(studies):
    subject = enrolled()
    target(subject, "T1", mm=40)
    visits = imaging_visits(subject)
    first = assess(subject, visits[0], 20)  # PR (-50 %), nadir 20
    second = assess(subject, visits[1], 26)  # +6 mm and +30 % over the nadir: PD
    third = assess(subject, visits[2], 26)  # after the first PD: no RECIST response
    assert [a.overall_response for a in (first, second)] == ["PR", "PD"]
    third.refresh_from_db()
    assert third.after_progression
    versions = {a.pk: a.version for a in TumorAssessment.objects.filter(subject=subject)}

    row = LesionMeasurement.objects.get(assessment=first)
    services.measurement_update(
        user=None,
        measurement=row,
        reason=ChangeReason("transcription_error", "20 read as 30"),
        diameter_mm=Decimal(30),
    )
    stored = {a.pk: a for a in TumorAssessment.objects.filter(subject=subject)}
    # The first is now SD (-25 %, nadir 30): 26 mm is no progression but -35 % from baseline, PR.
    assert [stored[a.pk].overall_response for a in (first, second, third)] == ["SD", "PR", "PR"]
    assert stored[first.pk].pct_change_from_baseline == Decimal("-25.0")
    assert not stored[third.pk].after_progression
    for a in (first, second, third):
        assert stored[a.pk].version == versions[a.pk] + 1
        latest = stored[a.pk].history.order_by("-history_date").first()
        assert "T1 at" in latest.history_change_reason and "20 read as 30" in latest.history_change_reason
    facts = response_facts([subject.pk])[subject.pk]
    assert (facts.progression_date, facts.best_response_unconfirmed) == (None, "PR")


def test_voiding_an_assessment_recomputes_the_later_ones(studies):
    subject = enrolled()
    target(subject, "T1", mm=40)
    visits = imaging_visits(subject)
    first = assess(subject, visits[0], 20)
    second = assess(subject, visits[1], 26)
    services.assessment_void(user=None, assessment=first, reason=ChangeReason("other", "wrong patient"))
    second.refresh_from_db()
    # Alone, 26 mm is -35 % from the 40 mm baseline (PR), no longer +30 % over a 20 mm nadir (PD).
    assert (second.overall_response, second.nadir_before_mm) == ("PR", Decimal("40.0"))


def test_the_investigators_response_beside_the_derived_one_is_flagged_when_they_differ(studies):
    subject = enrolled()
    target(subject, "T1", mm=40)
    visits = imaging_visits(subject)
    agreed = assess(subject, visits[0], 20, overall="PR")
    differs = assess(subject, visits[1], 20, overall="CR")
    assert not agreed.response_mismatch
    assert differs.response_mismatch
    assert differs.mismatch_detail == "overall: investigator CR, derived PR"


def test_an_equivocal_lesion_confirmed_later_moves_the_progression_date_back(studies):
    case = recist_case("EQ", [("SD", "NON_CR_NON_PD", "equivocal"), ("SD", "NON_CR_NON_PD", True)])
    subject = store_case(case)
    facts = response_facts([subject.pk])[subject.pk]
    assert facts.progression_date == dt.date.fromisoformat(case["follow_ups"][0]["date"])


def test_another_new_lesion_does_not_date_back_an_unconfirmed_equivocal_one(studies):
    case = recist_case("EQ2", [("SD", "NON_CR_NON_PD", "equivocal"), ("SD", "NON_CR_NON_PD", False)])
    subject = store_case(case)
    second = TumorAssessment.objects.filter(subject=subject).order_by("date").last()
    n2 = services.lesion_create(
        user=None,
        subject=subject,
        visit=second.visit,
        code="N2",
        category="NEW",
        location="lung",
        organ="lung",
        nodal="N",
        method="CT",
        new_measurable="N",
        date=second.date,
    )
    row = LesionMeasurement.objects.get(assessment=second, lesion__code="N1")
    services.measurement_update(
        user=None, measurement=row, reason=ChangeReason("other", "still equivocal"), state="EQUIVOCAL"
    )
    services.measurement_create(user=None, assessment=second, lesion=n2, state="PRESENT")
    first, second = TumorAssessment.objects.filter(subject=subject).order_by("date")
    assert (first.overall_response, first.new_lesions) == ("SD", "EQUIVOCAL")
    assert second.overall_response == "PD"


def test_response_facts_reads_the_stored_derivation_in_two_queries(studies, django_assert_num_queries):
    subjects = [
        store_case(recist_case(f"F{i}", [("PR", "NON_CR_NON_PD", False), ("PR", "NON_CR_NON_PD", False)]))
        for i in range(3)
    ]
    with django_assert_num_queries(2):
        facts = response_facts([s.pk for s in subjects])
    one = facts[subjects[0].pk]
    assert (one.best_response, one.best_response_unconfirmed) == ("PR", "PR")
    assert one.first_response_date == dt.date(2024, 2, 19)
    assert one.baseline_sum_mm == Decimal(50)
    assert one.best_pct_change == Decimal("-32.0")
    assert [t.overall_response for t in one.timepoints] == ["PR", "PR"]


def test_a_single_unconfirmed_response_is_no_response_where_the_study_counts_confirmed_ones(studies):
    subject = store_case(recist_case("U", [("PR", "NON_CR_NON_PD", False), ("SD", "NON_CR_NON_PD", False)]))
    facts = response_facts([subject.pk])[subject.pk]
    assert (facts.best_response, facts.best_response_unconfirmed, facts.first_response_date) == (
        "SD",
        "PR",
        None,
    )


# --- iRECIST: treatment beyond iUPD -----------------------------------------------------------------


def test_treatment_beyond_iupd_needs_its_date_and_reason_and_an_iupd(studies):
    subject = enrolled()  # seed 000: iRECIST as exploratory output
    target(subject, "T1", mm=40)
    visits = imaging_visits(subject)
    with pytest.raises(ValidationError) as exc:
        assess(subject, visits[0], 50, beyond_iupd="Y")
    assert {"beyond_iupd_date", "beyond_iupd_reason"} <= set(errors(exc))
    with pytest.raises(ValidationError) as exc:
        assess(
            subject,
            visits[0],
            38,
            beyond_iupd="Y",
            beyond_iupd_date=visits[0].target_date,
            beyond_iupd_reason="clinically well",
        )
    assert "beyond_iupd" in errors(exc)
    progressed = assess(
        subject,
        visits[0],
        50,
        overall="PD",
        beyond_iupd="Y",
        beyond_iupd_date=visits[0].target_date,
        beyond_iupd_reason="clinically stable, suspected pseudo-progression",
    )
    assert (progressed.overall_response, progressed.irecist_response) == ("PD", "iUPD")
    later = assess(subject, visits[1], 30)
    assert later.after_progression and later.irecist_response == "iSD"  # -25 %: the bar is reset
    assert later.sum_mm == Decimal("30.0")  # still read by iRECIST after RECIST progression


def test_a_study_without_irecist_stores_no_irecist_response(studies):
    from studies.models import Study

    subject = store_case(recist_case("NOI", [("PR", "NON_CR_NON_PD", False)]))
    assert TumorAssessment.objects.get(subject=subject).irecist_response == "iPR"
    Study.objects.filter(pk=subject.study_id).update(response_criteria=["RECIST1.1"])
    subject.study.refresh_from_db()
    services.subject_response_derive(user=None, subject=subject, trigger="criteria changed")
    assert TumorAssessment.objects.get(subject=subject).irecist_response == ""


# --- seed 001: irradiated lesions as targets, per-subset response --------------------------------


def test_seed_001_an_irradiated_lesion_is_a_target_and_counts_with_a_per_subset_response(studies):
    subject = enrolled("CADO-LDRT-HNSCC")
    target(subject, "T1", organ="neck node", nodal="Y", mm=30, on_study_irradiation="LOWDOSE")
    target(subject, "T2", organ="lung", mm=30)
    visit = imaging_visits(subject)[0]
    a = services.assessment_create(
        user=None,
        subject=subject,
        visit=visit,
        date=visit.target_date,
        investigator_overall="SD",
        investigator_new_lesions="N",
        measurements=[
            {"lesion": "T1", "target_state": "MEASURED", "diameter_mm": Decimal(9)},
            {"lesion": "T2", "target_state": "MEASURED", "diameter_mm": Decimal(30)},
        ],
    )
    # All lesions count: 39 of 60 mm (-35 %) is PR; apart, the irradiated node is CR, the rest SD.
    assert a.overall_response == "PR"
    assert a.subset_responses == {"irradiated": "CR", "non_irradiated": "SD"}


# --- seed 002: measurable disease read from the baseline lesions -----------------------------------


def test_seed_002_measurable_disease_is_read_from_the_baseline_lesions(studies):
    from edc.eligibility.selectors import screening_record
    from studies.models import Study
    from tests.factories import screen_subject

    study = Study.objects.get(protocol_id="CET-DALP-HNSCC")
    subject = screen_subject(study.sites.order_by("code").first())
    assert screening_record(subject, FIRST_DOSE).disease is None
    services.lesion_create(
        user=None,
        subject=subject,
        code="NT1",
        category="NONTARGET",
        location="pleura",
        organ="pleura",
        nodal="N",
        method="CT",
        nature="pleural_effusion",
        date=BASELINE,
    )
    assert screening_record(subject, FIRST_DOSE).disease.measurable is False
    target(subject, "T1", organ="lung", mm=12)
    assert screening_record(subject, FIRST_DOSE).disease.measurable is True


def test_seed_000_first_complete_response_finds_the_maintenance_phase(studies):
    subject = enrolled()
    assert services._phase_entered_on_cr(subject) == "MAINT"
    target(subject, "T1", mm=40)
    visit = imaging_visits(subject)[0]
    # Enrolled, not yet on treatment: the switch is not asked for (the visits service would refuse).
    a = assess(subject, visit, 0, overall="CR")
    assert a.overall_response == "CR"
    assert services.maintenance_after_complete_response(user=None, subject=subject, assessment=a) is False


def test_a_study_without_a_phase_entered_on_cr_asks_for_no_switch(studies):
    subject = enrolled("CADO-LDRT-HNSCC")
    assert services._phase_entered_on_cr(subject) is None
