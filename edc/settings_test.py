"""Test settings: the normal settings with a throwaway key and fast password hashing."""

import os

os.environ.setdefault("EDC_TESTING", "1")

from edc.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
