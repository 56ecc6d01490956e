"""Shared fixtures. App-specific ones live in tests/<app>/conftest.py."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from edc.core.models import Role
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


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def client_for(api_client):
    def _client(user) -> APIClient:
        api_client.force_authenticate(user=user)
        return api_client

    return _client
