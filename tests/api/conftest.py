"""The synthetic definitions of tests/studies (a form registry and study SYN-001), for the API's lists."""

from __future__ import annotations

import pytest

from tests.factories import UserFactory
from tests.studies.conftest import loaded, synthetic_files, write_yaml  # noqa: F401  (fixtures)


@pytest.fixture
def superuser(db):
    return UserFactory(username="root_api", is_superuser=True)
