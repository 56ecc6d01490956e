"""Reading an input file, with one wording for every way it can fail. Pure: no Django.

- cannot be read:   ``cannot read: [Errno 2] No such file or directory``
- bad JSON:         ``not valid JSON: Expecting ',' delimiter (line 3, column 5)``
- bad YAML:         ``not valid YAML: ... (line 3, column 5)``
- a file whose text is not UTF-8 counts as unreadable.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from edc.inputs.errors import InputError, InputErrors


def file_error(path: str | Path, message: str) -> InputErrors:
    return InputErrors([InputError(file=str(path), object=None, field=None, message=message)])


def read_text(path: str | Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise file_error(path, f"cannot read: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise file_error(path, f"cannot read: {exc.strerror or exc}") from exc


def read_json(path: str | Path) -> Any:
    text = read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise file_error(path, f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from exc
    except RecursionError as exc:
        raise file_error(path, "not valid JSON: nested too deeply") from exc


_SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: str | Path) -> Any:
    text = read_text(path)
    try:
        # libyaml's safe loader when PyYAML was built with it (about ten times faster on the study
        # files, the same documents and errors); the pure-Python one otherwise.
        return yaml.load(text, Loader=_SAFE_LOADER)
    except RecursionError as exc:
        raise file_error(path, "not valid YAML: nested too deeply") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise file_error(path, f"not valid YAML: {problem}{where}") from exc
