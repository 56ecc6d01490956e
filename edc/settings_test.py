"""Test settings: the normal settings with a throwaway key and fast password hashing."""

import os

os.environ.setdefault("EDC_TESTING", "1")

from edc.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class _NoMigrations(dict[str, None]):
    """Every app "has no migrations": the test database is created from the models directly."""

    def __contains__(self, item: object) -> bool:
        return True

    def __getitem__(self, item: str) -> None:
        return None


# SQLite only: running the 36 migrations costs about a minute of CPU per test run, and on SQLite they
# hold nothing the models do not (the append-only history triggers are PostgreSQL's; the one data
# migration converts existing rows). The PostgreSQL run migrates as production does, triggers
# included, and `make check-migrations` keeps the migrations equal to the models.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    MIGRATION_MODULES = _NoMigrations()
