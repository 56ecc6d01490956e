"""The journey's small trial (tests/subjects/conftest.py) for these tests too."""

from tests.subjects.conftest import trial  # noqa: F401
