#!/usr/bin/env python3
"""Check the vendored copies against the project's reference folder (../shared).

Only CI runs this, and only when the reference folder exists: the product and its tests read the
copies in the repository, never ../shared. Exits non-zero naming every file that is out of step.

    python3 .ci/check_vendored.py [SHARED_DIR]      (default: ../shared beside the repository)
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / ".ci" / "vendored.txt"
# Folders of the reference folder whose every file must have a copy here (a new worked example or
# seed that is not vendored is out of step too). data/ctcae holds the NCI workbook, deliberately not copied.
WATCHED = ("domain", "seeds")
# Folders of this repository that hold only vendored files (and their README.md notes).
VENDORED_DIRS = ("edc/safety/data/ctcae", "fixtures/records", "docs/domain")


def read_manifest() -> list[tuple[str, str, str]]:
    rows = []
    for number, line in enumerate(MANIFEST.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 3 or parts[2] not in ("identical", "excerpt"):
            where = f"{MANIFEST.relative_to(ROOT)}:{number}"
            raise SystemExit(f"{where}: expected 'VENDORED SOURCE identical|excerpt'")
        rows.append((parts[0], parts[1], parts[2]))
    return rows


def check(shared: Path) -> list[str]:
    problems: list[str] = []
    rows = read_manifest()
    for vendored, source, how in rows:
        copy, original = ROOT / vendored, shared / source
        if not copy.is_file():
            problems.append(f"{vendored}: missing (listed in .ci/vendored.txt)")
            continue
        if not original.is_file():
            problems.append(f"{vendored}: its source {original} does not exist")
            continue
        if how == "identical":
            if copy.read_bytes() != original.read_bytes():
                problems.append(f"{vendored}: differs from its source {original}; copy it again")
        else:
            text = original.read_text(encoding="utf-8")
            for number, line in enumerate(copy.read_text(encoding="utf-8").splitlines(), start=1):
                if line.strip() and not line.startswith("#") and line not in text:
                    problems.append(f"{vendored}:{number}: not text of its source {original}: {line[:60]!r}")
    sources = {source for _, source, _ in rows}
    for folder in WATCHED:
        for path in sorted((shared / folder).rglob("*")):
            relative = path.relative_to(shared).as_posix()
            if path.is_file() and relative not in sources:
                problems.append(f"{shared / relative}: not vendored (copy it, add it to .ci/vendored.txt)")
    listed = {vendored for vendored, _, _ in rows}
    for folder in VENDORED_DIRS:
        for path in sorted((ROOT / folder).rglob("*")):
            relative = path.relative_to(ROOT).as_posix()
            if path.is_file() and path.name != "README.md" and relative not in listed:
                problems.append(f"{relative}: in a vendored folder but not listed in .ci/vendored.txt")
    return problems


def main() -> int:
    shared = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared"
    if not shared.is_dir():
        print(f"no reference folder at {shared}: nothing to compare")
        return 0
    problems = check(shared.resolve())
    for problem in problems:
        print(f"vendored copy out of step: {problem}", file=sys.stderr)
    if not problems:
        print(f"{len(read_manifest())} vendored files match {shared}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
