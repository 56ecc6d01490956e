"""API tokens expire, and stop working after a password change or a deactivation, by any door."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from edc.accounts.models import ApiToken
from tests.accounts.helpers import PASSWORD, later, token_client

pytestmark = pytest.mark.django_db

User = get_user_model()
NEW_PASSWORD = "a-new-long-passphrase-42"


@pytest.fixture
def key(alice, token_login) -> str:
    response = token_login()
    assert response.status_code == 200, response.content
    return response.json()["token"]


def _works(key: str) -> bool:
    response = token_client(key).get("/api/subjects/")
    assert response.status_code in (200, 401), response.content
    return response.status_code == 200


def test_a_token_login_answers_a_token_and_its_expiry(alice, token_login):
    response = token_login()
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "expires"}
    assert _works(body["token"])
    token = ApiToken.objects.get(user=alice)
    assert body["expires"].startswith(token.expires_at.strftime("%Y-%m-%dT%H:%M"))
    assert token.expires_at - token.created_at == settings.EDC_TOKEN_TTL


def test_only_a_digest_of_the_key_is_stored(key):
    token = ApiToken.objects.get()
    assert key not in token.key_digest
    assert len(token.key_digest) == 64


def test_a_token_stops_working_when_it_expires(key):
    with later(settings.EDC_TOKEN_TTL - timedelta(minutes=1)):
        assert _works(key)
    with later(settings.EDC_TOKEN_TTL + timedelta(minutes=1)):
        response = token_client(key).get("/api/subjects/")
        assert response.status_code == 401
        assert "expired" in response.json()["detail"]
    assert not _works(key)  # and stays refused: the expired token is gone
    assert not ApiToken.objects.exists()


def test_the_token_lifetime_is_configurable(alice, token_login, settings):
    settings.EDC_TOKEN_TTL = timedelta(hours=1)
    key = token_login().json()["token"]
    with later(timedelta(minutes=61)):
        assert not _works(key)


def test_an_old_token_stops_working_after_set_password_and_save(alice, key):
    alice.set_password(NEW_PASSWORD)
    alice.save()
    response = token_client(key).get("/api/subjects/")
    assert response.status_code == 401
    assert "password" in response.json()["detail"]


def test_an_old_token_stops_working_after_a_password_change_in_the_admin(alice, key, client):
    client.force_login(alice)
    response = client.post(
        f"/admin/auth/user/{alice.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)
    assert not _works(key)


def test_an_old_token_stops_working_after_the_changepassword_command(alice, key, monkeypatch):
    monkeypatch.setattr(
        "django.contrib.auth.management.commands.changepassword.getpass.getpass", lambda prompt: NEW_PASSWORD
    )
    call_command("changepassword", "alice", stdout=StringIO())
    assert not _works(key)


def test_an_old_token_stops_working_after_a_password_update_that_skips_save(alice, key):
    User.objects.filter(pk=alice.pk).update(password=make_password(NEW_PASSWORD))
    assert not _works(key)


def test_a_new_login_after_a_password_change_gets_a_working_token(alice, key, token_login):
    alice.set_password(NEW_PASSWORD)
    alice.save()
    new_key = token_login(password=NEW_PASSWORD).json()["token"]
    assert _works(new_key)
    assert not _works(key)


def test_a_token_stops_working_on_deactivation_and_stays_revoked_on_reactivation(alice, key):
    alice.is_active = False
    alice.save()
    assert not _works(key)
    alice.is_active = True
    alice.save()
    assert not _works(key)
    assert not ApiToken.objects.filter(user=alice).exists()


def test_a_token_stops_working_after_a_deactivation_that_skips_save(alice, key):
    User.objects.filter(pk=alice.pk).update(is_active=False)
    assert not _works(key)


def test_each_login_gets_its_own_token_and_expired_ones_are_cleared(alice, token_login):
    first = token_login().json()["token"]
    second = token_login().json()["token"]
    assert first != second
    assert _works(first)
    assert _works(second)
    with later(settings.EDC_TOKEN_TTL + timedelta(minutes=1)):
        token_login()
        assert ApiToken.objects.filter(user=alice).count() == 1


def test_an_unknown_token_answers_401_in_the_error_shape(db):
    response = token_client("not-a-token").get("/api/subjects/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert response["WWW-Authenticate"] == "Token"


def test_a_wrong_password_answers_400_and_issues_nothing(alice, token_login):
    response = token_login(password="wrong")
    assert response.status_code == 400
    assert response.json()["errors"] == {"non_field_errors": ["Unable to log in with provided credentials."]}
    assert not ApiToken.objects.exists()


def test_an_inactive_user_gets_no_token(alice, token_login):
    alice.is_active = False
    alice.save()
    assert token_login().status_code == 400
    assert not ApiToken.objects.exists()


def test_the_token_endpoint_names_unknown_and_missing_fields(alice, api):
    response = api.post(
        "/api/auth/token/", {"username": "alice", "password": PASSWORD, "otp": "1"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"otp": ["Unknown field."]}
    missing = api.post("/api/auth/token/", {}, format="json")
    assert set(missing.json()["errors"]) == {"username", "password"}
    not_an_object = api.post("/api/auth/token/", [1, 2], format="json")
    assert not_an_object.status_code == 400


def test_the_token_endpoint_ignores_a_bad_authorization_header(alice, api):
    api.credentials(HTTP_AUTHORIZATION="Token stale-token")
    response = api.post("/api/auth/token/", {"username": "alice", "password": PASSWORD}, format="json")
    assert response.status_code == 200


def test_a_token_login_sets_last_login(alice, token_login):
    assert alice.last_login is None
    token_login()
    alice.refresh_from_db()
    assert alice.last_login is not None


def test_a_token_request_costs_one_query_to_authenticate(alice, key, django_assert_num_queries):
    forced = APIClient()
    forced.force_authenticate(alice)
    with CaptureQueriesContext(connection) as without_token:
        forced.get("/api/subjects/")
    with django_assert_num_queries(1 + len(without_token)):  # the token joined with its user
        assert token_client(key).get("/api/subjects/").status_code == 200
