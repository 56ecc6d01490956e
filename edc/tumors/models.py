"""Tumour lesions (form TU), their measurements at each assessment (form TR) and the assessment
itself (form RS) with the response the engines derive from them (docs/tumors.md).

- ``Lesion``: one row per lesion of a subject, with a code that stays the same at every
  assessment (T1, NT1, N1 ...). Baseline lesions (TARGET / NONTARGET) are entered at the screening
  visit with their baseline size; a NEW lesion is entered at the imaging visit that first showed it.
- ``TumorAssessment``: one per imaging visit (scan date, the investigator's own response) and the
  derived RECIST 1.1 and iRECIST values, written by the derivation service only (never entered).
- ``LesionMeasurement``: one per lesion assessed at an assessment (a target's diameter or state, a
  non-target's or new lesion's state).

The derived fields are exempt from the registry form (they are no item anyone enters); they are
recomputed for every assessment of the subject whenever one of its lesions, measurements or
assessments changes, each change a history row (edc/tumors/services.py).
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from edc.forms.models import FormRecord
from edc.tumors import recist


class YesNo(models.TextChoices):
    NO = "N", _("No")
    YES = "Y", _("Yes")


class LesionCategory(models.TextChoices):
    TARGET = "TARGET", _("Target")
    NON_TARGET = "NONTARGET", _("Non-target")
    NEW = "NEW", _("New")


class ImagingMethod(models.TextChoices):
    CT = "CT", _("CT")
    MRI = "MRI", _("MRI")
    PET_CT = "PETCT", _("PET-CT")
    XRAY = "XRAY", _("Chest X-ray")
    CLINICAL = "CLIN", _("Clinical examination")


# The imaging method in the engine's vocabulary (recist.MODALITIES). PET-CT is not a measuring
# method in RECIST 1.1 (A1): the CT of a PET-CT of diagnostic quality is recorded as CT; a lesion
# seen on the PET-CT only is treated like an ultrasound finding, never measurable.
ENGINE_MODALITY = {
    ImagingMethod.CT: recist.CT,
    ImagingMethod.MRI: recist.MRI,
    ImagingMethod.PET_CT: recist.ULTRASOUND,
    ImagingMethod.XRAY: recist.CHEST_XRAY,
    ImagingMethod.CLINICAL: recist.CLINICAL_CALIPER,
}


class LesionNature(models.TextChoices):
    """The engine's vocabulary (recist.NATURES), codes as the engine spells them."""

    SOLID = recist.SOLID, _("Solid")
    SIMPLE_CYST = recist.SIMPLE_CYST, _("Simple cyst")
    CYSTIC_METASTASIS = recist.CYSTIC_METASTASIS, _("Cystic metastasis")
    LYTIC_BONE_WITH_SOFT_TISSUE = recist.LYTIC_BONE_WITH_SOFT_TISSUE, _("Lytic bone lesion with soft tissue")
    LEPTOMENINGEAL = "leptomeningeal", _("Leptomeningeal disease")
    ASCITES = "ascites", _("Ascites")
    PLEURAL_EFFUSION = "pleural_effusion", _("Pleural effusion")
    PERICARDIAL_EFFUSION = "pericardial_effusion", _("Pericardial effusion")
    INFLAMMATORY_BREAST = "inflammatory_breast", _("Inflammatory breast disease")
    LYMPHANGITIC = "lymphangitic", _("Lymphangitic involvement")
    EXAM_ONLY_MASS = "exam_only_mass", _("Mass on physical examination only")
    LYTIC_BONE_WITHOUT_SOFT_TISSUE = (
        recist.LYTIC_BONE_WITHOUT_SOFT_TISSUE,
        _("Lytic bone lesion without soft tissue"),
    )
    BLASTIC_BONE = recist.BLASTIC_BONE, _("Blastic bone lesion")


class OnStudyIrradiation(models.TextChoices):
    NONE = "NONE", _("None")
    LOW_DOSE = "LOWDOSE", _("Low-dose radiotherapy")
    STEREOTACTIC = "SBRT", _("Stereotactic radiotherapy")
    CHEMORADIOTHERAPY = "CRT", _("Chemoradiotherapy")


class TargetState(models.TextChoices):
    MEASURED = "MEASURED", _("Measured")
    TOO_SMALL = "TOO_SMALL", _("Too small to measure")
    DISAPPEARED = "DISAPPEARED", _("Disappeared")
    SPLIT = "SPLIT", _("Split into fragments")
    MERGED = "MERGED", _("Merged with another target")
    NOT_ASSESSED = "NA", _("Not assessed")


class LesionState(models.TextChoices):
    """A non-target's or new lesion's state (the registry's NTSTATE codes)."""

    PRESENT = "PRESENT", _("Present")
    ABSENT = "ABSENT", _("Absent")
    UNEQUIVOCAL_PROGRESSION = "UNEQ_PD", _("Unequivocal progression")
    EQUIVOCAL = "EQUIVOCAL", _("Equivocal")
    NOT_EVALUATED = "NE", _("Not evaluable")


class Criteria(models.TextChoices):
    RECIST11 = "RECIST1.1", _("RECIST 1.1")
    IRECIST = "iRECIST", _("iRECIST")


class Response(models.TextChoices):
    """The registry's RSRESP codes (NONCRNONPD spelled as the registry spells it)."""

    CR = "CR", _("Complete response")
    PR = "PR", _("Partial response")
    SD = "SD", _("Stable disease")
    NON_CR_NON_PD = "NONCRNONPD", _("Non-CR/non-PD")
    PD = "PD", _("Progressive disease")
    NE = "NE", _("Not evaluable")
    ICR = "iCR", _("iCR")
    IPR = "iPR", _("iPR")
    ISD = "iSD", _("iSD")
    IUPD = "iUPD", _("iUPD")
    ICPD = "iCPD", _("iCPD")


# Engine response label -> registry code (and back).
TO_CODE = {recist.NON_CR_NON_PD: Response.NON_CR_NON_PD.value}
FROM_CODE = {Response.NON_CR_NON_PD.value: recist.NON_CR_NON_PD}


def response_code(label: str | None) -> str:
    if not label:
        return ""
    return TO_CODE.get(label, label)


def engine_label(code: str) -> str:
    return FROM_CODE.get(code, code)


class Lesion(FormRecord):
    """A lesion of the subject, identified by ``code`` at every assessment."""

    code = models.CharField(
        max_length=16,
        verbose_name=_("lesion id"),
        help_text=_(
            "Stable across assessments: T1, T2 ... targets, NT1 ... non-targets, N1 ... new lesions."
        ),
    )
    category = models.CharField(max_length=10, choices=LesionCategory.choices, verbose_name=_("category"))
    location = models.CharField(
        max_length=200, verbose_name=_("site"), help_text=_("Where: 'left level II node'.")
    )
    organ = models.CharField(
        max_length=64,
        verbose_name=_("organ"),
        help_text=_("The organ the per-organ target limit counts (all lymph nodes are one organ)."),
    )
    nodal = models.CharField(max_length=1, choices=YesNo.choices, verbose_name=_("lymph node"))
    method = models.CharField(max_length=6, choices=ImagingMethod.choices, verbose_name=_("method"))
    slice_thickness_mm = models.DecimalField(
        max_digits=4, decimal_places=1, null=True, blank=True, verbose_name=_("slice thickness (mm)")
    )
    diameter_mm = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        verbose_name=_("diameter (mm)"),
        help_text=_(
            "Longest diameter; short axis for a lymph node. Baseline size (new lesion: when first seen)."
        ),
    )
    nature = models.CharField(
        max_length=32, choices=LesionNature.choices, default=LesionNature.SOLID, verbose_name=_("nature")
    )
    irradiated_before_study = models.CharField(
        max_length=1, choices=YesNo.choices, default=YesNo.NO, verbose_name=_("irradiated before the study")
    )
    progressed_since_irradiation = models.CharField(
        max_length=1,
        choices=YesNo.choices,
        blank=True,
        verbose_name=_("progressed since irradiation"),
        help_text=_("A previously irradiated lesion counts as measurable only when it progressed since."),
    )
    on_study_irradiation = models.CharField(
        max_length=8,
        choices=OnStudyIrradiation.choices,
        default=OnStudyIrradiation.NONE,
        verbose_name=_("irradiation on study"),
    )
    # Derived from on_study_irradiation (the registry's TUIRRAD yes/no).
    irradiated_on_study = models.CharField(
        max_length=1, choices=YesNo.choices, blank=True, verbose_name=_("irradiated on study"), editable=False
    )
    new_measurable = models.CharField(
        max_length=1,
        choices=YesNo.choices,
        blank=True,
        verbose_name=_("new lesion measurable (iRECIST NLT)"),
        help_text=_("New lesions only: measurable (a new-lesion target, NLT) or not (NLNT)."),
    )
    date = models.DateField(
        verbose_name=_("date identified"), help_text=_("The scan that showed the lesion.")
    )
    # Derived by the engine at entry (recist.classify_lesion): measurable, non_measurable ...
    measurability = models.CharField(
        max_length=20, blank=True, verbose_name=_("measurability"), editable=False
    )

    form_code: ClassVar[str] = "TU"
    form_item_fields: ClassVar[dict[str, str]] = {
        "TULNKID": "code",
        "TUCAT": "category",
        "TULOC": "location",
        "TUORGAN": "organ",
        "TUNODAL": "nodal",
        "TUMETH": "method",
        "TUSLTHK": "slice_thickness_mm",
        "TUDIAM": "diameter_mm",
        "TUNATURE": "nature",
        "TUPRIRR": "irradiated_before_study",
        "TUPROGRT": "progressed_since_irradiation",
        "TURTKIND": "on_study_irradiation",
        "TUIRRAD": "irradiated_on_study",
        "TUNEWMS": "new_measurable",
        "TUDATE": "date",
    }
    form_field_units: ClassVar[dict[str, str]] = {"slice_thickness_mm": "mm", "diameter_mm": "mm"}
    form_exempt_fields: ClassVar[tuple[str, ...]] = (
        "measurability",  # derived by the engine (recist.classify_lesion), no item anyone enters
    )
    answer_fields: ClassVar[tuple[str, ...]] = ()
    editable_fields: ClassVar[tuple[str, ...]] = (
        "visit",
        "code",
        "category",
        "location",
        "organ",
        "nodal",
        "method",
        "slice_thickness_mm",
        "diameter_mm",
        "nature",
        "irradiated_before_study",
        "progressed_since_irradiation",
        "on_study_irradiation",
        "new_measurable",
        "date",
    )

    class Meta:
        ordering = ["subject", "category", "code"]
        verbose_name = _("tumour lesion")
        verbose_name_plural = _("tumour lesions")
        indexes = [models.Index(fields=["subject", "code"], name="tu_subject_code")]
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "code"],
                condition=models.Q(voided_at__isnull=True),
                name="tu_one_code_per_subject",
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.location}"

    @property
    def is_nodal(self) -> bool:
        return self.nodal == YesNo.YES

    @property
    def is_baseline(self) -> bool:
        return self.category in (LesionCategory.TARGET, LesionCategory.NON_TARGET)


class TumorAssessment(FormRecord):
    """One imaging assessment: the scan date, the investigator's response, the derived response."""

    date = models.DateField(verbose_name=_("scan date"))
    criteria = models.CharField(
        max_length=10,
        choices=Criteria.choices,
        default=Criteria.RECIST11,
        verbose_name=_("criteria of the investigator's response"),
    )
    investigator_target = models.CharField(
        max_length=10, choices=Response.choices, blank=True, verbose_name=_("target response (investigator)")
    )
    investigator_non_target = models.CharField(
        max_length=10,
        choices=Response.choices,
        blank=True,
        verbose_name=_("non-target response (investigator)"),
    )
    investigator_new_lesions = models.CharField(
        max_length=1, choices=YesNo.choices, blank=True, verbose_name=_("new lesion (investigator)")
    )
    investigator_overall = models.CharField(
        max_length=10, choices=Response.choices, blank=True, verbose_name=_("overall response (investigator)")
    )
    investigator_irecist = models.CharField(
        max_length=10,
        choices=Response.choices,
        blank=True,
        verbose_name=_("iRECIST response (investigator)"),
    )
    # Treatment beyond iUPD: an investigator decision, with its date and reason.
    beyond_iupd = models.CharField(
        max_length=1, choices=YesNo.choices, blank=True, verbose_name=_("treatment continued beyond iUPD")
    )
    beyond_iupd_date = models.DateField(null=True, blank=True, verbose_name=_("date of the decision"))
    beyond_iupd_reason = models.TextField(blank=True, verbose_name=_("reason for treatment beyond iUPD"))

    # --- derived (edc/tumors/services.py: subject_response_derive), never entered -----------------
    sum_mm = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True, editable=False)
    measured_sum_mm = models.DecimalField(
        max_digits=6, decimal_places=1, null=True, blank=True, editable=False
    )
    pct_change_from_baseline = models.DecimalField(
        max_digits=6, decimal_places=1, null=True, blank=True, editable=False
    )
    nadir_before_mm = models.DecimalField(
        max_digits=6, decimal_places=1, null=True, blank=True, editable=False
    )
    pct_change_from_nadir = models.DecimalField(
        max_digits=7, decimal_places=1, null=True, blank=True, editable=False
    )
    target_response = models.CharField(max_length=10, blank=True, editable=False)
    non_target_response = models.CharField(max_length=10, blank=True, editable=False)
    # "Y", "N", "EQUIVOCAL" ("Y" also when a later scan confirmed the equivocal lesion it showed).
    new_lesions = models.CharField(max_length=10, blank=True, editable=False)
    overall_response = models.CharField(max_length=10, blank=True, editable=False)
    # After the first RECIST 1.1 progression the RECIST time-point response stops (A8).
    after_progression = models.BooleanField(default=False, editable=False)
    # The best overall response over the assessments up to this one, with and without confirmation.
    best_response_confirmed_to_date = models.CharField(max_length=10, blank=True, editable=False)
    best_response_unconfirmed_to_date = models.CharField(max_length=10, blank=True, editable=False)
    irecist_response = models.CharField(max_length=10, blank=True, editable=False)
    irecist_reasons = models.TextField(blank=True, editable=False)
    # Exploratory (seed 001): the response of the irradiated and the non-irradiated lesions apart.
    subset_responses = models.JSONField(default=dict, blank=True, editable=False)
    response_mismatch = models.BooleanField(default=False, editable=False)
    mismatch_detail = models.TextField(blank=True, editable=False)

    form_code: ClassVar[str] = "RS"
    form_item_fields: ClassVar[dict[str, str]] = {
        "RSDATE": "date",
        "RSCRIT": "criteria",
        "RSTARGET": "investigator_target",
        "RSNONTARGET": "investigator_non_target",
        "RSNEWLES": "investigator_new_lesions",
        "RSOVERALL": "investigator_overall",
        "RSIOVRL": "investigator_irecist",
        "RSBEYOND": "beyond_iupd",
        "RSBEYDAT": "beyond_iupd_date",
        "RSBEYRSN": "beyond_iupd_reason",
    }
    form_exempt_fields: ClassVar[tuple[str, ...]] = (
        # Derived by the engines from the lesions and measurements: no item anyone enters.
        "sum_mm",
        "measured_sum_mm",
        "pct_change_from_baseline",
        "nadir_before_mm",
        "pct_change_from_nadir",
        "target_response",
        "non_target_response",
        "new_lesions",
        "overall_response",
        "after_progression",
        "best_response_confirmed_to_date",
        "best_response_unconfirmed_to_date",
        "irecist_response",
        "irecist_reasons",
        "subset_responses",
        "response_mismatch",
        "mismatch_detail",
    )
    derived_fields: ClassVar[tuple[str, ...]] = form_exempt_fields
    answer_fields: ClassVar[tuple[str, ...]] = (
        "investigator_target",
        "investigator_non_target",
        "investigator_new_lesions",
        "investigator_overall",
        "investigator_irecist",
        "beyond_iupd",
        "beyond_iupd_date",
        "beyond_iupd_reason",
    )
    kept_when_not_done: ClassVar[tuple[str, ...]] = ("date",)
    editable_fields: ClassVar[tuple[str, ...]] = (
        "visit",
        "date",
        "criteria",
        "investigator_target",
        "investigator_non_target",
        "investigator_new_lesions",
        "investigator_overall",
        "investigator_irecist",
        "beyond_iupd",
        "beyond_iupd_date",
        "beyond_iupd_reason",
        "not_done_reason",
        "not_done_detail",
    )

    class Meta:
        ordering = ["subject", "date", "created"]
        verbose_name = _("tumour assessment")
        verbose_name_plural = _("tumour assessments")
        indexes = [models.Index(fields=["subject", "date"], name="rs_subject_date")]
        constraints = [
            models.UniqueConstraint(
                fields=["visit"], condition=models.Q(voided_at__isnull=True), name="rs_one_per_visit"
            )
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.overall_response or '-'}"


class LesionMeasurement(FormRecord):
    """One lesion at one assessment."""

    assessment = models.ForeignKey(TumorAssessment, on_delete=models.PROTECT, related_name="measurements")
    lesion = models.ForeignKey(Lesion, on_delete=models.PROTECT, related_name="measurements")
    # Copied from the lesion and the assessment (the registry items TRLNKID and TRDATE).
    lesion_code = models.CharField(max_length=16, blank=True, editable=False)
    date = models.DateField(null=True, blank=True, editable=False)
    target_state = models.CharField(
        max_length=12, choices=TargetState.choices, blank=True, verbose_name=_("target state")
    )
    diameter_mm = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        verbose_name=_("diameter (mm)"),
        help_text=_("Longest diameter; short axis for a lymph node."),
    )
    fragments_mm = models.CharField(
        max_length=100,
        blank=True,
        verbose_name=_("fragment diameters (mm)"),
        help_text=_("A split target: the fragments' diameters, comma separated ('12, 8')."),
    )
    merged_into = models.CharField(
        max_length=16,
        blank=True,
        verbose_name=_("merged into"),
        help_text=_("The target carrying the merged mass."),
    )
    state = models.CharField(
        max_length=10, choices=LesionState.choices, blank=True, verbose_name=_("state (non-target / new)")
    )
    increased_since_last = models.CharField(
        max_length=1,
        choices=YesNo.choices,
        blank=True,
        verbose_name=_("increased since the last assessment (iRECIST)"),
    )
    method = models.CharField(max_length=6, choices=ImagingMethod.choices, verbose_name=_("method"))

    form_code: ClassVar[str] = "TR"
    form_item_fields: ClassVar[dict[str, str]] = {
        "TRLNKID": "lesion_code",
        "TRDATE": "date",
        "TRTGSTAT": "target_state",
        "TRDIAM": "diameter_mm",
        "TRFRAG": "fragments_mm",
        "TRMERGE": "merged_into",
        "TRSTATE": "state",
        "TRINCR": "increased_since_last",
        "TRMETH": "method",
    }
    form_field_units: ClassVar[dict[str, str]] = {"diameter_mm": "mm"}
    form_exempt_fields: ClassVar[tuple[str, ...]] = (
        "assessment",  # structural: the assessment the row belongs to (its date is TRDATE)
        "lesion",  # structural: the lesion (its code is TRLNKID)
    )
    answer_fields: ClassVar[tuple[str, ...]] = ()
    editable_fields: ClassVar[tuple[str, ...]] = (
        "target_state",
        "diameter_mm",
        "fragments_mm",
        "merged_into",
        "state",
        "increased_since_last",
        "method",
    )
    fixed_fields: ClassVar[tuple[str, ...]] = ("study", "subject", "assessment", "lesion")
    lock_parents: ClassVar[tuple[str, ...]] = ("assessment", "visit", "subject", "study")

    class Meta:
        ordering = ["assessment", "lesion_code"]
        verbose_name = _("lesion measurement")
        verbose_name_plural = _("lesion measurements")
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "lesion"],
                condition=models.Q(voided_at__isnull=True),
                name="tr_one_row_per_lesion",
            )
        ]

    def __str__(self) -> str:
        return f"{self.lesion_code} {self.target_state or self.state} {self.diameter_mm or ''}".strip()
