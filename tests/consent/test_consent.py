"""Informed consent: versions per study, dates, who signed, the re-consent list."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command

from edc.consent import services
from edc.consent.models import ConsentVersion, SignedConsent
from edc.forms.services import lab_result_create
from edc.subjects.models import EnrollmentRules
from tests.factories import ConsentVersionFactory, screen_subject

pytestmark = pytest.mark.django_db
AT = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)


def sign(subject, version, *, signed_at=AT, **values):
    values.setdefault("obtained_by", "Dr Wang")
    return services.consent_sign(user=None, subject=subject, version=version, signed_at=signed_at, **values)


def test_every_seed_fixture_declares_a_current_consent_version_so_a_new_trial_can_consent():
    call_command("load_studies", stdout=StringIO())
    versions = ConsentVersion.objects.all()
    assert versions.count() == 5
    assert all(v.version == "1.0" and v.assumption for v in versions)
    assert {v.study.protocol_id for v in versions} == {
        "CAM-BEV-CAP-HNSCC",
        "CADO-LDRT-HNSCC",
        "CET-DALP-HNSCC",
        "CAM-APA-NPC",
        "CAM-CRT-HNSCC",
    }
    # Seed 000 lets sites reuse imaging from before consent, within 28 days before treatment.
    rules = EnrollmentRules.objects.get(study__protocol_id="CAM-BEV-CAP-HNSCC")
    assert rules.procedures_before_consent == [
        {"forms": ["TU", "TR"], "within_days": 28, "before": "first_dose"}
    ]
    # A second load changes nothing.
    out = StringIO()
    call_command("load_studies", stdout=out)
    assert "loaded" not in out.getvalue()


def test_a_consent_version_in_a_fixture_is_validated_with_the_file_and_field_named(tmp_path):
    source = Path(settings.BASE_DIR) / "fixtures" / "studies" / "004_cam_crt_hnscc.yaml"
    text = source.read_text(encoding="utf-8").replace("effective_from: 2023-01-01", "effective_from: soon")
    broken = tmp_path / "004.yaml"
    broken.write_text(text, encoding="utf-8")
    with pytest.raises(Exception) as refused:
        call_command(
            "load_studies",
            str(Path(settings.BASE_DIR) / "fixtures" / "forms.yaml"),
            str(broken),
            stdout=StringIO(),
        )
    assert "consent_versions[0] 1.0 zh" in str(refused.value)
    assert "effective_from" in str(refused.value)
    assert not ConsentVersion.objects.exists()


def test_a_consent_records_version_time_who_obtained_it_signatures_and_copy(trial):
    subject = screen_subject(trial.site_a, consented_at=None, screening_date=dt.date(2025, 3, 1))
    consent = sign(subject, trial.version, witness_signed=True, copy_given=True, samples_consent=False)
    stored = SignedConsent.objects.get(pk=consent.pk)
    assert (stored.consent_version, stored.signed_at, stored.obtained_by) == (trial.version, AT, "Dr Wang")
    assert (stored.patient_signed, stored.witness_signed, stored.copy_given) == (True, True, True)
    assert stored.history.get().history_type == "+"


def test_a_consent_dated_before_its_version_takes_effect_is_refused(trial):
    subject = screen_subject(trial.site_a, consented_at=None, screening_date=dt.date(2022, 12, 1))
    with pytest.raises(ValidationError) as refused:
        sign(subject, trial.version, signed_at=dt.datetime(2022, 12, 31, 10, 0, tzinfo=dt.UTC))
    assert "takes effect on 2023-01-01" in refused.value.message_dict["signed_at"][0]
    assert not SignedConsent.objects.exists()


def test_the_consent_day_is_the_site_s_day(trial):
    # 2022-12-31 17:30 UTC is already 2023-01-01 in Shanghai: the version is in effect there.
    subject = screen_subject(trial.site_a, consented_at=None, screening_date=dt.date(2023, 1, 1))
    sign(subject, trial.version, signed_at=dt.datetime(2022, 12, 31, 17, 30, tzinfo=dt.UTC))
    assert SignedConsent.objects.count() == 1


def test_a_consent_after_a_version_ended_or_in_the_future_is_refused(trial):
    ended = ConsentVersionFactory(study=trial.study, version="0.9", effective_to=dt.date(2024, 1, 31))
    subject = screen_subject(trial.site_a, consented_at=None, screening_date=dt.date(2025, 3, 1))
    with pytest.raises(ValidationError, match="in effect until 2024-01-31"):
        sign(subject, ended)
    with pytest.raises(ValidationError, match="in the future"):
        sign(subject, trial.version, signed_at=dt.datetime(2099, 1, 1, tzinfo=dt.UTC))


def test_a_first_consent_after_a_screening_procedure_is_refused(trial):
    subject = screen_subject(trial.site_a)  # consented on 2025-03-01
    lab_result_create(user=None, subject=subject, date=dt.date(2025, 3, 2), test="HGB", value=120, unit="g/L")
    from edc.core.services import ChangeReason

    services.consent_void(
        user=None, consent=SignedConsent.objects.get(), reason=ChangeReason("other", "wrong")
    )
    with pytest.raises(ValidationError) as refused:
        sign(subject, trial.version, signed_at=dt.datetime(2025, 3, 3, 9, tzinfo=dt.UTC))
    assert "already recorded on 2025-03-02 (LB)" in refused.value.message_dict["signed_at"][0]


def test_the_patient_or_a_representative_signs(trial):
    subject = screen_subject(trial.site_a, consented_at=None, screening_date=dt.date(2025, 3, 1))
    with pytest.raises(ValidationError) as refused:
        sign(subject, trial.version, patient_signed=False)
    assert "patient_signed" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        sign(subject, trial.version, patient_signed=False, representative_signed=True)
    assert "representative_relationship" in refused.value.message_dict
    sign(
        subject,
        trial.version,
        patient_signed=False,
        representative_signed=True,
        representative_relationship="daughter",
    )
    assert SignedConsent.objects.get().representative_signed


def test_the_api_signs_a_consent_by_the_version_s_code(trial, client_for):
    subject = screen_subject(trial.site_a, consented_at=None, screening_date=dt.date(2025, 3, 1))
    client = client_for(trial.coordinator)
    body = {
        "subject": str(subject.pk),
        "version": "1.0",
        "signed_at": "2025-03-01T09:00:00+08:00",
        "obtained_by": "Dr Wang",
        "copy_given": True,
    }
    response = client.post("/api/consents/", body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["version"] == 1  # the record's version, as every resource answers
    assert data["consent_version"] == {"id": trial.version.pk, "version": "1.0", "language": "zh"}
    unknown = client.post("/api/consents/", {**body, "version": "9.9"}, format="json")
    assert unknown.status_code == 400
    assert "version" in unknown.json()["errors"]
    listed = client.get("/api/consents/", {"subject": str(subject.pk)}).json()
    assert [row["id"] for row in listed["results"]] == [data["id"]]


def test_a_consent_after_procedures_answers_400_and_writes_nothing(trial, client_for):
    subject = screen_subject(trial.site_a)
    lab_result_create(user=None, subject=subject, date=dt.date(2025, 3, 2), test="HGB", value=120, unit="g/L")
    consent = SignedConsent.objects.get()
    response = client_for(trial.coordinator).patch(
        f"/api/consents/{consent.pk}/",
        {"signed_at": "2025-03-05T09:00:00+08:00", "change_reason": "typo"},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert response.status_code == 400
    assert "signed_at" in response.json()["errors"]
    assert SignedConsent.objects.get().version == 1


def test_consent_versions_are_listed_for_the_studies_the_user_sees(trial, client_for):
    ConsentVersionFactory(study__protocol_id="OTHER")
    listed = client_for(trial.coordinator).get("/api/consent-versions/").json()
    assert [row["version"] for row in listed["results"]] == ["1.0"]
    assert listed["results"][0]["study"] == trial.study.pk


def test_a_new_version_puts_the_subjects_it_names_on_the_re_consent_list_until_they_sign(trial, client_for):
    from edc.subjects.models import SubjectStatus
    from edc.subjects.services import subject_screen_fail

    screening = screen_subject(trial.site_a)
    failed = screen_subject(trial.site_a)
    subject_screen_fail(user=None, subject=failed, reason="x")
    elsewhere = screen_subject(trial.site_b)
    new = ConsentVersionFactory(
        study=trial.study, version="2.0", effective_from=dt.date(2025, 3, 5), reconsent="all_active"
    )
    client = client_for(trial.coordinator)
    url = f"/api/studies/{trial.study.pk}/reconsent-due/"
    due = client.get(url, {"as_of": "2025-03-06"}).json()
    assert [row["screening_number"] for row in due["results"]] == [screening.screening_number]
    assert due["results"][0]["last_signed"] == "1.0"
    assert due["results"][0]["due_version"] == "2.0"
    assert client.get(url, {"as_of": "2025-03-04"}).json()["results"] == []  # not in effect yet
    sign(screening, new, signed_at=dt.datetime(2025, 3, 6, 9, tzinfo=dt.UTC))
    assert client.get(url, {"as_of": "2025-03-06"}).json()["results"] == []
    assert failed.status == SubjectStatus.SCREEN_FAILED  # not named: screen failures are not active
    monitor = client_for(trial.monitor).get(url, {"as_of": "2025-03-06"}).json()
    assert [row["screening_number"] for row in monitor["results"]] == [elsewhere.screening_number]


def test_the_re_consent_list_of_a_study_the_user_does_not_see_answers_404(trial, client_for):
    from tests.factories import StudyFactory

    other = StudyFactory(protocol_id="HIDDEN")
    client = client_for(trial.coordinator)
    assert client.get(f"/api/studies/{other.pk}/reconsent-due/").status_code == 404
    assert client.get("/api/studies/abc/reconsent-due/").status_code == 404


def test_without_as_of_each_subject_is_judged_on_its_own_sites_today(client_for):
    """A version taking effect today at a site east of the date line is not yet in effect west of it."""
    from edc.core.models import Role
    from tests.factories import MembershipFactory, SiteFactory, StudyFactory, UserFactory

    study = StudyFactory(protocol_id="TIMEZONES")
    east = SiteFactory(study=study, code="E", time_zone="Pacific/Kiritimati")  # UTC+14
    west = SiteFactory(study=study, code="W", time_zone="Pacific/Pago_Pago")  # UTC-11
    assert east.today() > west.today()  # 25 hours apart: never the same date
    at_east, at_west = screen_subject(east), screen_subject(west)
    ConsentVersionFactory(study=study, version="2.0", effective_from=east.today(), reconsent="all_active")
    monitor = UserFactory(username="tz_monitor")
    MembershipFactory(user=monitor, study=study, site=None, role=Role.MONITOR)
    url = f"/api/studies/{study.pk}/reconsent-due/"
    client = client_for(monitor)
    due = client.get(url).json()["results"]
    assert [row["screening_number"] for row in due] == [at_east.screening_number]
    # Asked for one day, both sites are judged on it.
    both = client.get(url, {"as_of": east.today().isoformat()}).json()["results"]
    assert {row["screening_number"] for row in both} == {at_east.screening_number, at_west.screening_number}
