"""The CTCAE term lists vendored in the repository, and reading a term-list file from disk.

The product grades with the terms stored in the database (``load_ctcae`` puts them there); this
module is only the loader's way to the file. See ``edc/safety/data/ctcae/README.md``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

from edc.safety.ctcae import VERSION, CtcaeFileError, TermText, parse_ctcae_csv

CTCAE_DIR: Final = Path(__file__).resolve().parent / "data" / "ctcae"
# The vendored file of each version shipped with the repository (the default of `load_ctcae`).
VENDORED_CSV: Final[dict[str, Path]] = {VERSION: CTCAE_DIR / "CTCAE_v5.0_clean_copy.csv"}


def read_ctcae_file(path: str | os.PathLike[str], *, version: str = VERSION) -> list[TermText]:
    """Read and validate a term-list CSV; CtcaeFileError names the file (and the row and field)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CtcaeFileError(f"{path}: cannot read: {exc}") from None
    return parse_ctcae_csv(text, source=str(path), version=version)
