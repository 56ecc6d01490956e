"""The journey's small trial (tests/subjects/conftest.py) for these tests too, and the five seed
studies loaded once per module (`studies`, from test_schedule_rebuild)."""

from tests.subjects.conftest import trial  # noqa: F401
from tests.visits.test_schedule_rebuild import studies  # noqa: F401
