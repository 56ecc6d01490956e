"""Schemathesis against a live server: zero server errors, zero schema violations, for two users.

    bash .ci/schemathesis.sh            (CI runs it from .ci/run; about two minutes)

What it does, in a throwaway database (PostgreSQL when one answers on 127.0.0.1:5432, else an
SQLite file in a temporary folder), dropped at the end whatever happens:

1. migrate; load the five trials and the CTCAE dictionary; build the world (`world` below): a second
   site for one trial, an administrator (superuser), a site coordinator at site A, subjects at both
   sites (some changed, one voided) and in another trial;
2. start gunicorn on 127.0.0.1 (EDC_SCHEMATHESIS_PORT, default a free port) with debug off, the lockout and
   the rate limits raised so that the run measures the API, not the throttle;
3. get a token for each user through POST /api/auth/token/, as an integration would;
4. run `schemathesis run` on /api/schema/ once per user with every check, the phases examples,
   fuzzing and stateful (EDC_SCHEMATHESIS_PHASES adds coverage: see PHASES), a fixed seed and a
   bounded number of cases per operation;
5. print the number of cases per user, and exit 1 on any failure of either run.

How stateful it is: the stateful phase chains operations through the links schemathesis infers
from the schema (a list's ids into retrieve, change, void, history); writes use whatever version the
chain carries, so they meet 409/428 as often as 200, all documented. The documented path
parameters are otherwise drawn at random (mostly 404s, also documented). One check is tuned: a
schema-valid request may still be refused 400 (an id that names no row the user sees, a birth year
before 1900, a duplicate screening number: facts of the database, not of the schema) or 428 (the
version may come as If-Match or in the body, a rule OpenAPI cannot state), so
positive_data_acceptance also accepts those two answers.

Arguments are passed on to `schemathesis run` (e.g. `--include-path-regex subjects --mode positive`).
Environment: EDC_SCHEMATHESIS_EXAMPLES (cases per operation and phase, default 20),
EDC_SCHEMATHESIS_PHASES (default examples,fuzzing,stateful; add coverage for the thorough run),
EDC_SCHEMATHESIS_SEED (default 20261125), EDC_SCHEMATHESIS_PORT (default: a free port).
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv" / "bin"
PY = str(VENV / "python")


def _free_port() -> int:
    # Several runs may share a machine (worktrees, CI jobs): without a port given, take a free one.
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


PORT = int(os.environ.get("EDC_SCHEMATHESIS_PORT") or _free_port())
EXAMPLES = int(os.environ.get("EDC_SCHEMATHESIS_EXAMPLES", "20"))
SEED = int(os.environ.get("EDC_SCHEMATHESIS_SEED", "20261125"))
# CI's run: examples, fuzzing and the stateful chains (about 5 minutes for both users). The coverage
# phase (every boundary and negative variant of every parameter, ~36,000 cases per user with 230
# operations, over half an hour on two cores) is the thorough run before a release:
# EDC_SCHEMATHESIS_PHASES=examples,coverage,fuzzing,stateful bash .ci/schemathesis.sh
PHASES = os.environ.get("EDC_SCHEMATHESIS_PHASES", "examples,fuzzing,stateful")
BASE = f"http://127.0.0.1:{PORT}"

CONFIG = """
# Written by .ci/schemathesis_run.py for one run.
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "428", "429"]

# The world's rows: drawn with these probabilities, else generated (mostly rows that do not exist).
[dictionaries.subjects]
values = {subject_ids}

[dictionaries.studies]
values = {study_ids}

[dictionaries.sites]
values = {site_ids}

[dictionaries.forms]
values = {form_codes}

[dictionaries.versions]
values = ['"1"', '"2"', '"3"']

[dictionaries.version_numbers]
values = [1, 2, 3]

[dictionaries.birth_dates]
values = ["1950", "1961-05", "1970-01-31"]

[[operations]]
include-path-regex = "^/api/subjects/"
[operations.parameters]
"path.id" = {{ dictionary = "subjects", probability = 0.7 }}
"header.If-Match" = {{ dictionary = "versions", probability = 0.7 }}
"body.study" = {{ dictionary = "studies", probability = 0.7 }}
"body.site" = {{ dictionary = "sites", probability = 0.7 }}
"body.version" = {{ dictionary = "version_numbers", probability = 0.7 }}
"body.birth_date" = {{ dictionary = "birth_dates", probability = 0.5 }}
"query.study" = {{ dictionary = "studies", probability = 0.7 }}
"query.site" = {{ dictionary = "sites", probability = 0.7 }}

[[operations]]
include-path-regex = "^/api/studies/"
[operations.parameters]
"path.id" = {{ dictionary = "studies", probability = 0.7 }}

[[operations]]
include-path-regex = "^/api/forms/"
[operations.parameters]
"path.code" = {{ dictionary = "forms", probability = 0.7 }}
"""


_DICTIONARIES = ("subject_ids", "study_ids", "site_ids", "form_codes")


def log(message: str) -> None:
    print(f"[schemathesis] {message}", flush=True)


# --- the world (run in a subprocess with the run's settings: `schemathesis_run.py world OUT`) -----


def build_world(out: Path) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "edc.settings")
    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from edc.core.models import Role
    from edc.core.services import ChangeReason, membership_grant
    from edc.subjects import services
    from studies.models import Site, Study

    users = {"admin": secrets.token_urlsafe(16), "coordinator": secrets.token_urlsafe(16)}
    with transaction.atomic():
        model = get_user_model()
        admin = model.objects.create_superuser("st_admin", "st_admin@example.org", users["admin"])
        coordinator = model.objects.create_user(
            "st_coordinator", "st_coordinator@example.org", users["coordinator"]
        )
        study = Study.objects.get(protocol_id="CAM-BEV-CAP-HNSCC")
        site_a = study.sites.order_by("code").first()
        assert site_a is not None, "the trial CAM-BEV-CAP-HNSCC has a site"
        # The trial's record names one site; the run needs two (a throwaway world, not protocol text).
        site_b = Site.objects.create(
            study=study, code="ST-B", name="Second site of the schemathesis world", time_zone="UTC"
        )
        membership_grant(user=admin, member=coordinator, study=study, role=Role.SITE_COORDINATOR, site=site_a)
        reason = ChangeReason("transcription_error", "corrected from the source document")
        for site, prefix in ((site_a, "A"), (site_b, "B")):
            for n in range(1, 5):
                subject = services.subject_screen(
                    user=admin,
                    study=study,
                    site=site,
                    sex="F" if n % 2 else "M",
                    birth_date=f"{1950 + n}-0{n}",
                    initials=f"{prefix}X",
                )
                if n == 2:
                    services.subject_update(user=admin, subject=subject, reason=reason, initials=f"{prefix}Y")
                if n == 4:
                    services.subject_void(user=admin, subject=subject, reason=reason)
        other = Study.objects.exclude(pk=study.pk).order_by("protocol_id").first()
        other_site = other.sites.order_by("code").first() if other is not None else None
        if other is not None and other_site is not None:
            for _ in range(2):
                services.subject_screen(
                    user=admin,
                    study=other,
                    site=other_site,
                    sex="M",
                    birth_date="1960",
                )
    from edc.subjects.models import Subject
    from studies.models import FormDefinition

    everyone = [str(pk) for pk in Subject.objects.order_by("screening_number").values_list("pk", flat=True)]
    at_a = [str(pk) for pk in Subject.objects.filter(site=site_a).values_list("pk", flat=True)]
    world = {
        "users": {"st_admin": users["admin"], "st_coordinator": users["coordinator"]},
        # Per user: every subject for the administrator; the coordinator's own site's, and one of
        # each other site (which must answer 404, like an id that names nothing).
        "subject_ids": {
            "st_admin": everyone,
            "st_coordinator": at_a + [pk for pk in everyone if pk not in at_a][::4],
        },
        "study_ids": list(Study.objects.values_list("pk", flat=True)),
        "site_ids": list(Site.objects.values_list("pk", flat=True)),
        "form_codes": sorted(set(FormDefinition.objects.values_list("code", flat=True))),
    }
    out.write_text(json.dumps(world))


# --- the run -------------------------------------------------------------------------------------


def _database(work: Path) -> tuple[str, str | None]:
    """(DATABASE_URL, the PostgreSQL database to drop or None)."""
    ready = shutil.which("pg_isready")
    if ready and subprocess.run([ready, "-h", "127.0.0.1", "-p", "5432", "-q"]).returncode == 0:
        name = f"edc_schemathesis_{os.getpid()}"
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c", f"CREATE DATABASE {name};"], check=True
        )
        return f"postgres://postgres@127.0.0.1:5432/{name}", name
    return f"sqlite:///{work / 'schemathesis.sqlite3'}", None


def _drop(name: str | None) -> None:
    if name:
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c", f"DROP DATABASE IF EXISTS {name};"],
            check=False,
        )


def _post_json(url: str, body: dict[str, str]) -> dict[str, str]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _wait_for(url: str, server: subprocess.Popen[bytes], seconds: int = 240) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server stopped (exit {server.returncode}) before answering")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    raise SystemExit(f"no answer from {url} within {seconds} s")


def _run_schemathesis(user: str, token: str, config: Path, work: Path, extra: list[str]) -> tuple[bool, str]:
    command = [
        str(VENV / "schemathesis"),
        "--config-file",
        str(config),
        "run",
        f"{BASE}/api/schema/",
        "--url",
        BASE,
        "--header",
        f"Authorization: Token {token}",
        "--checks",
        "all",
        "--phases",
        PHASES,
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        str(SEED),
        "--workers",
        "2",
        "--request-timeout",
        "30",
        "--generation-database",
        "none",
        # Generating the nested case-file bodies (the iRECIST tool) can trip Hypothesis' "too slow"
        # check on a busy machine: that measures the generator, not the API.
        "--suppress-health-check",
        "too_slow",
        "--report",
        "junit",
        "--report-junit-path",
        str(work / f"junit-{user}.xml"),
        "--no-color",
        *extra,
    ]
    log(f"as {user}: {' '.join(command[:5])} ... (seed {SEED}, {EXAMPLES} cases per operation and phase)")
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "schemathesis_hooks", "PYTHONPATH": str(ROOT / ".ci")}
    result = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True)
    output = result.stdout + result.stderr
    print(output, flush=True)
    return result.returncode == 0, output


def _cases(output: str) -> str:
    found = re.findall(r"Test cases:\s*(.+)", output)
    return found[-1].strip() if found else "(count not found in the output)"


def _route(path: str) -> str:
    """/api/subjects/<anything>/void/ as /api/subjects/{id}/void/: the operation a request was for."""
    parts = path.strip("/").split("/")
    if len(parts) < 3 or parts[0] != "api" or parts[1] in ("auth", "schema"):
        return path
    name = "{code}" if parts[1] == "forms" else "{id}"
    return "/".join(["", "api", parts[1], name, *parts[3:], ""])


def _answers(access_log: Path) -> str:
    """How often each operation answered each status, to see what the run reached."""
    counts: dict[tuple[str, str, str], int] = {}
    for line in access_log.read_text(errors="replace").splitlines():
        parts = line.split(" ")
        if len(parts) == 3:
            key = (parts[0], _route(parts[1]), parts[2])
            counts[key] = counts.get(key, 0) + 1
    return "\n".join(f"  {m} {r} {s}: {n}" for (m, r, s), n in sorted(counts.items()))


def main(extra: list[str]) -> int:
    work = Path(tempfile.mkdtemp(prefix="edc-schemathesis-"))
    database_url, pg_name = _database(work)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_COOKIES": "0",
        "DJANGO_LOG_LEVEL": "ERROR",
        # The run measures the API: lockout and rate limits far above what it sends.
        "EDC_LOGIN_FAILURE_LIMIT": "1000000",
        "EDC_API_RATE_PER_TOKEN": "1000000/minute",
        "EDC_API_RATE_ANONYMOUS": "1000000/minute",
    }
    server: subprocess.Popen[bytes] | None = None
    started = time.monotonic()
    try:
        log(f"database {database_url.split('@')[-1]}; migrate, load the trials and CTCAE, build the world")
        for step in (["migrate", "--noinput"], ["load_studies"], ["load_ctcae"]):
            subprocess.run([PY, "manage.py", *step], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        passwords = work / "world.json"
        subprocess.run([PY, __file__, "world", str(passwords)], cwd=ROOT, env=env, check=True)
        server_log = (work / "server.log").open("wb")
        server = subprocess.Popen(
            [
                str(VENV / "gunicorn"),
                "edc.wsgi",
                "--bind",
                f"127.0.0.1:{PORT}",
                "--workers",
                "2",
                # The schema takes seconds of CPU to generate: past gunicorn's 30 s default on a busy
                # machine, the worker would be killed mid-answer.
                "--timeout",
                "180",
                "--access-logfile",
                str(work / "access.log"),
                "--access-logformat",
                "%(m)s %(U)s %(s)s",
            ],
            cwd=ROOT,
            env=env,
            stdout=server_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _wait_for(f"{BASE}/api/schema/", server)
        world = json.loads(passwords.read_text())
        runs = {}
        for user, password in world["users"].items():
            config = work / f"schemathesis-{user}.toml"
            values = {key: world[key][user] if key == "subject_ids" else world[key] for key in _DICTIONARIES}
            config.write_text(CONFIG.format(**{key: json.dumps(value) for key, value in values.items()}))
            token = _post_json(f"{BASE}/api/auth/token/", {"username": user, "password": password})["token"]
            runs[user] = (token, config)
        # The users' runs go side by side against the one server: each waits mostly on the server's
        # answers, so together they take little longer than one (CI's time budget).
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(runs)) as pool:
            futures = {
                user: pool.submit(_run_schemathesis, user, token, config, work, extra)
                for user, (token, config) in runs.items()
            }
            results = {user: future.result() for user, future in futures.items()}
        log(f"finished in {time.monotonic() - started:.0f} s")
        for user, (passed, output) in results.items():
            log(f"{user}: {'passed' if passed else 'FAILED'}; test cases: {_cases(output)}")
        log("answers of the server (method, path, status: requests):\n" + _answers(work / "access.log"))
        server_errors = (work / "server.log").read_text(errors="replace")
        if "Traceback" in server_errors:
            log("the server logged errors:\n" + server_errors[-20000:])
            return 1
        return 0 if all(passed for passed, _ in results.values()) else 1
    finally:
        if server is not None and server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        _drop(pg_name)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "world":
        build_world(Path(sys.argv[2]))
    else:
        sys.exit(main(sys.argv[1:]))
