"""Safety: the CTCAE dictionary (adverse events come with a later issue)."""

from __future__ import annotations

from django.db import models


class CtcaeTerm(models.Model):
    """One CTCAE term of one version, as NCI published it.

    A dictionary, not clinical data: loaded by ``load_ctcae`` and never edited by
    hand, so it has no history. A grade whose NCI cell is " -" is stored as null
    and does not exist for the term.
    """

    version = models.CharField(max_length=10, default="5.0")
    meddra_code = models.CharField("MedDRA code", max_length=8)
    soc = models.CharField("MedDRA SOC", max_length=200, db_index=True)
    term = models.CharField(max_length=200)
    grade_1 = models.TextField(null=True, blank=True)
    grade_2 = models.TextField(null=True, blank=True)
    grade_3 = models.TextField(null=True, blank=True)
    grade_4 = models.TextField(null=True, blank=True)
    grade_5 = models.TextField(null=True, blank=True)
    definition = models.TextField(blank=True)
    navigational_note = models.TextField(blank=True)
    change_note = models.TextField("change from v4.03", blank=True)

    class Meta:
        ordering = ["version", "soc", "term"]
        verbose_name = "CTCAE term"
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
