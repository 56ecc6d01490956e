"""The AE record through its services: the grade among the term's grades, the collection period, the
record's consistency (grade 5, resolution), attribution and action per agent received, the grade
history, SUSAR, treatment-emergent against a baseline sign."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from edc.core.models import ReasonCode
from edc.core.services import ChangeReason
from edc.safety import services
from edc.safety.models import AeAttribution, AeGrade
from edc.safety.services import AttributionIn, GradeIn
from tests.safety.conftest import CONSENTED_AT, FIRST_DOSE, SEED000_AGENTS, term, unrelated

DAY3 = FIRST_DOSE + dt.timedelta(days=3)
REASON = ChangeReason(ReasonCode.SOURCE_UPDATED, "follow-up visit")


def create(world, subject, name="Nausea", **values):
    values.setdefault("onset", DAY3)
    values.setdefault("grade", 2)
    values.setdefault("outcome", "RECOVERING")
    values.setdefault("attributions", unrelated(*SEED000_AGENTS))
    values.setdefault("immune_related", False)
    return services.adverse_event_create(
        user=world.investigator, subject=subject, ctcae_term=term(name), **values
    )


def errors(excinfo):
    return excinfo.value.message_dict


def test_grade_5_for_neutrophil_count_decreased_is_refused_naming_the_valid_grades(seed000):
    subject = seed000.subject()
    with pytest.raises(ValidationError) as excinfo:
        create(
            seed000,
            subject,
            "Neutrophil count decreased",
            grade=5,
            outcome="FATAL",
            death_date=DAY3,
            serious=True,
            seriousness=["death"],
            site_aware_at=dt.datetime(2025, 3, 18, 8, tzinfo=dt.UTC),
        )
    message = errors(excinfo)["grade"][0]
    assert "Grade 5 does not exist for Neutrophil count decreased" in message
    assert "valid grades: 1 (" in message and "4 (" in message and "5 (" not in message


@pytest.mark.parametrize("grade", [1, 2])
def test_grades_1_and_2_of_febrile_neutropenia_are_refused_naming_3_4_5(seed000, grade):
    subject = seed000.subject()
    with pytest.raises(ValidationError) as excinfo:
        create(seed000, subject, "Febrile neutropenia", grade=grade)
    message = errors(excinfo)["grade"][0]
    assert f"Grade {grade} does not exist for Febrile neutropenia" in message
    assert "valid grades: 3 (" in message and "4 (" in message and "5 (Death)" in message


def test_an_ae_keeps_its_term_grade_text_and_derived_summary(seed000):
    ae = create(seed000, seed000.subject(), grade=2)
    assert (ae.term, ae.meddra_code, ae.worst_grade) == ("Nausea", ae.ctcae_term.meddra_code, "2")
    assert ae.worst_grade_text().startswith("Oral intake decreased")
    assert ae.collection_category == "on_treatment" and ae.treatment_emergent and not ae.after_period
    assert [g.grade for g in AeGrade.objects.filter(adverse_event=ae)] == [2]


def test_other_specify_needs_the_verbatim_text(seed000):
    with pytest.raises(ValidationError) as excinfo:
        create(seed000, seed000.subject(), "Gastrointestinal disorders - Other, specify", grade=2)
    assert "verbatim" in errors(excinfo)
    ae = create(
        seed000,
        seed000.subject(),
        "Gastrointestinal disorders - Other, specify",
        grade=2,
        verbatim="oesophageal candidiasis",
    )
    assert "oesophageal candidiasis" in str(ae)


def test_onset_before_consent_is_refused_as_medical_history(seed000):
    with pytest.raises(ValidationError) as excinfo:
        create(seed000, seed000.subject(), onset=CONSENTED_AT.date() - dt.timedelta(days=1))
    assert "record it as medical history" in errors(excinfo)["onset"][0]


def test_seed_000_collects_non_serious_aes_from_the_first_dose_so_a_pre_dose_one_is_a_baseline_sign(seed000):
    with pytest.raises(ValidationError) as excinfo:
        create(seed000, seed000.subject(), onset=FIRST_DOSE - dt.timedelta(days=2), attributions=[])
    assert "baseline sign or symptom" in errors(excinfo)["onset"][0]


def test_a_serious_ae_between_consent_and_first_dose_is_collected_as_pre_treatment(seed000):
    ae = create(
        seed000,
        seed000.subject(),
        "Lung infection",
        onset=FIRST_DOSE - dt.timedelta(days=2),
        grade=3,
        attributions=[],
        serious=True,
        seriousness=["hospitalisation"],
        site_aware_at=dt.datetime(2025, 3, 13, 8, tzinfo=dt.UTC),
    )
    assert ae.collection_category == "pre_treatment" and not ae.treatment_emergent
    assert ae.action_taken == "NA"


def test_an_ae_after_the_period_is_accepted_with_a_flag(seed000, monkeypatch):
    subject = seed000.subject()
    monkeypatch.setattr(services, "last_dose_date", lambda s: FIRST_DOSE + dt.timedelta(days=21))
    late = FIRST_DOSE + dt.timedelta(days=21 + 31)
    ae = create(seed000, subject, onset=late)
    assert ae.after_period and ae.collection_category == "after_period"
    # An immune-related AE is collected to 90 days after the last dose in seed 000: not flagged.
    irae = create(seed000, subject, "Colitis", onset=late, immune_related=True)
    assert not irae.after_period


def test_a_grade_5_ae_must_be_fatal_serious_with_death_and_dated_on_or_after_onset(seed000):
    subject = seed000.subject()
    aware = dt.datetime(2025, 3, 20, 2, tzinfo=dt.UTC)
    with pytest.raises(ValidationError) as excinfo:
        create(
            seed000,
            subject,
            "Pneumonitis",
            grade=5,
            outcome="NOT_RECOVERED",
            serious=True,
            seriousness=["hospitalisation"],
            site_aware_at=aware,
            immune_related=True,
        )
    found = errors(excinfo)
    assert "A grade 5 AE (death) has the outcome fatal." in found["outcome"]
    assert "death_date" in found and "serious" in found
    with pytest.raises(ValidationError) as excinfo:
        create(
            seed000,
            subject,
            "Pneumonitis",
            grade=5,
            outcome="FATAL",
            serious=True,
            seriousness=["death"],
            site_aware_at=aware,
            immune_related=True,
            death_date=DAY3 - dt.timedelta(days=1),
        )
    assert "before the onset" in errors(excinfo)["death_date"][0]
    ae = create(
        seed000,
        subject,
        "Pneumonitis",
        grade=5,
        outcome="FATAL",
        serious=True,
        seriousness=["death"],
        site_aware_at=aware,
        immune_related=True,
        death_date=DAY3 + dt.timedelta(days=2),
    )
    assert ae.worst_grade == "5"


def test_resolution_before_onset_is_refused(seed000):
    with pytest.raises(ValidationError) as excinfo:
        create(seed000, seed000.subject(), resolution=DAY3 - dt.timedelta(days=1), outcome="RECOVERED")
    assert "before the onset" in errors(excinfo)["resolution"][0]


def test_seed_000_attributes_each_of_its_three_drugs_once_with_its_own_action(seed000):
    subject = seed000.subject()
    attributions = [
        AttributionIn("camrelizumab", "PROBABLE", "INTERRUPTED", expected=True),
        AttributionIn("bevacizumab", "UNLIKELY", "NONE"),
        AttributionIn("capecitabine", "POSSIBLE", "REDUCED", expected=True),
    ]
    ae = create(seed000, subject, "Diarrhea", grade=3, attributions=attributions)
    stored = {a.agent: (a.relatedness, a.action) for a in AeAttribution.objects.filter(adverse_event=ae)}
    # Camrelizumab has two dosing rows (combination and maintenance) and is attributed once.
    assert stored == {
        "camrelizumab": ("PROBABLE", "INTERRUPTED"),
        "bevacizumab": ("UNLIKELY", "NONE"),
        "capecitabine": ("POSSIBLE", "REDUCED"),
    }
    assert ae.relatedness == "PROBABLE" and ae.action_taken == "INTERRUPTED"
    assert AeAttribution.objects.get(adverse_event=ae, agent="camrelizumab").intervention.code == "CAM"


def test_a_missing_twice_named_or_foreign_agent_is_refused(seed000):
    subject = seed000.subject()
    with pytest.raises(ValidationError) as excinfo:
        create(seed000, subject, attributions=unrelated("camrelizumab", "bevacizumab"))
    assert "attribution missing for capecitabine" in errors(excinfo)["attributions"][0]
    with pytest.raises(ValidationError) as excinfo:
        create(seed000, subject, attributions=[*unrelated(*SEED000_AGENTS), *unrelated("camrelizumab")])
    assert any("attributed twice" in m for m in [m for ms in errors(excinfo).values() for m in ms])
    with pytest.raises(ValidationError) as excinfo:
        create(seed000, subject, attributions=[*unrelated(*SEED000_AGENTS), *unrelated("cisplatin")])
    assert any("did not receive cisplatin" in m for m in [m for ms in errors(excinfo).values() for m in ms])


def test_seed_004_names_only_the_platinum_chosen(seed004):
    subject = seed004.subject()
    agents = sorted({i.agent for i in seed004.study.interventions.all()})
    platinum = sorted({i.agent for i in seed004.study.interventions.exclude(choice_group="")})
    others = [a for a in agents if a not in platinum]
    with pytest.raises(ValidationError) as excinfo:
        create(seed004, subject, attributions=unrelated(*agents))
    assert "the one of" in errors(excinfo)["attributions"][0]
    ae = create(seed004, subject, attributions=unrelated(*others, platinum[0]))
    assert {a.agent for a in AeAttribution.objects.filter(adverse_event=ae)} == {*others, platinum[0]}


def test_a_serious_related_unexpected_ae_is_a_susar(seed000):
    aware = dt.datetime(2025, 3, 19, 2, tzinfo=dt.UTC)
    attributions = [
        AttributionIn("camrelizumab", "PROBABLE", "WITHDRAWN", expected=False),
        *unrelated("bevacizumab", "capecitabine"),
    ]
    ae = create(
        seed000,
        seed000.subject(),
        "Myocarditis",
        grade=3,
        serious=True,
        seriousness=["hospitalisation"],
        site_aware_at=aware,
        attributions=attributions,
        immune_related=True,
    )
    assert ae.susar and ae.action_taken == "WITHDRAWN"
    expected = create(
        seed000,
        seed000.subject(),
        "Myocarditis",
        grade=3,
        serious=True,
        seriousness=["hospitalisation"],
        site_aware_at=aware,
        immune_related=True,
        attributions=[
            AttributionIn("camrelizumab", "PROBABLE", "NONE", expected=True),
            *unrelated("bevacizumab", "capecitabine"),
        ],
    )
    assert not expected.susar


def test_a_serious_ae_needs_the_time_the_site_became_aware(seed000):
    with pytest.raises(ValidationError) as excinfo:
        create(
            seed000,
            seed000.subject(),
            "Lung infection",
            grade=3,
            serious=True,
            seriousness=["hospitalisation"],
        )
    assert "site_aware_at" in errors(excinfo)


def test_the_immune_related_flag_is_asked_in_pd1_trials_and_refused_elsewhere(seed000, seed002):
    with pytest.raises(ValidationError) as excinfo:
        create(seed000, seed000.subject(), immune_related=None)
    assert "immune_related" in errors(excinfo)
    subject = seed002.subject()
    agents = sorted({i.agent for i in seed002.study.interventions.all()})
    with pytest.raises(ValidationError) as excinfo:
        create(seed002, subject, attributions=unrelated(*agents), immune_related=True)
    assert "not asked" in errors(excinfo)["immune_related"][0]
    # Cetuximab is dosed with a loading and a maintenance row and attributed once.
    assert create(seed002, subject, attributions=unrelated(*agents), immune_related=None).immune_related == ""


def test_the_grade_history_derives_the_worst_grade_and_keeps_every_change(seed000):
    ae = create(seed000, seed000.subject(), "Diarrhea", grade=1)
    ae = services.ae_grade_add(
        user=seed000.investigator, ae=ae, on=DAY3 + dt.timedelta(days=4), grade=3, reason=REASON
    )
    ae = services.ae_grade_add(
        user=seed000.investigator, ae=ae, on=DAY3 + dt.timedelta(days=9), grade=2, reason=REASON
    )
    assert ae.worst_grade == "3"
    assert [(g.on - DAY3).days for g in AeGrade.objects.active().filter(adverse_event=ae)] == [0, 4, 9]
    # The AE row changed once (its worst grade); each grade entry has its own trail.
    assert ae.history.count() == 2
    assert AeGrade.history.filter(adverse_event_id=ae.pk).count() == 3


def test_a_history_entry_before_onset_or_an_invalid_grade_is_refused(seed000):
    with pytest.raises(ValidationError) as excinfo:
        create(
            seed000,
            seed000.subject(),
            "Febrile neutropenia",
            grade=None,
            grades=[GradeIn(DAY3, 3), GradeIn(DAY3 + dt.timedelta(days=2), 2)],
        )
    assert "Grade 2 does not exist" in errors(excinfo)["grades[1].grade"][0]
    with pytest.raises(ValidationError) as excinfo:
        create(
            seed000,
            seed000.subject(),
            grade=None,
            grades=[GradeIn(DAY3 - dt.timedelta(days=1), 1), GradeIn(DAY3, 2)],
        )
    assert "before the onset" in " ".join([m for ms in errors(excinfo).values() for m in ms])


def test_a_baseline_sign_makes_a_later_ae_emergent_only_when_it_worsens(seed000):
    subject = seed000.subject()
    services.baseline_sign_create(
        user=seed000.coordinator,
        subject=subject,
        ctcae_term=term("Fatigue"),
        grade=1,
        date=FIRST_DOSE - dt.timedelta(days=5),
    )
    same = create(seed000, subject, "Fatigue", grade=1)
    assert not same.treatment_emergent
    worse = create(seed000, subject, "Fatigue", grade=2, onset=DAY3 + dt.timedelta(days=7))
    assert worse.treatment_emergent


def test_a_baseline_sign_takes_only_the_terms_grades(seed000):
    with pytest.raises(ValidationError) as excinfo:
        services.baseline_sign_create(
            user=seed000.coordinator,
            subject=seed000.subject(),
            ctcae_term=term("Febrile neutropenia"),
            grade=1,
            date=FIRST_DOSE,
        )
    assert "valid grades: 3" in excinfo.value.message_dict["grade"][0]


def test_a_change_states_a_reason_and_a_void_keeps_the_history(seed000):
    from edc.core.exceptions import ReasonRequired

    ae = create(seed000, seed000.subject())
    with pytest.raises(ReasonRequired):
        services.adverse_event_update(
            user=seed000.investigator,
            ae=ae,
            reason=None,
            outcome="RECOVERED",
            resolution=DAY3 + dt.timedelta(days=5),
        )
    ae = services.adverse_event_update(
        user=seed000.investigator,
        ae=ae,
        reason=REASON,
        outcome="RECOVERED",
        resolution=DAY3 + dt.timedelta(days=5),
    )
    assert ae.version == 2
    voided = services.adverse_event_void(user=seed000.investigator, ae=ae, reason=REASON)
    assert voided.is_voided and voided.history.count() == 3


def test_a_user_of_another_site_cannot_record_an_ae(seed000):
    from django.core.exceptions import PermissionDenied

    from tests.factories import UserFactory

    with pytest.raises(PermissionDenied):
        services.adverse_event_create(
            user=UserFactory(),
            subject=seed000.subject(),
            ctcae_term=term("Nausea"),
            onset=DAY3,
            grade=1,
            outcome="RECOVERING",
            attributions=unrelated(*SEED000_AGENTS),
            immune_related=False,
        )
