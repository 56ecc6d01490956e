"""Safety: the CTCAE dictionary (adverse events come with a later issue)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CtcaeTerm(models.Model):
    """One CTCAE term of one version, as NCI published it.

    A dictionary, not clinical data: loaded by ``load_ctcae`` and never edited by
    hand, so it has no history. A grade whose NCI cell is " -" is stored as null
    and does not exist for the term.
    """

    version = models.CharField(max_length=10, default="5.0", verbose_name=_("version"))
    meddra_code = models.CharField(_("MedDRA code"), max_length=8)
    soc = models.CharField(_("MedDRA SOC"), max_length=200, db_index=True)
    term = models.CharField(max_length=200, verbose_name=_("term"))
    grade_1 = models.TextField(null=True, blank=True, verbose_name=_("grade 1"))
    grade_2 = models.TextField(null=True, blank=True, verbose_name=_("grade 2"))
    grade_3 = models.TextField(null=True, blank=True, verbose_name=_("grade 3"))
    grade_4 = models.TextField(null=True, blank=True, verbose_name=_("grade 4"))
    grade_5 = models.TextField(null=True, blank=True, verbose_name=_("grade 5"))
    definition = models.TextField(blank=True, verbose_name=_("definition"))
    navigational_note = models.TextField(blank=True, verbose_name=_("navigational note"))
    change_note = models.TextField(_("change from v4.03"), blank=True)

    class Meta:
        ordering = ["version", "soc", "term"]
        verbose_name = _("CTCAE term")
        verbose_name_plural = _("CTCAE terms")
        constraints = [
            models.UniqueConstraint(fields=["version", "meddra_code"], name="ctcae_unique_version_code"),
            models.UniqueConstraint(fields=["version", "term"], name="ctcae_unique_version_term"),
        ]

    def __str__(self) -> str:
        return f"{self.term} (CTCAE v{self.version})"

    def grade_text(self, grade: int) -> str | None:
        if grade not in range(1, 6):
            return None
        return getattr(self, f"grade_{grade}")

    def allowed_grades(self) -> list[int]:
        return [n for n in range(1, 6) if self.grade_text(n) is not None]
