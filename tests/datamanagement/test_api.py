"""The doors of data management: queries, SDV, signatures, locks and the audit-trail export."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from rest_framework.test import APIClient

from edc.core.exceptions import RecordLocked
from edc.core.services import ChangeReason
from edc.datamanagement.models import AppendOnly, Query, QueryEvent
from edc.datamanagement.services import edit_checks_run
from edc.forms import services as forms
from edc.subjects import services as subject_services
from tests.datamanagement.conftest import PASSWORD, correct, visit_done

D = dt.date


def client(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def _vitals(world, subject=None):
    return forms.vital_signs_create(
        user=None, subject=subject or world.subject_a, date=D(2025, 3, 3), weight_kg=70
    )


def _raise(world, record, user="monitor", field="weight_kg"):
    return client(world.users[user]).post(
        "/api/queries/",
        {
            "record_type": record._meta.label_lower,
            "record_id": str(record.pk),
            "field": field,
            "text": "Check the scale",
        },
        format="json",
    )


# --- queries ---------------------------------------------------------------------------------------


def test_a_monitor_raises_the_site_answers_and_the_monitor_closes_every_step_recorded(world):
    vitals = _vitals(world)
    raised = _raise(world, vitals)
    assert raised.status_code == 201, raised.json()
    query = raised.json()
    assert (query["status"], query["field"], query["field_label"], query["raised_by"]) == (
        "open",
        "weight_kg",
        "Weight kg",
        "dm_monitor",
    )
    answered = client(world.users["coordinator"]).post(
        f"/api/queries/{query['id']}/answer/", {"answer": "Scale recalibrated; value correct"}, format="json"
    )
    assert answered.status_code == 200, answered.json()
    assert answered.json()["status"] == "answered" and answered.json()["answered_by"] == "dm_coordinator"
    reopened = client(world.users["monitor"]).post(
        f"/api/queries/{query['id']}/reopen/", {"text": "Source shows 72 kg"}, format="json"
    )
    assert reopened.json()["status"] == "open"
    client(world.users["coordinator"]).post(
        f"/api/queries/{query['id']}/answer/", {"answer": "Corrected"}, format="json"
    )
    closed = client(world.users["monitor"]).post(
        f"/api/queries/{query['id']}/close/", {"text": "ok"}, format="json"
    )
    assert closed.json()["status"] == "closed" and closed.json()["closed_by"] == "dm_monitor"
    steps = [(e["action"], e["by"]) for e in closed.json()["events"]]
    assert steps == [
        ("raised", "dm_monitor"),
        ("answered", "dm_coordinator"),
        ("reopened", "dm_monitor"),
        ("answered", "dm_coordinator"),
        ("closed", "dm_monitor"),
    ]
    history = client(world.users["monitor"]).get(f"/api/queries/{query['id']}/history/").json()
    assert [h["user"] for h in history][:1] == ["dm_monitor"] and len(history) == 5


@pytest.mark.parametrize("who", ["coordinator", "investigator", "sponsor", "study_admin"])
def test_only_monitors_and_data_managers_raise_queries(world, who):
    assert _raise(world, _vitals(world), user=who).status_code == 403
    assert Query.objects.count() == 0


def test_a_data_manager_raises_a_query_at_any_site_of_the_study(world):
    assert _raise(world, _vitals(world, world.subject_b), user="data_manager").status_code == 201


def test_a_monitor_of_site_b_cannot_name_a_record_of_site_a(world):
    answer = _raise(world, _vitals(world), user="monitor_b")
    assert answer.status_code == 400 and "record_id" in answer.json()["errors"]


def test_monitors_do_not_answer_and_coordinators_do_not_close(world):
    query = _raise(world, _vitals(world)).json()
    assert (
        client(world.users["monitor"])
        .post(f"/api/queries/{query['id']}/answer/", {"answer": "x"}, format="json")
        .status_code
        == 403
    )
    assert (
        client(world.users["coordinator"])
        .post(f"/api/queries/{query['id']}/close/", {}, format="json")
        .status_code
        == 403
    )


def test_another_site_s_query_is_a_404_and_never_listed(world):
    query = _raise(world, _vitals(world, world.subject_b), user="data_manager").json()
    coordinator = client(world.users["coordinator"])
    assert coordinator.get(f"/api/queries/{query['id']}/").status_code == 404
    assert (
        coordinator.post(f"/api/queries/{query['id']}/answer/", {"answer": "x"}, format="json").status_code
        == 404
    )
    assert coordinator.get("/api/queries/", {"subject": str(world.subject_b.pk)}).json()["results"] == []


def test_an_unknown_field_or_record_type_is_refused_by_name(world):
    vitals = _vitals(world)
    bad_field = _raise(world, vitals, field="no_such_field")
    assert bad_field.status_code == 400 and "field" in bad_field.json()["errors"]
    bad_type = client(world.users["monitor"]).post(
        "/api/queries/", {"record_type": "auth.user", "record_id": str(vitals.pk), "text": "x"}, format="json"
    )
    assert bad_type.status_code == 400 and "record_type" in bad_type.json()["errors"]
    extra = client(world.users["monitor"]).post(
        "/api/queries/",
        {"record_type": "forms.vitalsigns", "record_id": str(vitals.pk), "text": "x", "status": "closed"},
        format="json",
    )
    assert extra.status_code == 400 and "status" in extra.json()["errors"]


def test_the_query_list_filters_by_subject_and_shows_rule_status_and_ageing(world):
    visit_done(world.subject_a, day=D(2025, 3, 20), start=D(2025, 3, 8), end=D(2025, 3, 12))
    visit_done(world.subject_b, day=D(2025, 3, 20), start=D(2025, 3, 8), end=D(2025, 3, 12))
    edit_checks_run(study=world.study)
    rows = (
        client(world.users["data_manager"])
        .get("/api/queries/", {"subject": str(world.subject_a.pk)})
        .json()["results"]
    )
    assert [(r["rule"], r["status"], r["subject"], r["age_days"]) for r in rows] == [
        ("visit_outside_window", "open", str(world.subject_a.pk), 0)
    ]
    assert rows[0]["rule_description"]


def test_the_query_list_costs_a_fixed_number_of_queries(world, django_assert_num_queries):
    manager = client(world.users["data_manager"])
    for _n in range(2):
        _raise(world, _vitals(world), user="data_manager")
    with django_assert_num_queries(3):  # the page; the events with their users (prefetch: 2)
        assert len(manager.get("/api/queries/").json()["results"]) == 2
    for _n in range(6):
        _raise(world, _vitals(world, world.subject_b), user="data_manager")
    with django_assert_num_queries(3):
        assert len(manager.get("/api/queries/").json()["results"]) == 8


def test_query_events_and_history_rows_cannot_be_changed_or_deleted(world):
    from edc.core.exceptions import HistoryIsAppendOnly

    _raise(world, _vitals(world))
    event = QueryEvent.objects.get()
    with pytest.raises(AppendOnly):
        event.save()
    with pytest.raises(AppendOnly):
        QueryEvent.objects.all().update(text="rewritten")
    with pytest.raises(AppendOnly):
        QueryEvent.objects.all().delete()
    with pytest.raises(HistoryIsAppendOnly):
        Query.history.all().update(text="rewritten")
    with pytest.raises(HistoryIsAppendOnly):
        Query.history.all().delete()


# --- SDV -------------------------------------------------------------------------------------------


def _sdv(world, record, field="", user="monitor"):
    return client(world.users[user]).post(
        "/api/sdv/",
        {"record_type": record._meta.label_lower, "record_id": str(record.pk), "field": field},
        format="json",
    )


def test_a_monitor_verifies_a_form_and_a_later_change_clears_it_saying_which_change(world):
    vitals = _vitals(world)
    mark = _sdv(world, vitals)
    assert mark.status_code == 201 and mark.json()["state"] == "verified"
    corrected = correct(vitals, weight_kg=72)
    shown = client(world.users["monitor"]).get(f"/api/sdv/{mark.json()['id']}/").json()
    assert shown["state"] == "cleared"
    assert shown["cleared_by"]["version"] == corrected.version
    assert shown["cleared_by"]["reason"] == "Transcription error: fixed"


def test_a_field_verification_is_cleared_only_by_a_change_of_that_field(world):
    vitals = _vitals(world)
    mark = _sdv(world, vitals, field="weight_kg").json()
    vitals = correct(vitals, heart_rate=70)
    listed = (
        client(world.users["monitor"])
        .get("/api/sdv/", {"subject": str(world.subject_a.pk)})
        .json()["results"]
    )
    assert [m["state"] for m in listed] == ["verified"]
    correct(vitals, weight_kg=75)
    assert client(world.users["monitor"]).get(f"/api/sdv/{mark['id']}/").json()["state"] == "cleared"


@pytest.mark.parametrize("who", ["coordinator", "data_manager", "sponsor", "investigator"])
def test_only_monitors_verify_source_data(world, who):
    assert _sdv(world, _vitals(world), user=who).status_code == 403


# --- signatures ------------------------------------------------------------------------------------


def _sign(api, record_id, kind="casebook", **body):
    return api.post("/api/signatures/", {"kind": kind, "record_id": str(record_id), **body}, format="json")


def test_the_first_signature_of_a_session_needs_user_id_and_password_later_ones_the_password(world):
    investigator = world.users["investigator"]
    api = APIClient()
    api.force_login(investigator)
    meaning = api.get("/api/signatures/meaning/", {"kind": "casebook"}).json()
    assert meaning["username_required"] is True and "casebook" in meaning["meaning"]
    refused = _sign(api, world.subject_a.pk, password=PASSWORD)
    assert refused.status_code == 400 and "username" in refused.json()["errors"]
    signed = _sign(api, world.subject_a.pk, password=PASSWORD, username=investigator.username)
    assert signed.status_code == 201, signed.json()
    assert signed.json()["meaning"] == meaning["meaning"] and signed.json()["state"] == "valid"
    assert signed.json()["signer_name"] == "Investigator Tester"
    assert api.get("/api/signatures/meaning/", {"kind": "visit"}).json()["username_required"] is False
    visit = visit_done(world.subject_a, day=D(2025, 3, 10), start=D(2025, 3, 8), end=D(2025, 3, 12))
    assert _sign(api, visit.pk, kind="visit", password=PASSWORD).status_code == 201


def test_a_wrong_password_or_another_user_id_is_refused_and_nothing_is_signed(world):
    investigator = world.users["investigator"]
    api = client(investigator)
    wrong = _sign(api, world.subject_a.pk, password="nope", username=investigator.username)
    assert wrong.status_code == 400 and "password" in wrong.json()["errors"]
    other = _sign(api, world.subject_a.pk, password=PASSWORD, username="dm_coordinator")
    assert other.status_code == 400 and "username" in other.json()["errors"]
    assert api.get("/api/signatures/").json()["results"] == []


def test_a_failed_signature_is_kept_as_an_account_event_and_shows_in_the_audit_trail(world):
    from edc.accounts.models import AccountEvent

    investigator = world.users["investigator"]
    api = client(investigator)
    wrong = api.post(
        "/api/signatures/",
        {"kind": "casebook", "record_id": str(world.subject_a.pk), "password": "nope"},
        format="json",
        HTTP_USER_AGENT="signing-test",
        REMOTE_ADDR="10.1.2.3",
    )
    assert wrong.status_code == 400
    other = _sign(api, world.subject_a.pk, password=PASSWORD, username="dm_coordinator")
    assert other.status_code == 400
    failed = list(AccountEvent.objects.filter(kind="signature_failed").order_by("id"))
    assert [(e.user, e.username, e.door) for e in failed] == [
        (investigator, investigator.username, "api"),
        (investigator, "dm_coordinator", "api"),  # whose ID was tried
    ]
    assert (failed[0].ip_address, failed[0].user_agent) == ("10.1.2.3", "signing-test")
    # A form left incomplete is no failed authentication: nothing typed, or the right password
    # without the user ID the first signature of a session needs.
    assert _sign(api, world.subject_a.pk, password="").status_code == 400
    assert _sign(api, world.subject_a.pk, password=PASSWORD).status_code == 400
    assert AccountEvent.objects.filter(kind="signature_failed").count() == 2
    # The study's trail has its members' account events (a subject's, those of who wrote its data).
    rows = _csv(client(world.users["data_manager"]).get("/api/audit-trail/", {"study": world.study.pk}))
    assert [r["event"] for r in rows if r["record type"] == "account event"].count(
        "Failed signature (wrong password or user ID)"
    ) == 2


@pytest.mark.parametrize("who", ["coordinator", "monitor", "data_manager", "investigator_b"])
def test_only_an_investigator_of_the_site_signs(world, who):
    user = world.users[who]
    answer = _sign(client(user), world.subject_a.pk, password=PASSWORD, username=user.username)
    assert answer.status_code in (403, 400)
    if who == "investigator_b":  # site A's subject is hidden from site B: like a missing record
        assert "record_id" in answer.json()["errors"]


def test_a_change_to_signed_data_invalidates_the_signature_visibly(world):
    investigator = world.users["investigator"]
    visit = visit_done(world.subject_a, day=D(2025, 3, 10), start=D(2025, 3, 8), end=D(2025, 3, 12))
    vitals = forms.vital_signs_create(
        user=None, subject=world.subject_a, visit=visit, date=D(2025, 3, 10), weight_kg=70
    )
    signed = _sign(
        client(investigator), visit.pk, kind="visit", password=PASSWORD, username=investigator.username
    )
    assert signed.json()["state"] == "valid"
    correct(vitals, weight_kg=71)
    shown = client(investigator).get(f"/api/signatures/{signed.json()['id']}/").json()
    assert shown["state"] == "invalidated" and shown["changed"] == [f"forms.vitalsigns {vitals.pk}"]


# --- locks -----------------------------------------------------------------------------------------


def _fresh(subject):
    # The write path checks the locks of the parents it is given: a door reads them fresh per request.
    from edc.subjects.models import Subject

    return Subject.objects.select_related("study", "site").get(pk=subject.pk)


def _lock(world, record_type, record_id, action="lock", reason="", user="data_manager"):
    return client(world.users[user]).post(
        "/api/data-locks/",
        {"action": action, "record_type": record_type, "record_id": str(record_id), "reason": reason},
        format="json",
    )


def test_a_data_manager_locks_a_subject_changes_are_refused_and_unlock_needs_a_reason(world):
    locked = _lock(world, "subjects.subject", world.subject_a.pk, reason="database lock")
    assert locked.status_code == 200 and locked.json()["locked"] is True
    with pytest.raises(RecordLocked):
        forms.vital_signs_create(user=None, subject=_fresh(world.subject_a), date=D(2025, 3, 3), weight_kg=70)
    no_reason = _lock(world, "subjects.subject", world.subject_a.pk, action="unlock")
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["errors"]
    unlocked = _lock(
        world, "subjects.subject", world.subject_a.pk, action="unlock", reason="late lab correction"
    )
    assert unlocked.json()["locked"] is False
    forms.vital_signs_create(user=None, subject=_fresh(world.subject_a), date=D(2025, 3, 3), weight_kg=70)
    kinds = [
        h["kind"]
        for h in client(world.users["data_manager"])
        .get(f"/api/subjects/{world.subject_a.pk}/history/")
        .json()
    ]
    assert kinds[:2] == ["unlocked", "locked"]


def test_a_locked_form_refuses_a_correction_and_a_locked_study_refuses_new_data(world):
    vitals = _vitals(world)
    assert _lock(world, "forms.vitalsigns", vitals.pk).status_code == 200
    with pytest.raises(RecordLocked):
        correct(vitals, weight_kg=80)
    assert _lock(world, "studies.study", world.study.pk, reason="final lock").json()["locked"] is True
    with pytest.raises(RecordLocked):
        forms.vital_signs_create(user=None, subject=_fresh(world.subject_b), date=D(2025, 3, 3), weight_kg=70)
    world.study.refresh_from_db()
    assert world.study.history.first().history_change_reason == "final lock"


@pytest.mark.parametrize("who", ["coordinator", "investigator", "monitor", "sponsor", "study_admin"])
def test_only_data_managers_lock(world, who):
    assert _lock(world, "subjects.subject", world.subject_a.pk, user=who).status_code == 403


# --- the audit-trail export ------------------------------------------------------------------------


def _csv(response) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def test_the_subject_audit_trail_is_streamed_csv_in_words_with_locks_sdv_signatures_and_logins(world):
    from django.test import Client

    investigator = world.users["investigator"]
    Client().post("/admin/login/", {"username": investigator.username, "password": PASSWORD})  # a login event
    subject_services.subject_update(
        user=world.users["coordinator"],
        subject=world.subject_a,
        sex="M",
        reason=ChangeReason("transcription_error", "ID card"),
    )
    _sdv(world, _vitals(world))
    _sign(client(investigator), world.subject_a.pk, password=PASSWORD, username=investigator.username)
    _lock(world, "subjects.subject", world.subject_a.pk, reason="interim lock")
    response = client(world.users["monitor"]).get("/api/audit-trail/", {"subject": str(world.subject_a.pk)})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    rows = _csv(response)
    sex = next(r for r in rows if r["field"] == "Sex" and r["event"] == "changed")
    assert (sex["old value"], sex["new value"], sex["who"], sex["reason"]) == (
        "Female",
        "Male",
        "dm_coordinator",
        "Transcription error: ID card",
    )
    events = {r["event"] for r in rows}
    assert {"locked", "created"} <= events
    assert {"source data verification", "signature"} <= {r["record type"] for r in rows}
    assert any(r["record type"] == "account event" and r["who"] == "dm_investigator" for r in rows)
    assert all(r["subject"] in ("", str(world.subject_a.pk)) for r in rows)


def test_the_study_audit_trail_has_membership_changes_and_is_for_data_managers(world):
    from edc.core.services import membership_change

    membership = world.users["coordinator"].memberships.get()
    membership_change(user=world.users["study_admin"], membership=membership, role="investigator")
    response = client(world.users["data_manager"]).get("/api/audit-trail/", {"study": world.study.pk})
    rows = _csv(response)
    assert any(r["record type"] == "membership" and r["new value"] == "Investigator" for r in rows)
    assert {r["subject"] for r in rows} >= {str(world.subject_a.pk), str(world.subject_b.pk)}
    assert (
        client(world.users["monitor"]).get("/api/audit-trail/", {"study": world.study.pk}).status_code == 403
    )


def test_sponsors_do_not_export_and_another_site_s_subject_is_a_404(world):
    assert (
        client(world.users["sponsor"])
        .get("/api/audit-trail/", {"subject": str(world.subject_a.pk)})
        .status_code
        == 403
    )
    assert (
        client(world.users["coordinator"])
        .get("/api/audit-trail/", {"subject": str(world.subject_b.pk)})
        .status_code
        == 404
    )
    assert (
        client(world.users["coordinator"]).get("/api/audit-trail/", {"subject": "not-a-uuid"}).status_code
        == 404
    )
    assert client(world.users["coordinator"]).get("/api/audit-trail/").status_code == 400


def test_a_site_coordinator_s_subject_export_holds_only_rows_of_their_site(world):
    rows = _csv(
        client(world.users["coordinator"]).get("/api/audit-trail/", {"subject": str(world.subject_a.pk)})
    )
    assert rows and {r["site"] for r in rows if r["site"]} == {"A"}


# --- sponsor viewers read pseudonymised data ------------------------------------------------------


def test_a_sponsor_viewer_sees_no_initials_and_only_the_birth_year(world):
    subject_services.subject_update(
        user=world.users["coordinator"],
        subject=world.subject_a,
        initials="WXY",
        reason=ChangeReason("other", "added"),
    )
    sponsor = client(world.users["sponsor"])
    shown = sponsor.get(f"/api/subjects/{world.subject_a.pk}/").json()
    assert (shown["initials"], shown["birth_date"]) == ("", "1970")
    listed = {r["id"]: r for r in sponsor.get("/api/subjects/").json()["results"]}
    assert listed[str(world.subject_a.pk)]["initials"] == ""
    history = sponsor.get(f"/api/subjects/{world.subject_a.pk}/history/").json()
    assert all("initials" not in entry["changes"] for entry in history)
    assert b"WXY" not in sponsor.get(f"/api/subjects/{world.subject_a.pk}/history/").content
    monitor = client(world.users["monitor"]).get(f"/api/subjects/{world.subject_a.pk}/").json()
    assert monitor["initials"] == "WXY"
