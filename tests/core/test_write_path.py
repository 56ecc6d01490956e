"""The audited write path on a real model (Subject), through the services every door calls."""

import pytest
from django.core import serializers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from edc.core.exceptions import AuditBypassError, DeletionRefused, ReasonRequired, RecordLocked, StaleRecord
from edc.core.models import ReasonCode, Role
from edc.core.services import (
    ChangeReason,
    record_bulk_create,
    record_lock,
    record_save,
    record_unlock,
    record_update,
)
from edc.subjects import services
from edc.subjects.models import Subject
from tests.factories import MembershipFactory, SiteFactory, UserFactory

pytestmark = pytest.mark.django_db

REASON = ChangeReason(ReasonCode.TRANSCRIPTION_ERROR, "typed wrong")


@pytest.fixture
def subject(two_sites):
    return services.subject_screen(
        user=two_sites.user_a,
        study=two_sites.study,
        site=two_sites.site_a,
        sex="F",
        birth_date="1961-05",
    )


def _fresh(subject):
    return Subject.objects.get(pk=subject.pk)


def test_first_entry_needs_no_reason_and_writes_one_history_row(subject, two_sites):
    rows = list(subject.history.all())
    assert len(rows) == 1
    assert rows[0].history_type == "+"
    assert rows[0].history_user == two_sites.user_a
    assert rows[0].history_change_reason in ("", None)
    assert subject.version == 1


def test_change_without_reason_is_refused_and_nothing_is_written(subject, two_sites):
    with pytest.raises(ReasonRequired):
        services.subject_update(user=two_sites.user_a, subject=subject, initials="ZX", reason=None)
    stored = _fresh(subject)
    assert stored.initials == ""
    assert stored.history.count() == 1


def test_change_with_reason_keeps_user_time_old_new_reason_and_raises_the_version(subject, two_sites):
    before = timezone.now()
    services.subject_update(
        user=two_sites.user_a,
        subject=subject,
        birth_date="1961-05-17",
        reason=ChangeReason(ReasonCode.SOURCE_UPDATED, "birth certificate seen"),
    )
    newest, previous = list(_fresh(subject).history.order_by("-history_date"))[:2]
    assert newest.history_user == two_sites.user_a
    assert newest.history_date >= before
    assert newest.history_reason_code == "source_updated"
    assert newest.history_change_reason == "birth certificate seen"
    assert str(previous.birth_date) == "1961-05"
    assert str(newest.birth_date) == "1961-05-17"
    assert (previous.version, newest.version, _fresh(subject).version) == (1, 2, 2)


def test_other_reason_needs_an_explanation():
    with pytest.raises(ValidationError):
        ChangeReason(ReasonCode.OTHER, "  ")
    with pytest.raises(ValidationError):
        ChangeReason("because", "text")


@pytest.mark.parametrize(
    "code, text, field",
    [
        ("transcription_error", "", "change_reason"),
        ("", "", "change_reason"),
        ("whim", "x", "change_reason_code"),
    ],
)
def test_a_reason_given_in_a_door_needs_words_and_a_known_code(code, text, field):
    with pytest.raises(ValidationError) as refused:
        ChangeReason.from_input(code, text)
    assert field in refused.value.message_dict
    assert ChangeReason.from_input("", "typo") == ChangeReason(ReasonCode.OTHER, "typo")


def test_an_unchanged_save_adds_no_history_and_keeps_the_version(subject, two_sites):
    services.subject_update(user=two_sites.user_a, subject=subject, sex="F", reason=None)
    assert subject.history.count() == 1
    assert _fresh(subject).version == 1


def test_delete_is_refused_on_the_record_and_on_querysets(subject):
    with pytest.raises(DeletionRefused):
        subject.delete()
    with pytest.raises(DeletionRefused):
        Subject.objects.filter(pk=subject.pk).delete()
    assert Subject.objects.filter(pk=subject.pk).exists()


# --- no side door ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bypass",
    [
        pytest.param(lambda s: Subject.objects.filter(pk=s.pk).update(initials="QQ"), id="update"),
        pytest.param(
            lambda s: Subject._base_manager.filter(pk=s.pk).update(initials="QQ"), id="base-manager"
        ),
        pytest.param(lambda s: Subject._default_manager.bulk_update([s], ["initials"]), id="bulk_update"),
        pytest.param(lambda s: (setattr(s, "initials", "QQ"), s.save()), id="save"),
        pytest.param(
            lambda s: (setattr(s, "initials", "QQ"), s.save(update_fields=["initials"])), id="save-fields"
        ),
        pytest.param(
            lambda s: Subject.objects.update_or_create(pk=s.pk, defaults={"initials": "QQ"}),
            id="update_or_create",
        ),
    ],
)
def test_every_write_that_would_skip_history_is_refused(subject, bypass):
    with pytest.raises(AuditBypassError):
        bypass(_fresh(subject))
    stored = _fresh(subject)
    assert stored.initials == ""
    assert stored.history.count() == 1


@pytest.mark.parametrize(
    "create",
    [
        pytest.param(lambda **v: Subject.objects.create(**v), id="create"),
        pytest.param(lambda **v: Subject.objects.get_or_create(**v), id="get_or_create"),
        pytest.param(lambda **v: Subject.objects.bulk_create([Subject(**v)]), id="bulk_create"),
        pytest.param(lambda **v: Subject(**v).save(), id="save"),
    ],
)
def test_a_new_record_without_its_history_row_is_refused(two_sites, create):
    with pytest.raises(AuditBypassError):
        create(
            study=two_sites.study, site=two_sites.site_a, screening_number="X-1", sex="M", birth_date="1970"
        )
    assert not Subject.objects.exists()
    assert not Subject.history.exists()


def test_loading_a_fixture_of_clinical_data_is_refused(subject):
    data = serializers.serialize("json", [subject])
    obj = next(serializers.deserialize("json", data))
    with pytest.raises(AuditBypassError):
        obj.save()


def test_voiding_by_setting_voided_at_is_refused(subject, two_sites):
    subject.voided_at = timezone.now()
    with pytest.raises(ValidationError) as refused:
        record_save(subject, user=two_sites.user_a, reason=REASON)
    assert "voided_at" in refused.value.message_dict
    assert _fresh(subject).voided_at is None


@pytest.mark.parametrize("field, value", [("locked_at", timezone.now()), ("void_reason", "gone")])
def test_system_fields_change_only_through_their_helpers(subject, two_sites, field, value):
    with pytest.raises(ValidationError) as refused:
        record_update(subject, user=two_sites.user_a, changes={field: value}, reason=REASON)
    assert field in refused.value.message_dict
    stored = _fresh(subject)
    assert (stored.version, stored.locked_at, stored.void_reason) == (1, None, "")


def test_a_record_cannot_be_born_voided_or_locked(two_sites):
    subject = Subject(
        study=two_sites.study, site=two_sites.site_a, screening_number="X", sex="M", birth_date="1970"
    )
    subject.locked_at = timezone.now()
    with pytest.raises(ValidationError) as refused:
        record_save(subject, user=two_sites.user_a)
    assert "locked_at" in refused.value.message_dict
    assert not Subject.objects.exists()


# --- optimistic concurrency ------------------------------------------------------------------------


def test_a_change_based_on_a_stale_version_is_refused_and_the_first_change_survives(subject, two_sites):
    first, second = _fresh(subject), _fresh(subject)
    services.subject_update(user=two_sites.user_a, subject=first, initials="AB", reason=REASON)
    with pytest.raises(StaleRecord) as refused:
        services.subject_update(user=two_sites.user_a, subject=second, initials="CD", reason=REASON)
    assert refused.value.current.initials == "AB"
    assert refused.value.current.version == 2
    stored = _fresh(subject)
    assert (stored.initials, stored.version, stored.history.count()) == ("AB", 2, 2)


def test_an_explicit_stale_version_is_refused_even_on_a_fresh_instance(subject, two_sites):
    services.subject_update(user=two_sites.user_a, subject=_fresh(subject), initials="AB", reason=REASON)
    with pytest.raises(StaleRecord):
        services.subject_update(
            user=two_sites.user_a, subject=_fresh(subject), version=1, sex="M", reason=REASON
        )
    assert _fresh(subject).sex == "F"
    services.subject_update(user=two_sites.user_a, subject=_fresh(subject), version=2, sex="M", reason=REASON)
    assert _fresh(subject).version == 3


def test_voiding_a_stale_version_is_refused(subject, two_sites):
    services.subject_update(user=two_sites.user_a, subject=_fresh(subject), initials="AB", reason=REASON)
    with pytest.raises(StaleRecord):
        services.subject_void(
            user=two_sites.user_a, subject=_fresh(subject), version=1, reason=ChangeReason("other", "dup")
        )
    assert _fresh(subject).voided_at is None


# --- voiding and locks -----------------------------------------------------------------------------


def test_void_keeps_the_record_readable_and_out_of_working_lists(subject, two_sites):
    services.subject_void(
        user=two_sites.user_a,
        subject=subject,
        reason=ChangeReason(ReasonCode.OTHER, "entered in the wrong study"),
    )
    stored = _fresh(subject)
    assert stored.voided_at is not None
    assert "entered in the wrong study" in stored.void_reason
    assert stored.version == 2
    assert not Subject.objects.active().filter(pk=subject.pk).exists()
    newest = stored.history.order_by("-history_date").first()
    assert newest.voided_at is not None
    assert newest.history_change_reason == "entered in the wrong study"


def test_void_needs_a_reason_text(subject, two_sites):
    with pytest.raises(ValidationError):
        services.subject_void(
            user=two_sites.user_a, subject=subject, reason=ChangeReason(ReasonCode.LATE_ENTRY)
        )
    assert _fresh(subject).voided_at is None


def test_a_voided_record_refuses_changes(subject, two_sites):
    services.subject_void(
        user=two_sites.user_a, subject=subject, reason=ChangeReason(ReasonCode.OTHER, "dup")
    )
    with pytest.raises(ValidationError):
        services.subject_update(user=two_sites.user_a, subject=_fresh(subject), initials="AB", reason=REASON)


def _lock_study(study):
    # The study lock belongs to the data-integrity workflow; a definition is saved with its history.
    study.locked_at = timezone.now()
    study.save()


@pytest.mark.parametrize("lock_on", ["record", "study"])
def test_a_locked_record_refuses_any_change_and_stays_unchanged(subject, two_sites, lock_on):
    if lock_on == "record":
        record_lock(subject, user=two_sites.superuser)
    else:
        _lock_study(two_sites.study)
    with pytest.raises(RecordLocked):
        services.subject_update(user=two_sites.user_a, subject=_fresh(subject), initials="AB", reason=REASON)
    stored = _fresh(subject)
    assert stored.initials == ""
    assert stored.history.count() == (2 if lock_on == "record" else 1)


def test_lock_and_unlock_are_in_the_history_and_unlocking_needs_a_reason(subject, two_sites):
    record_lock(subject, user=two_sites.superuser)
    with pytest.raises(ValidationError):
        record_unlock(_fresh(subject), user=two_sites.superuser, reason=ChangeReason(ReasonCode.LATE_ENTRY))
    record_unlock(
        _fresh(subject), user=two_sites.superuser, reason=ChangeReason(ReasonCode.OTHER, "query answered")
    )
    services.subject_update(user=two_sites.user_a, subject=_fresh(subject), initials="AB", reason=REASON)
    rows = list(_fresh(subject).history.order_by("history_date", "history_id"))
    assert [(row.locked_at is not None, row.version) for row in rows] == [
        (False, 1),
        (True, 2),
        (False, 3),
        (False, 4),
    ]
    assert rows[2].history_change_reason == "query answered"


# --- typed services --------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["status", "subject_identifier", "voided_at", "screening_number", "study"])
def test_subject_update_takes_only_the_editable_fields(subject, two_sites, field):
    with pytest.raises(TypeError):
        services.subject_update(user=two_sites.user_a, subject=subject, reason=REASON, **{field: "x"})


@pytest.mark.parametrize("field, value", [("screening_number", "SCR-999"), ("study", "other")])
def test_the_identity_of_a_record_is_fixed_once_it_exists(subject, two_sites, field, value):
    if field == "study":
        value = SiteFactory(code="Z").study
    with pytest.raises(ValidationError) as refused:
        record_update(subject, user=two_sites.superuser, changes={field: value}, reason=REASON)
    assert field in refused.value.message_dict


def test_a_site_move_needs_write_rights_at_both_sites(subject, two_sites):
    reader_of_a = UserFactory(username="writes_b_reads_a")
    MembershipFactory(
        user=reader_of_a, study=two_sites.study, site=two_sites.site_b, role=Role.SITE_COORDINATOR
    )
    MembershipFactory(user=reader_of_a, study=two_sites.study, site=two_sites.site_a, role=Role.MONITOR)
    with pytest.raises(PermissionDenied):
        services.subject_update(user=reader_of_a, subject=subject, site=two_sites.site_b, reason=REASON)
    with pytest.raises(PermissionDenied):  # and a site-A coordinator cannot push the subject to B
        services.subject_update(user=two_sites.user_a, subject=subject, site=two_sites.site_b, reason=REASON)
    assert _fresh(subject).site == two_sites.site_a
    both = UserFactory(username="writes_both")
    MembershipFactory(user=both, study=two_sites.study, site=None, role=Role.INVESTIGATOR)
    services.subject_update(user=both, subject=subject, site=two_sites.site_b, reason=REASON)
    assert _fresh(subject).site == two_sites.site_b


@pytest.mark.parametrize("role", [Role.DATA_MANAGER, Role.MONITOR, Role.SPONSOR_VIEWER, Role.ADMIN])
def test_only_site_staff_enter_clinical_data(two_sites, role):
    user = UserFactory(username=f"as_{role}")
    MembershipFactory(user=user, study=two_sites.study, site=None, role=role)
    with pytest.raises(PermissionDenied):
        services.subject_screen(
            user=user,
            study=two_sites.study,
            site=two_sites.site_a,
            sex="M",
            birth_date="1970",
        )
    assert not Subject.objects.exists()


def test_a_coordinator_cannot_write_at_another_site(two_sites):
    with pytest.raises(PermissionDenied):
        services.subject_screen(
            user=two_sites.user_a,
            study=two_sites.study,
            site=two_sites.site_b,
            sex="M",
            birth_date="1970",
        )
    assert not Subject.objects.exists()


def test_a_site_of_another_study_is_refused(two_sites):
    other = SiteFactory(code="X")
    with pytest.raises(ValidationError) as exc:
        services.subject_screen(
            user=two_sites.superuser,
            study=two_sites.study,
            site=other,
            sex="M",
            birth_date="1970",
        )
    assert "site" in exc.value.message_dict
    assert not Subject.objects.exists()


def test_duplicate_screening_number_is_refused_without_writing(subject, two_sites):
    # The screening service draws numbers itself; the constraint still guards the write path.
    duplicate = Subject(
        study=two_sites.study,
        site=two_sites.site_a,
        screening_number=subject.screening_number,
        sex="M",
        birth_date="1970",
    )
    with pytest.raises(ValidationError):
        record_save(duplicate, user=two_sites.user_a)
    assert Subject.objects.count() == 1


@pytest.mark.parametrize(
    "birth_date", ["1800", "1899-12-31", "2999", "١٩٦١", "１９６１-05", "1961-٠٥", "1961-05-1７"]
)
def test_implausible_or_non_ascii_birth_dates_are_refused(two_sites, birth_date):
    with pytest.raises(ValidationError) as refused:
        services.subject_screen(
            user=two_sites.user_a,
            study=two_sites.study,
            site=two_sites.site_a,
            sex="M",
            birth_date=birth_date,
        )
    assert "birth_date" in refused.value.message_dict
    assert not Subject.objects.exists()


def test_the_same_value_written_as_text_is_not_a_change(subject, two_sites):
    services.subject_update(user=two_sites.user_a, subject=subject, birth_date="1961-05", reason=None)
    assert subject.history.count() == 1


def test_a_long_reason_for_change_is_stored_whole(subject, two_sites):
    # The history column was varchar(100): PostgreSQL refused a longer reason with a 500.
    long_reason = ("The source document was re-read with the investigator. " * 40).strip()
    assert len(long_reason) > 2000
    services.subject_update(
        user=two_sites.user_a,
        subject=subject,
        initials="ZX",
        reason=ChangeReason(ReasonCode.SOURCE_UPDATED, long_reason),
    )
    newest = _fresh(subject).history.order_by("-history_date").first()
    assert newest.history_change_reason == long_reason


# --- bulk creation ---------------------------------------------------------------------------------


def _new_subjects(two_sites, count, prefix="B"):
    site = two_sites.site_a
    return [
        Subject(
            study=two_sites.study, site=site, screening_number=f"{prefix}-{n}", sex="F", birth_date="1970"
        )
        for n in range(count)
    ]


def test_bulk_creation_writes_each_record_with_its_history_row(two_sites):
    created = record_bulk_create(_new_subjects(two_sites, 3), user=two_sites.user_a)
    assert Subject.objects.count() == 3
    rows = Subject.history.order_by("screening_number")
    assert [(r.screening_number, r.history_type, r.history_user, r.version) for r in rows] == [
        (f"B-{n}", "+", two_sites.user_a, 1) for n in range(3)
    ]
    assert all(not s._state.adding for s in created)


def test_bulk_creation_costs_two_inserts_whatever_the_number_of_records(two_sites):
    def inserts(count, prefix):
        subjects = _new_subjects(two_sites, count, prefix)
        with CaptureQueriesContext(connection) as ctx:
            record_bulk_create(subjects, user=two_sites.user_a)
        return [q["sql"].split()[0] for q in ctx.captured_queries if q["sql"].startswith("INSERT")]

    # 25 subject rows (about 30 columns each with their history) fit one statement also on SQLite
    # (999 parameters); PostgreSQL takes thousands.
    assert inserts(5, "F") == ["INSERT", "INSERT"]
    assert inserts(25, "M") == ["INSERT", "INSERT"]
    assert Subject.history.count() == 30


def test_bulk_creation_is_all_or_nothing(two_sites):
    subjects = _new_subjects(two_sites, 3)
    subjects[1].sex = "X"
    with pytest.raises(ValidationError) as refused:
        record_bulk_create(subjects, user=two_sites.user_a)
    assert "1.sex" in refused.value.message_dict
    duplicates = _new_subjects(two_sites, 2)
    duplicates[1].screening_number = duplicates[0].screening_number
    with pytest.raises(ValidationError):
        record_bulk_create(duplicates, user=two_sites.user_a)
    assert not Subject.objects.exists()
    assert not Subject.history.exists()


def test_bulk_creation_under_a_locked_study_is_refused(two_sites):
    _lock_study(two_sites.study)
    subjects = _new_subjects(two_sites, 2)
    for subject in subjects:
        subject.study = two_sites.study  # the locked instance, as a caller holding it would pass
    with pytest.raises(RecordLocked):
        record_bulk_create(subjects, user=two_sites.user_a)
    assert not Subject.objects.exists()
