"""Shared fixtures. App-specific ones live in tests/<app>/conftest.py."""

from __future__ import annotations

from dataclasses import dataclass
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command
from rest_framework.test import APIClient

from edc.core.models import Role
from edc.safety.ctcae import EXPECTED_TERMS, VERSION
from edc.safety.models import CtcaeTerm
from tests.factories import MembershipFactory, SiteFactory, StudyFactory, UserFactory


@dataclass
class TwoSites:
    """One study with sites A and B, a coordinator at each, a monitor of all sites and a superuser."""

    study: object
    site_a: object
    site_b: object
    user_a: object
    user_b: object
    monitor: object
    superuser: object


@pytest.fixture
def two_sites(db) -> TwoSites:
    study = StudyFactory(protocol_id="TWO-SITES")
    site_a = SiteFactory(study=study, code="A")
    site_b = SiteFactory(study=study, code="B")
    user_a = UserFactory(username="coord_a")
    user_b = UserFactory(username="coord_b")
    monitor = UserFactory(username="monitor")
    MembershipFactory(user=user_a, study=study, site=site_a, role=Role.SITE_COORDINATOR)
    MembershipFactory(user=user_b, study=study, site=site_b, role=Role.SITE_COORDINATOR)
    MembershipFactory(user=monitor, study=study, site=None, role=Role.MONITOR)
    superuser = UserFactory(username="root", is_superuser=True)
    return TwoSites(study, site_a, site_b, user_a, user_b, monitor, superuser)


@pytest.fixture(autouse=True)
def _fresh_cache():
    # The API's rate limits count in the cache (edc/api/throttling.py): no test inherits another's counts.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def client_for(api_client):
    def _client(user) -> APIClient:
        api_client.force_authenticate(user=user)
        return api_client

    return _client


# --- CTCAE terms: the vendored v5.0 list loaded into the test database once per session ------------
# `ctcae_terms` gives a test the 837 stored terms, as the product reads them. The first test that asks
# loads them with `load_ctcae` outside any test transaction, so they stay for the rest of the session;
# should a module have emptied the database meanwhile (a flush), the terms are loaded again inside that
# test's transaction. `no_ctcae_terms` starts a test from an empty dictionary table instead.


def _load() -> None:
    call_command("load_ctcae", stdout=StringIO(), stderr=StringIO())


@pytest.fixture(scope="session")
def _ctcae_terms_session(django_db_setup, django_db_blocker) -> None:
    with django_db_blocker.unblock():
        _load()


@pytest.fixture
def ctcae_terms(_ctcae_terms_session, db) -> None:
    if CtcaeTerm.objects.filter(version=VERSION).count() != EXPECTED_TERMS:
        _load()


@pytest.fixture
def no_ctcae_terms(db) -> None:
    # Inside the test's transaction: the session's terms come back when it is rolled back.
    CtcaeTerm.objects.all().delete()
