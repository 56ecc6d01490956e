"""Configuration from the environment: production refuses to start without its secrets."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _check(env_overrides: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "EDC_TESTING"))}
    env.update(env_overrides)
    env["DJANGO_SETTINGS_MODULE"] = "edc.settings"
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    "env, missing",
    [
        ({}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": "x" * 50}, "DJANGO_ALLOWED_HOSTS"),
    ],
)
def test_with_debug_off_the_app_refuses_to_start_without_secrets(env, missing):
    result = _check(env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_with_debug_off_and_secrets_set_the_app_starts():
    result = _check({"DJANGO_SECRET_KEY": "x" * 50, "DJANGO_ALLOWED_HOSTS": "edc.example.org"})
    assert result.returncode == 0, result.stderr


def test_debug_on_starts_without_secrets():
    assert _check({"DJANGO_DEBUG": "1"}).returncode == 0
