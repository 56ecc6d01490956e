"""The clinical engines are plain Python: no Django, so they run anywhere and test in seconds."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PURE_MODULES = [
    "edc/core/units.py",
    "edc/core/partial_dates.py",
    "edc/core/within.py",
    "edc/core/bsa.py",
    "edc/core/restricted_meds.py",
    "edc/core/imputation.py",
    "edc/visits/dosing.py",
    "edc/visits/schedule.py",
    "edc/eligibility/eligibility.py",
    "edc/eligibility/rules.py",
    "edc/safety/ctcae.py",
    "edc/safety/sae.py",
    "edc/safety/ae_rules.py",
    "edc/tumors/recist.py",
    "edc/tumors/irecist.py",
]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", PURE_MODULES)
def test_engine_imports_nothing_from_django(module):
    path = ROOT / module
    assert path.exists(), f"{module} is missing"
    assert not [name for name in _imports(path) if name.split(".")[0] in {"django", "rest_framework"}]


def test_engines_import_without_django_configured():
    # A fresh interpreter with no settings: importing the engines must not touch django.db at all.
    modules = [m.removesuffix(".py").replace("/", ".") for m in PURE_MODULES]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "assert 'django.db' not in sys.modules, sorted(m for m in sys.modules if m.startswith('django'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
