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


def test_the_wsgi_application_loads_every_view_and_freezes_the_loaded_code():
    # The server's process: what it loaded at start is out of the garbage collector's walks
    # (edc/wsgi.py; the overdue report's figures in docs/performance.md depend on it).
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "EDC_TESTING"))}
    env.update({"DJANGO_SECRET_KEY": "x" * 50, "DJANGO_ALLOWED_HOSTS": "edc.example.org"})
    code = (
        "import gc, sys; import edc.wsgi; "
        "assert 'edc.visits.api' in sys.modules and 'edc.safety.admin' in sys.modules; "
        "print(gc.get_freeze_count())"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip()) > 50_000
