"""The reading of "within N days (weeks, months)": one, inclusive, shared by every engine that needs it.

Pure module (no Django). Rule (docs/definitions.md, "Within N is inclusive, everywhere"): "within N
days before X" means no more than N days before X. Day N is within N days, day N + 1 is not, and an
event after X (a negative elapsed time) is not within a time before it.

Used by the eligibility engine (the op ``within`` on an interval and a comparison's recency window,
``edc.eligibility.eligibility``, which re-exports it) and by the restricted-medication rules
(``edc.core.restricted_meds``). It lives in core because core must not import from an app.
"""

from __future__ import annotations

from typing import Any


def is_within(elapsed: Any, limit: Any) -> bool:
    """Whether an event ``elapsed`` days (or weeks...) ago lies "within" ``limit``: day N is within N.

    ``elapsed`` and ``limit`` are in the same unit (numbers of any kind that compare with 0 and with
    each other: int, Decimal, Fraction). An event after the anchor (a negative time) is not within a
    time before it.
    """
    return bool(0 <= elapsed <= limit)
