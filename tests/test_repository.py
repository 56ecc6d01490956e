"""The repository stands alone and says how to use it: nothing read from outside it, every vendored
copy present with its note, every setting and every command option in the README."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
# Options every Django command has (by their destination); the README lists the project's own.
BASE_DESTS = {
    "help",
    "version",
    "verbosity",
    "settings",
    "pythonpath",
    "traceback",
    "no_color",
    "force_color",
}
BASE_DESTS |= {"skip_checks"}


def project_files() -> list[Path]:
    files = [*ROOT.glob("edc/**/*.py"), *ROOT.glob("studies/**/*.py"), *ROOT.glob("tests/**/*.py")]
    files += [
        ROOT / name for name in ("Makefile", "Dockerfile", "docker-compose.yml", ".ci/run", "manage.py")
    ]
    return [path for path in files if path.is_file() and path.resolve() != Path(__file__).resolve()]


def test_no_code_test_or_setup_file_reads_the_reference_folder_outside_the_repository():
    pattern = re.compile(
        r"EDC_SHARED_DIR|parents\[3\]|[\"']\.\./shared|/\s*[\"']shared[\"']|BASE_DIR\.parent"
    )
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in project_files()
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if pattern.search(line)
    ]
    assert offenders == []


def test_docker_compose_mounts_nothing_from_outside_the_repository():
    compose = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    assert not re.search(r"^\s*-\s*\.\./", compose, re.MULTILINE)


def vendored() -> list[tuple[str, str, str]]:
    lines = (ROOT / ".ci" / "vendored.txt").read_text(encoding="utf-8").splitlines()
    return [tuple(line.split()) for line in lines if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize(("path", "source", "how"), vendored(), ids=lambda value: str(value))
def test_every_vendored_copy_is_in_the_repository_with_a_readme_naming_its_source(path, source, how):
    copy = ROOT / path
    assert copy.is_file()
    assert copy.stat().st_size > 0
    notes = (
        copy.parent / "README.md" if (copy.parent / "README.md").is_file() else ROOT / "docs/domain/README.md"
    )
    text = notes.read_text(encoding="utf-8")
    assert "Source" in text
    assert "Copied" in text


def settings_variables() -> set[str]:
    text = (ROOT / "edc" / "settings.py").read_text(encoding="utf-8")
    found = set(re.findall(r"os\.environ\.get\(\s*\"([A-Z_]+)\"", text))
    found |= set(re.findall(r"_env_bool\(\s*\"([A-Z_]+)\"", text))
    found |= set(re.findall(r"env=\"([A-Z_]+)\"", text))
    return found


def test_the_readme_configuration_table_names_every_variable_the_settings_read():
    variables = settings_variables()
    assert {"DATABASE_URL", "DJANGO_DEBUG", "DJANGO_SECRET_KEY"} <= variables
    table = README[README.index("## Configuration") :]
    missing = sorted(v for v in variables if f"`{v}`" not in table)
    assert missing == []


def project_commands() -> dict[str, str]:
    return {name: app for name, app in get_commands().items() if app.startswith(("edc.", "studies"))}


@pytest.mark.parametrize("name", sorted(project_commands()))
def test_the_readme_lists_every_command_and_each_of_its_options(name):
    command = load_command_class(project_commands()[name], name)
    parser = command.create_parser("manage.py", name)
    assert f"`{name}" in README or f"{name} " in README, name
    for action in parser._actions:
        if action.option_strings and action.dest not in BASE_DESTS:
            assert any(option in README for option in action.option_strings), (
                f"{name} {action.option_strings}"
            )


def test_the_readme_sets_up_with_exactly_two_commands():
    block = README.split("## Two commands", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#", 1)[0].strip() for line in block.strip().splitlines()]
    assert commands == ["make run", "make test"]
