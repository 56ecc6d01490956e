"""Reads of the CTCAE dictionary: the terms stored by ``load_ctcae``, as the grading engine's input."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from edc.safety.ctcae import VERSION, Dictionary, TermText
from edc.safety.models import CtcaeTerm


class CtcaeTermsNotLoaded(LookupError):
    """No terms of the requested CTCAE version are in the database."""

    def __init__(self, version: str) -> None:
        message = _("no CTCAE v%(version)s terms in the database: run `python manage.py load_ctcae` first")
        if version != VERSION:
            message += _(" (with --file and --version %(version)s)")
        super().__init__(message % {"version": version})
        self.version = version


def ctcae_terms(*, version: str = VERSION) -> QuerySet[CtcaeTerm]:
    """The stored terms of one version (the admin, the grading and the AE form read these)."""
    return CtcaeTerm.objects.filter(version=version)


def ctcae_versions() -> list[str]:
    """The versions with terms in the database, sorted."""
    return sorted(set(CtcaeTerm.objects.values_list("version", flat=True)))


def term_text(row: CtcaeTerm) -> TermText:
    """One stored term as the pure engine's TermText."""
    return TermText(
        meddra_code=row.meddra_code,
        soc=row.soc,
        term=row.term,
        grades=(row.grade_1, row.grade_2, row.grade_3, row.grade_4, row.grade_5),
        definition=row.definition,
        navigational_note=row.navigational_note,
        change_note=row.change_note,
    )


def ctcae_dictionary(*, version: str = VERSION) -> Dictionary:
    """The grading engine's dictionary of one version, from the database (one query).

    Raises CtcaeTermsNotLoaded when no term of that version is stored.
    """
    terms = [term_text(row) for row in ctcae_terms(version=version).order_by("meddra_code")]
    if not terms:
        raise CtcaeTermsNotLoaded(version)
    return Dictionary(terms, version=version)
