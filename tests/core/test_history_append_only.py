"""History rows are append-only: the ORM refuses changes on every database, a trigger on PostgreSQL.

Users are deactivated, never deleted, so history keeps naming them.
"""

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError

from edc.core.exceptions import DeletionRefused, HistoryIsAppendOnly
from edc.core.history import history_models, tables_without_trigger
from edc.core.models import Membership, ReasonCode
from edc.core.services import ChangeReason
from edc.subjects import services
from edc.subjects.models import Subject
from studies.models import Study

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL only: the trigger is a PostgreSQL feature"
)


@pytest.fixture
def subject(two_sites):
    subject = services.subject_screen(
        user=two_sites.user_a,
        study=two_sites.study,
        site=two_sites.site_a,
        sex="F",
        birth_date="1961",
    )
    services.subject_update(
        user=two_sites.user_a, subject=subject, initials="AB", reason=ChangeReason(ReasonCode.OTHER, "typo")
    )
    return subject


def test_every_app_has_its_history_tables_found():
    tables = {model._meta.db_table for model in history_models()}
    assert {
        "subjects_historicalsubject",
        "core_historicalmembership",
        "studies_historicalstudy",
        "studies_historicalvisitdefinition_forms",  # the history of a many-to-many field
    } <= tables


@pytest.mark.parametrize("model", history_models(), ids=lambda m: m._meta.label)
def test_no_queryset_of_any_historical_model_changes_or_deletes_rows(model):
    managers = [model.objects, model._base_manager, model._default_manager]
    for manager in managers:
        queryset = manager.all()
        for write in (
            lambda qs: qs.update(history_change_reason="forged"),
            lambda qs: qs.delete(),
            lambda qs: qs.bulk_update([], ["history_type"]),
        ):
            with pytest.raises(HistoryIsAppendOnly):
                write(queryset)


def test_the_history_manager_of_a_record_refuses_changes(subject):
    with pytest.raises(HistoryIsAppendOnly):
        subject.history.update(history_change_reason="forged")
    with pytest.raises(HistoryIsAppendOnly):
        Subject.history.filter(id=subject.pk).delete()
    with pytest.raises(HistoryIsAppendOnly):
        subject.history.update_or_create(history_id=1, defaults={"initials": "ZZ"})
    assert list(subject.history.values_list("initials", flat=True)) == ["AB", ""]


@pytest.mark.parametrize("kind", ["subject", "membership", "study"])
def test_a_stored_history_row_cannot_be_saved_again_or_deleted(subject, two_sites, kind):
    record = {"subject": subject, "membership": Membership.objects.first(), "study": two_sites.study}[kind]
    row = record.history.first()
    row.history_change_reason = "forged"
    with pytest.raises(HistoryIsAppendOnly):
        row.save()
    with pytest.raises(HistoryIsAppendOnly), transaction.atomic():  # Model.delete's atomic block fails
        row.delete()
    copy = type(row)(**{f.attname: getattr(row, f.attname) for f in row._meta.concrete_fields})
    with pytest.raises(HistoryIsAppendOnly):  # an UPDATE in disguise: a new instance with the row's id
        copy.save()
    assert record.history.first().history_change_reason != "forged"


def test_new_history_rows_are_still_written(subject):
    assert subject.history.count() == 2
    assert Study.history.exists()


@postgresql_only
def test_every_historical_table_has_the_append_only_trigger():
    assert tables_without_trigger() == []


@postgresql_only
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE subjects_historicalsubject SET initials = 'ZZ'",
        "DELETE FROM subjects_historicalsubject",
        "UPDATE core_historicalmembership SET role = 'admin'",
        "DELETE FROM studies_historicalstudy",
    ],
)
def test_raw_sql_cannot_change_or_delete_history_on_postgresql(subject, sql):
    with (
        pytest.raises(IntegrityError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert sorted(subject.history.values_list("initials", flat=True)) == ["", "AB"]


@postgresql_only
def test_the_database_check_reports_a_historical_table_without_the_trigger(subject):
    from edc.core.history import check_history_triggers

    assert check_history_triggers(databases=["default"]) == []
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER edc_history_append_only ON subjects_historicalsubject")
    errors = check_history_triggers(databases=["default"])
    assert [(e.id, "subjects_historicalsubject" in e.msg) for e in errors] == [("core.E010", True)]


@postgresql_only
def test_the_trigger_check_passes_before_the_first_migration_so_migrate_can_run(subject):
    # `migrate` runs the database checks before it creates anything: a table that does not exist yet
    # is a migration to run, not a table without its trigger (a fresh PostgreSQL could not migrate).
    with connection.cursor() as cursor:  # PostgreSQL's DDL is transactional: the test rolls it back
        cursor.execute("ALTER TABLE subjects_historicalsubject RENAME TO not_migrated_yet")
        cursor.execute("DROP TRIGGER edc_history_append_only ON not_migrated_yet")
    assert "subjects_historicalsubject" not in tables_without_trigger()


# --- users -----------------------------------------------------------------------------------------


def test_a_user_cannot_be_deleted_and_their_history_keeps_naming_them(subject, two_sites):
    for user in (two_sites.superuser, two_sites.user_a):  # without and with memberships (protected)
        with pytest.raises((DeletionRefused, ProtectedError)), transaction.atomic():
            user.delete()
        with pytest.raises((DeletionRefused, ProtectedError)), transaction.atomic():
            get_user_model().objects.filter(pk=user.pk).delete()
    with pytest.raises(DeletionRefused), transaction.atomic():
        two_sites.superuser.delete()
    assert get_user_model().objects.filter(pk__in=[two_sites.superuser.pk, two_sites.user_a.pk]).count() == 2
    assert set(subject.history.values_list("history_user__username", flat=True)) == {"coord_a"}


def test_the_admin_deactivates_users_instead_of_deleting_them(client, two_sites):
    client.force_login(two_sites.superuser)
    user_a = two_sites.user_a
    assert client.get(f"/admin/auth/user/{user_a.pk}/delete/").status_code == 403
    response = client.post(
        "/admin/auth/user/", {"action": "deactivate", "_selected_action": [user_a.pk]}, follow=True
    )
    assert response.status_code == 200
    user_a.refresh_from_db()
    assert user_a.is_active is False
    actions = client.get("/admin/auth/user/").context["action_form"].fields["action"].choices
    assert "delete_selected" not in [name for name, _ in actions]


def test_only_superusers_manage_accounts_in_the_admin(client, two_sites):
    from django.contrib.auth.models import Permission

    two_sites.user_a.user_permissions.add(*Permission.objects.filter(content_type__app_label="auth"))
    client.force_login(two_sites.user_a)
    assert client.get("/admin/auth/user/").status_code == 403
