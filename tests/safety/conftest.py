"""The CTCAE terms for tests: the vendored v5.0 list loaded into the test database once per session.

`ctcae_terms` gives a test the 837 stored terms, as the product reads them. The first test that asks
loads them with `load_ctcae` outside any test transaction, so they stay for the rest of the session;
should a module have emptied the database meanwhile (a flush), the terms are loaded again inside that
test's transaction. `no_ctcae_terms` starts a test from an empty dictionary table instead.
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from edc.safety.ctcae import EXPECTED_TERMS, VERSION
from edc.safety.models import CtcaeTerm


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
