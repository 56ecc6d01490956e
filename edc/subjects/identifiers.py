"""Screening numbers and subject identifiers from a study's pattern. Pure: no Django.

A pattern is text with placeholders: `{protocol}` (the study's protocol id), `{site}` (the site
code) and `{seq}` (the sequence number, with an optional zero-padding width: `{seq:04d}`).
`{seq}` is required; a sequence counted per site needs `{site}`, or two sites would draw the same
identifier. The allocation itself (a counter row locked for the transaction) is in services.py.
"""

from __future__ import annotations

import re
import string

PLACEHOLDERS = ("protocol", "site", "seq")
PER_SITE = "per_site"
PER_STUDY = "per_study"
SEQUENCES = (PER_SITE, PER_STUDY)
MAX_LENGTH = 32  # Subject.screening_number / subject_identifier
_SEQ_SPEC = re.compile(r"^(0?[1-9])d$")


def pattern_problems(pattern: str, *, sequence: str = PER_STUDY) -> list[str]:
    """Everything wrong with a pattern, in words (empty when it is usable)."""
    if not isinstance(pattern, str) or not pattern.strip():
        return ["a pattern is required, e.g. {site}-{seq:04d}"]
    problems: list[str] = []
    names: list[str] = []
    try:
        parts = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        return [f"not a pattern: {exc}"]
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        names.append(name)
        if name not in PLACEHOLDERS:
            problems.append(f"unknown placeholder {{{name}}} (known: {', '.join(PLACEHOLDERS)})")
        elif conversion:
            problems.append(f"{{{name}!{conversion}}}: no conversions")
        elif spec and (name != "seq" or not _SEQ_SPEC.match(spec)):
            problems.append(f"{{{name}:{spec}}}: only {{seq}} takes a width, as {{seq:04d}}")
    if "seq" not in names:
        problems.append("the pattern needs {seq}, the sequence number")
    if sequence == PER_SITE and "site" not in names:
        problems.append("a sequence counted per site needs {site} in the pattern")
    if sequence not in SEQUENCES:
        problems.append(f"sequence is one of {', '.join(SEQUENCES)}")
    return problems


def format_identifier(pattern: str, *, protocol: str, site: str, seq: int) -> str:
    """The identifier for one sequence number (ValueError when it is longer than the field)."""
    text = pattern.format(protocol=protocol, site=site, seq=seq)
    if len(text) > MAX_LENGTH:
        raise ValueError(f"{text!r} is longer than {MAX_LENGTH} characters")
    return text
