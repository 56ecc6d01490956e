"""This project's translation catalogue: which marked strings it lacks, and its compiled .mo files.

``make messages`` runs Django's ``makemessages`` (gettext's xgettext) to bring the marked strings into
``locale/<lang>/LC_MESSAGES/django.po``; a translator fills in each empty ``msgstr``; ``make
compilemessages`` (``python -m edc.core.catalogue compile``) writes the ``.mo`` files with Babel, so a
machine without gettext's tools compiles too. The .mo files are committed: a fresh clone speaks
Chinese without compiling anything.

The check (``python -m edc.core.catalogue check``, and tests/core/test_i18n.py) finds the marked
strings the way ``makemessages`` does, without gettext's tools: the same files (the same ignore
patterns), the same keywords, templates read through Django's own ``templatize``. Every marked string
must have a translation in every catalogue; docs/i18n.md says how to add one.
"""

from __future__ import annotations

import fnmatch
import io
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
LOCALE_DIR = ROOT / "locale"
# The catalogues this project keeps, by locale directory name (Django's spelling: zh_Hans).
LOCALES = ("zh_Hans",)
DOMAIN = "django"

# The same as the Makefile's `messages` target passes to makemessages (`--ignore`), plus
# makemessages' own defaults (CVS, .*, *~, *.pyc).
IGNORE = ("CVS", ".*", "*~", "*.pyc", "tests", "fixtures", "staticfiles", "locale", "docs")
PYTHON_EXTENSIONS = (".py",)
TEMPLATE_EXTENSIONS = (".html", ".txt")

# makemessages' keywords for the "django" domain (xgettext's Python defaults and Django's own).
KEYWORDS: dict[str, tuple[int | tuple[int, str], ...] | None] = {
    "_": None,
    "gettext": None,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext": (1, 2),
    "ngettext_lazy": (1, 2),
    "pgettext": ((1, "c"), 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "npgettext_lazy": ((1, "c"), 2, 3),
}

HOW_TO_FIX = (
    "Run `make messages` (it adds them to locale/{locale}/LC_MESSAGES/django.po), write the Simplified "
    "Chinese in each empty msgstr (docs/i18n.md: clinical terms as Chinese hospitals use them; CTCAE "
    "terms, clinical codes and verbatim protocol text stay as they are; remove any `#, fuzzy` line you "
    "have checked), then `make compilemessages` and commit the .po and the .mo."
)

Key = tuple[str | None, str]  # (context, msgid); a plural is keyed by its singular


@dataclass(frozen=True)
class Marked:
    """A marked string and where it is marked."""

    context: str | None
    msgid: str
    plural: str | None
    where: str  # path:line

    @property
    def key(self) -> Key:
        return (self.context, self.msgid)

    def __str__(self) -> str:
        context = f" (context {self.context!r})" if self.context else ""
        return f"{self.where}: {self.msgid!r}{context}"


def _ignored(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in IGNORE)


def source_files(root: Path = ROOT) -> Iterator[Path]:
    """The files makemessages reads, in a stable order."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not _ignored(d))
        for name in sorted(files):
            if not _ignored(name) and name.endswith(PYTHON_EXTENSIONS + TEMPLATE_EXTENSIONS):
                yield Path(folder) / name


def _python_source(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    if path.suffix in TEMPLATE_EXTENSIONS:
        # What makemessages hands to xgettext for a template: its marked strings as gettext() calls.
        from django.utils.translation.template import templatize

        return templatize(text, origin=str(path))
    return text


def marked_strings(root: Path = ROOT) -> list[Marked]:
    """Every string the project marks for translation, in file order."""
    found: list[Marked] = []
    for path in source_files(root):
        source = io.BytesIO(_python_source(path).encode("utf-8"))
        where = path.relative_to(root).as_posix()
        for line, message, _comments, context in extract("python", source, keywords=KEYWORDS):
            singular, plural = (message[0], message[1]) if isinstance(message, tuple) else (message, None)
            if singular:  # xgettext skips an empty msgid too (it is the catalogue's header)
                found.append(Marked(context, singular, plural, f"{where}:{line}"))
    return found


def po_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(locale: str) -> Path:
    return po_path(locale).with_suffix(".mo")


def read_catalogue(locale: str) -> Catalog:
    with po_path(locale).open("rb") as handle:
        return read_po(handle, locale=locale)


def translations(catalog: Catalog) -> dict[Key, str | tuple[str, ...]]:
    """The entries that have a translation a user will see (not fuzzy, no empty form)."""
    done: dict[Key, str | tuple[str, ...]] = {}
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        msgid = message.id[0] if isinstance(message.id, list | tuple) else message.id
        strings = message.string if isinstance(message.string, list | tuple) else (message.string,)
        forms = tuple(text or "" for text in strings)
        if all(forms):
            done[(message.context, msgid)] = forms if len(forms) > 1 else forms[0]
    return done


def untranslated(locale: str, marked: Sequence[Marked] | None = None) -> list[Marked]:
    """The marked strings that the locale's catalogue does not translate (first place marked)."""
    done = translations(read_catalogue(locale))
    missing: dict[Key, Marked] = {}
    for item in marked if marked is not None else marked_strings():
        if item.key not in done:
            missing.setdefault(item.key, item)
    return list(missing.values())


def stale(locale: str, marked: Sequence[Marked] | None = None) -> list[str]:
    """Catalogue entries that no code marks any more (``make messages`` drops them)."""
    keys = {item.key for item in (marked if marked is not None else marked_strings())}
    entries = (m for m in read_catalogue(locale) if m.id)
    return sorted(
        repr(m.id[0] if isinstance(m.id, list | tuple) else m.id)
        for m in entries
        if (m.context, m.id[0] if isinstance(m.id, list | tuple) else m.id) not in keys
    )


def compiled(locale: str) -> dict[Key, str | tuple[str, ...]]:
    """What the committed .mo file translates."""
    with mo_path(locale).open("rb") as handle:
        return translations(read_mo(handle))


def compile_catalogue(locale: str) -> Path:
    """Write the locale's .mo from its .po (fuzzy entries left out, as msgfmt does)."""
    catalog = read_catalogue(locale)
    target = mo_path(locale)
    with target.open("wb") as handle:
        write_mo(handle, catalog, use_fuzzy=False)
    return target


def main(argv: Sequence[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "compile":
        for locale in LOCALES:
            print(f"compiled {compile_catalogue(locale).relative_to(ROOT)}")
        return 0
    if command == "check":
        import django

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "edc.settings_test")
        django.setup()
        marked = marked_strings()
        failed = False
        for locale in LOCALES:
            missing = untranslated(locale, marked)
            if missing:
                failed = True
                print(f"{len(missing)} marked string(s) have no {locale} translation:")
                print("\n".join(f"  {item}" for item in missing))
                print(HOW_TO_FIX.format(locale=locale))
            if compiled(locale) != translations(read_catalogue(locale)):
                failed = True
                print(
                    f"{mo_path(locale).relative_to(ROOT)} is out of step with its .po: make compilemessages"
                )
        if not failed:
            print(f"{len({m.key for m in marked})} marked strings, all translated in {', '.join(LOCALES)}")
        return 1 if failed else 0
    print("usage: python -m edc.core.catalogue [check|compile]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
