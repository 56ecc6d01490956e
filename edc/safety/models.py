"""Safety: the CTCAE dictionary, adverse events with their grade history, attributions and SAE reports,
baseline signs and symptoms, and AEs proposed from lab values (docs/safety.md)."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from edc.core.models import SiteOwnedModel
from edc.forms.models import FormRecord


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


# --- adverse events (issue 20) -------------------------------------------------------------------
#
# An AE is a log form (AE in fixtures/forms.yaml): it belongs to the subject, not to one visit. Every
# form row has a visit (edc.forms.FormRecord), so an AE is filed under the visit it was *reported at*:
# the one the caller names, else the subject's last visit done on or before the onset, else the
# screening visit (edc/safety/services.py `_ae_visit`). Nothing reads the AE through its visit.

NY_CHOICES = [("N", _("No")), ("Y", _("Yes"))]
GRADE_CHOICES = [(str(n), str(n)) for n in range(1, 6)]


class Outcome(models.TextChoices):
    """Codelist AEOUT; the pure rules (edc/safety/ae_rules.py) read the names in RULE_OUTCOMES."""

    RECOVERED = "RECOVERED", _("Recovered/resolved")
    RECOVERING = "RECOVERING", _("Recovering/resolving")
    NOT_RECOVERED = "NOT_RECOVERED", _("Not recovered/not resolved")
    SEQUELAE = "SEQUELAE", _("Recovered with sequelae")
    FATAL = "FATAL", _("Fatal")
    UNK = "UNK", _("Unknown")


RULE_OUTCOMES: dict[str, str] = {
    Outcome.RECOVERED: "recovered",
    Outcome.RECOVERING: "recovering",
    Outcome.NOT_RECOVERED: "not_recovered",
    Outcome.SEQUELAE: "recovered_with_sequelae",
    Outcome.FATAL: "fatal",
    Outcome.UNK: "unknown",
}


class Relatedness(models.TextChoices):
    """Codelist AEREL (NCI 5-point scale); possible, probable and definite are "related"."""

    UNRELATED = "UNRELATED", _("Unrelated")
    UNLIKELY = "UNLIKELY", _("Unlikely")
    POSSIBLE = "POSSIBLE", _("Possible")
    PROBABLE = "PROBABLE", _("Probable")
    DEFINITE = "DEFINITE", _("Definite")


RELATED_CODES = (Relatedness.POSSIBLE, Relatedness.PROBABLE, Relatedness.DEFINITE)


class ActionTaken(models.TextChoices):
    """Codelist DOSEACT."""

    NONE = "NONE", _("Dose not changed")
    REDUCED = "REDUCED", _("Dose reduced")
    DELAYED = "DELAYED", _("Dose delayed")
    INTERRUPTED = "INTERRUPTED", _("Drug interrupted")
    WITHDRAWN = "WITHDRAWN", _("Drug withdrawn")
    NA = "NA", _("Not applicable")


class CollectionCategory(models.TextChoices):
    PRE_TREATMENT = "pre_treatment", _("Pre-treatment (consent to first dose)")
    ON_TREATMENT = "on_treatment", _("Within the collection period")
    AFTER_PERIOD = "after_period", _("After the collection period (flagged)")


# The ICH E2A criteria: the rules' names -> the model's boolean fields.
SERIOUSNESS_FIELDS: dict[str, str] = {
    "death": "serious_death",
    "life_threatening": "serious_life_threatening",
    "hospitalisation": "serious_hospitalisation",
    "disability": "serious_disability",
    "congenital_anomaly": "serious_congenital_anomaly",
    "important_medical_event": "serious_important_medical_event",
}


class AdverseEvent(FormRecord):
    """One adverse event of one subject, graded by CTCAE (the study's version)."""

    ctcae_term = models.ForeignKey(
        CtcaeTerm, on_delete=models.PROTECT, related_name="+", verbose_name=_("CTCAE term")
    )
    term = models.CharField(_("term"), max_length=200, editable=False)
    meddra_code = models.CharField(_("MedDRA code"), max_length=8, editable=False)
    verbatim = models.CharField(
        _("verbatim"),
        max_length=200,
        blank=True,
        help_text=_("The event's name as the investigator gives it (required for an 'Other, specify' term)."),
    )
    onset = models.DateField(_("onset date"))
    resolution = models.DateField(_("resolution date"), null=True, blank=True, help_text=_("Empty: ongoing."))
    worst_grade = models.CharField(
        _("worst grade"),
        max_length=1,
        choices=GRADE_CHOICES,
        editable=False,
        help_text=_("Derived: the highest grade of the grade history."),
    )
    serious = models.CharField(_("serious"), max_length=1, choices=NY_CHOICES, default="N")
    serious_death = models.BooleanField(_("results in death"), default=False)
    serious_life_threatening = models.BooleanField(_("life-threatening"), default=False)
    serious_hospitalisation = models.BooleanField(_("requires or prolongs hospitalisation"), default=False)
    serious_disability = models.BooleanField(
        _("persistent or significant disability/incapacity"), default=False
    )
    serious_congenital_anomaly = models.BooleanField(_("congenital anomaly/birth defect"), default=False)
    serious_important_medical_event = models.BooleanField(_("important medical event"), default=False)
    site_aware_at = models.DateTimeField(
        _("site aware at"),
        null=True,
        blank=True,
        help_text=_("When the site became aware of the serious AE."),
    )
    reported_to_sponsor_at = models.DateTimeField(
        _("reported to sponsor at"),
        null=True,
        blank=True,
        help_text=_("When the site's initial SAE report reached the sponsor (set by the first SAE report)."),
    )
    immune_related = models.CharField(
        _("immune-related"),
        max_length=1,
        choices=NY_CHOICES,
        blank=True,
        help_text=_("Asked in trials of PD-1 / PD-1/CTLA-4 antibodies only."),
    )
    attribution_summary = models.TextField(
        _("attribution per agent"),
        editable=False,
        blank=True,
        help_text=_("Derived from the attributions: agent=relatedness/action, one per agent."),
    )
    relatedness = models.CharField(
        _("relatedness (strongest)"),
        max_length=12,
        choices=Relatedness.choices,
        editable=False,
        help_text=_("Derived: the strongest relatedness over the agents."),
    )
    action_taken = models.CharField(
        _("action taken (strongest)"),
        max_length=12,
        choices=ActionTaken.choices,
        editable=False,
        help_text=_("Derived: the strongest action over the agents."),
    )
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    treatment_given = models.TextField(_("treatment given"), blank=True)
    death_date = models.DateField(_("date of death"), null=True, blank=True)
    # Derived by the service; not asked on the form (form_exempt_fields).
    collection_category = models.CharField(
        _("collection"), max_length=16, choices=CollectionCategory.choices, editable=False
    )
    after_period = models.BooleanField(_("after the collection period"), default=False, editable=False)
    treatment_emergent = models.BooleanField(_("treatment-emergent"), default=False, editable=False)
    susar = models.BooleanField(_("SUSAR"), default=False, editable=False)
    # The sponsor's pharmacovigilance times (entered by the sponsor, not on the site's CRF).
    sponsor_aware_at = models.DateTimeField(_("sponsor first aware at"), null=True, blank=True)
    susar_initial_reported_at = models.DateTimeField(_("SUSAR initial report at"), null=True, blank=True)
    susar_full_reported_at = models.DateTimeField(_("SUSAR full report at"), null=True, blank=True)

    form_code: ClassVar[str] = "AE"
    form_item_fields: ClassVar[dict[str, str]] = {
        "AETERM": "term",
        "AEMEDDRA": "meddra_code",
        "AEOTHER": "verbatim",
        "AESTDAT": "onset",
        "AEENDAT": "resolution",
        "AEGRADE": "worst_grade",
        "AESER": "serious",
        "AESDTH": "serious_death",
        "AESLIFE": "serious_life_threatening",
        "AESHOSP": "serious_hospitalisation",
        "AESDISAB": "serious_disability",
        "AESCONG": "serious_congenital_anomaly",
        "AESMIE": "serious_important_medical_event",
        "AEAWARE": "site_aware_at",
        "AEIRAE": "immune_related",
        "AEREL_AGENT": "attribution_summary",
        "AEREL": "relatedness",
        "AEACN": "action_taken",
        "AEOUT": "outcome",
        "AETRT": "treatment_given",
        "AEDTHDAT": "death_date",
        "AESPDTC": "reported_to_sponsor_at",
    }
    form_exempt_fields: ClassVar[tuple[str, ...]] = (
        "ctcae_term",  # the dictionary row AETERM and AEMEDDRA copy
        "collection_category",  # derived from the study's collection period
        "after_period",
        "treatment_emergent",
        "susar",
        "sponsor_aware_at",  # the sponsor's pharmacovigilance, not the site's CRF
        "susar_initial_reported_at",
        "susar_full_reported_at",
    )
    answer_fields: ClassVar[tuple[str, ...]] = ()
    # The registry's form door (edc/forms/door.py) takes these items too, and door_body turns them into
    # the resource's body: the term by name, the grade at onset, "agent=relatedness/action; ..." as
    # one attribution per agent. The strongest relatedness and action stay derived.
    door_fields: ClassVar[tuple[str, ...]] = ("term", "worst_grade", "attribution_summary")
    door_error_fields: ClassVar[dict[str, str]] = {
        "grade": "worst_grade",
        "grades": "worst_grade",
        "attributions": "attribution_summary",
        "seriousness": "serious",
    }
    editable_fields: ClassVar[tuple[str, ...]] = (
        "visit",
        "ctcae_term",
        "verbatim",
        "onset",
        "resolution",
        "serious",
        *SERIOUSNESS_FIELDS.values(),
        "site_aware_at",
        "immune_related",
        "outcome",
        "treatment_given",
        "death_date",
        "sponsor_aware_at",
        "susar_initial_reported_at",
        "susar_full_reported_at",
    )

    class Meta:
        ordering = ["subject", "onset", "created"]
        verbose_name = _("adverse event")
        verbose_name_plural = _("adverse events")
        indexes = [
            models.Index(fields=["subject", "onset"], name="ae_subject_onset"),
            models.Index(fields=["study", "serious"], name="ae_study_serious"),
        ]

    @classmethod
    def door_body(cls, fields: dict[str, Any], visit: Any) -> dict[str, Any]:
        """The door's fields (registry items typed by this model) as the AE resource's body."""
        body = dict(fields)
        if "worst_grade" in body:
            body["grade"] = int(body.pop("worst_grade"))
        for name in ("serious", "immune_related"):
            if body.get(name) in ("Y", "N"):
                body[name] = body[name] == "Y"
            elif name in body and body[name] in ("", None):
                body.pop(name)
        criteria = [key for key, field in SERIOUSNESS_FIELDS.items() if field in body and body.pop(field)]
        if criteria:
            body["seriousness"] = criteria
        if "attribution_summary" in body:
            body["attributions"] = parse_attributions(str(body.pop("attribution_summary")))
        return body

    def __str__(self) -> str:
        name = self.verbatim if self.verbatim and self.term.endswith("Other, specify") else self.term
        return f"{self.subject} {name} G{self.worst_grade} {self.onset}"

    @property
    def is_serious(self) -> bool:
        return self.serious == "Y"

    def seriousness(self) -> frozenset[str]:
        return frozenset(name for name, field in SERIOUSNESS_FIELDS.items() if getattr(self, field))

    def worst_grade_text(self) -> str | None:
        if not self.worst_grade or not self.ctcae_term_id:
            return None
        return self.ctcae_term.grade_text(int(self.worst_grade))


def parse_attributions(text: str) -> list[dict[str, str]]:
    """'CAM=POSSIBLE/NONE; CAPE=UNRELATED' (the AE's attribution summary, item AEREL_AGENT) as the
    resource's attributions; the action defaults to none. Raises ValidationError naming the part."""
    from django.core.exceptions import ValidationError

    found: list[dict[str, str]] = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        agent, sep, rest = part.partition("=")
        relatedness, _slash, action = rest.partition("/")
        if not sep or not agent.strip() or not relatedness.strip():
            raise ValidationError(
                {
                    "attribution_summary": gettext(
                        "{part!r}: write agent=relatedness/action, one per agent, separated by ';'."
                    ).format(part=part[:40])
                }
            )
        entry = {"agent": agent.strip(), "relatedness": relatedness.strip().upper()}
        if action.strip():
            entry["action"] = action.strip().upper()
        found.append(entry)
    return found


class AeGrade(SiteOwnedModel):
    """One entry of an AE's grade history: the grade from a date on (the first at onset)."""

    adverse_event = models.ForeignKey(AdverseEvent, on_delete=models.PROTECT, related_name="grades")
    on = models.DateField(_("from"))
    grade = models.PositiveSmallIntegerField(_("grade"))

    lock_parents: ClassVar[tuple[str, ...]] = ("adverse_event", "study")
    fixed_fields: ClassVar[tuple[str, ...]] = ("study", "adverse_event")

    class Meta:
        ordering = ["adverse_event", "on"]
        verbose_name = _("AE grade")
        verbose_name_plural = _("AE grade history")
        constraints = [
            models.CheckConstraint(condition=models.Q(grade__gte=1, grade__lte=5), name="ae_grade_1_to_5"),
            models.UniqueConstraint(
                fields=["adverse_event", "on"],
                condition=models.Q(voided_at__isnull=True),
                name="ae_grade_one_per_day",
            ),
        ]

    def __str__(self) -> str:
        return f"G{self.grade} from {self.on}"


class AeAttribution(SiteOwnedModel):
    """The AE's relatedness to one study agent (or radiotherapy) the subject received, and the action
    taken with it; expectedness against the agent's reference safety information (None: not assessed).
    One per agent (camrelizumab once across combination and maintenance), not per dosing row."""

    adverse_event = models.ForeignKey(AdverseEvent, on_delete=models.PROTECT, related_name="attributions")
    agent = models.CharField(_("agent"), max_length=200)
    intervention = models.ForeignKey(
        "studies.Intervention", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    relatedness = models.CharField(_("relatedness"), max_length=12, choices=Relatedness.choices)
    action = models.CharField(_("action taken"), max_length=12, choices=ActionTaken.choices)
    expected = models.BooleanField(
        _("expected"),
        null=True,
        blank=True,
        help_text=_("Listed in the agent's reference safety information; empty: not yet assessed."),
    )

    lock_parents: ClassVar[tuple[str, ...]] = ("adverse_event", "study")
    fixed_fields: ClassVar[tuple[str, ...]] = ("study", "adverse_event")

    class Meta:
        ordering = ["adverse_event", "agent"]
        verbose_name = _("AE attribution")
        verbose_name_plural = _("AE attributions")
        constraints = [
            models.UniqueConstraint(
                fields=["adverse_event", "agent"],
                condition=models.Q(voided_at__isnull=True),
                name="ae_attribution_one_per_agent",
            )
        ]

    def __str__(self) -> str:
        return f"{self.agent}: {self.relatedness}/{self.action}"


class SaeReport(SiteOwnedModel):
    """One report of a serious AE to the sponsor: the initial report (sequence 0) and each follow-up,
    with the AE as it stood when reported (the SAE's versions)."""

    adverse_event = models.ForeignKey(AdverseEvent, on_delete=models.PROTECT, related_name="sae_reports")
    sequence = models.PositiveSmallIntegerField(
        _("sequence"), help_text=_("0: initial; 1, 2 ...: follow-ups.")
    )
    reported_at = models.DateTimeField(_("reported at"))
    narrative = models.TextField(_("narrative"), blank=True)
    snapshot = models.JSONField(_("AE as reported"), default=dict, editable=False)

    lock_parents: ClassVar[tuple[str, ...]] = ("adverse_event", "study")
    fixed_fields: ClassVar[tuple[str, ...]] = ("study", "adverse_event", "sequence")

    class Meta:
        ordering = ["adverse_event", "sequence"]
        verbose_name = _("SAE report")
        verbose_name_plural = _("SAE reports")
        constraints = [
            models.UniqueConstraint(fields=["adverse_event", "sequence"], name="sae_report_sequence_unique")
        ]

    def __str__(self) -> str:
        return f"SAE report {self.sequence} of {self.adverse_event_id}"

    @property
    def kind(self) -> str:
        return "initial" if self.sequence == 0 else "follow_up"


class BaselineSign(FormRecord):
    """A sign or symptom present at screening, with its CTCAE term and grade (form BSS): what a
    later AE of the same term is compared with (treatment-emergent when it appears or worsens)."""

    ctcae_term = models.ForeignKey(CtcaeTerm, on_delete=models.PROTECT, related_name="+")
    term = models.CharField(_("term"), max_length=200, editable=False)
    grade = models.PositiveSmallIntegerField(_("grade"))
    date = models.DateField(_("assessed on"))

    form_code: ClassVar[str] = "BSS"
    form_item_fields: ClassVar[dict[str, str]] = {"BSSTERM": "term", "BSSGRADE": "grade", "BSSDAT": "date"}
    form_exempt_fields: ClassVar[tuple[str, ...]] = ("ctcae_term",)
    answer_fields: ClassVar[tuple[str, ...]] = ()
    editable_fields: ClassVar[tuple[str, ...]] = ("visit", "ctcae_term", "grade", "date")

    class Meta:
        ordering = ["subject", "term"]
        verbose_name = _("baseline sign or symptom")
        verbose_name_plural = _("baseline signs and symptoms")

    def __str__(self) -> str:
        return f"{self.subject} baseline {self.term} G{self.grade}"


class ProposalStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CONFIRMED = "confirmed", _("Confirmed")
    DISMISSED = "dismissed", _("Dismissed")
    WITHDRAWN = "withdrawn", _("Withdrawn (the lab value was corrected)")


class LabAeProposal(SiteOwnedModel):
    """An AE proposed from a lab value's CTCAE grade (at least one above the subject's baseline grade),
    for the investigator to confirm (creates the AE) or dismiss with a reason. Never an AE by itself."""

    subject = models.ForeignKey("subjects.Subject", on_delete=models.PROTECT, related_name="+")
    lab = models.ForeignKey("forms.LabResult", on_delete=models.PROTECT, related_name="+")
    baseline_lab = models.ForeignKey(
        "forms.LabResult", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    ctcae_term = models.ForeignKey(CtcaeTerm, on_delete=models.PROTECT, related_name="+")
    term = models.CharField(_("term"), max_length=200)
    grade = models.PositiveSmallIntegerField(_("grade"))
    baseline_grade = models.PositiveSmallIntegerField(_("baseline grade"), default=0)
    reason = models.TextField(_("why proposed"))
    status = models.CharField(
        _("status"), max_length=12, choices=ProposalStatus.choices, default=ProposalStatus.OPEN
    )
    decision_reason = models.TextField(_("decision reason"), blank=True)
    adverse_event = models.ForeignKey(
        AdverseEvent, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    lock_parents: ClassVar[tuple[str, ...]] = ("subject", "study")
    fixed_fields: ClassVar[tuple[str, ...]] = ("study", "subject", "lab")

    class Meta:
        ordering = ["-created"]
        verbose_name = _("AE proposed from a lab value")
        verbose_name_plural = _("AEs proposed from lab values")
        constraints = [
            models.UniqueConstraint(
                fields=["lab", "ctcae_term"],
                condition=models.Q(status="open", voided_at__isnull=True),
                name="lab_proposal_one_open_per_term",
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject} {self.term} G{self.grade} ({self.get_status_display()})"
