"""The codes of the screening history forms, shared by the form models, the form registry's codelists
(fixtures/forms.yaml), the eligibility rule catalogue and the case format. Pure: no Django.

A category exists where a criterion of a seed needs it (docs/journey.md lists which criterion reads
which); OTHER takes everything else, so no entry is forced into a category it is not.
"""

from __future__ import annotations

YES, NO = "Y", "N"
YES_NO = (YES, NO)

# Class of a prior anticancer agent (codelist PTCLASS).
PRIOR_CLASSES: dict[str, str] = {
    "PD1": "PD-1 inhibitor",
    "PDL1": "PD-L1 inhibitor",
    "PDL2": "PD-L2 inhibitor",
    "CHECKPOINT_OTHER": "Other T-cell co-stimulatory or co-inhibitory antibody (CTLA-4, LAG-3 ...)",
    "ANTI_EGFR": "Anti-EGFR monoclonal antibody (cetuximab, nimotuzumab ...)",
    "EGFR_TKI": "EGFR tyrosine kinase inhibitor",
    "CDK46": "CDK4/6 inhibitor",
    "ANTI_VEGF": "Anti-angiogenic agent (VEGF / VEGFR)",
    "CHEMOTHERAPY": "Cytotoxic chemotherapy",
    "RADIOTHERAPY": "Radiotherapy",
    "TARGETED_OTHER": "Other targeted therapy",
    "INVESTIGATIONAL": "Investigational drug",
    "OTHER": "Other anticancer therapy",
    # Only what a record says can be stored: the case format's `last_anticancer_therapy` names no
    # class, but its whole-history rule says it was no PD-1 inhibitor unless prior_pd1_* say so.
    "NON_PD1": "Not a PD-1 inhibitor; class not recorded",
    "UNKNOWN": "Class not recorded",
}
# Classes that say what the agent is (the rule fields prior:<class> ... exist for these).
NAMED_PRIOR_CLASSES = tuple(c for c in PRIOR_CLASSES if c not in ("OTHER", "NON_PD1", "UNKNOWN"))

# Setting of a prior therapy (codelist PTSETTING).
PRIOR_SETTINGS: dict[str, str] = {
    "NEOADJ": "Neoadjuvant",
    "ADJ": "Adjuvant",
    "DEFINITIVE": "Definitive (curative intent, e.g. chemoradiotherapy)",
    "RM": "Recurrent or metastatic disease",
    "OTHER": "Other",
}

# Medical history categories (codelist MHCAT).
CONDITION_CATEGORIES: dict[str, str] = {
    "AUTOIMMUNE_DISEASE": "Autoimmune disease",
    "INTERSTITIAL_LUNG_DISEASE": "Interstitial lung disease / interstitial pneumonia, pneumoconiosis",
    "PNEUMONITIS": "Pneumonitis (radiation or drug-associated)",
    "PNEUMONIA": "Pneumonia (infectious)",
    "OBSTRUCTIVE_LUNG_DISEASE": "Obstructive lung disease (COPD)",
    "ASTHMA": "Asthma",
    "TUBERCULOSIS": "Active tuberculosis",
    "ORGAN_TRANSPLANT": "Organ transplant (not corneal)",
    "ALLOGENEIC_SCT": "Allogeneic stem-cell transplant",
    "AUTOLOGOUS_SCT": "Autologous stem-cell transplant",
    "OTHER_MALIGNANCY": "Other malignancy (not basal or squamous skin carcinoma, not carcinoma in situ)",
    "SKIN_OR_IN_SITU_CARCINOMA": "Basal or squamous cell skin carcinoma, or carcinoma in situ",
    "HIV": "HIV infection (positive HIV antibody)",
    "HEPATITIS_B": "Hepatitis B (ongoing: active, HBV DNA above the limit)",
    "HEPATITIS_C": "Hepatitis C (ongoing: active, HCV RNA above the limit)",
    "SYPHILIS": "Syphilis (positive treponemal antibody)",
    "IMMUNODEFICIENCY": "Congenital or acquired immune deficiency (other than HIV)",
    "MYOCARDIAL_INFARCTION": "Myocardial infarction",
    "UNSTABLE_ANGINA": "Unstable angina",
    "ARRHYTHMIA": "Arrhythmia",
    "HEART_FAILURE": "Cardiac insufficiency / heart failure",
    "CEREBROVASCULAR_EVENT": "Stroke, transient ischaemic attack or cerebral embolism",
    "VENOUS_THROMBOEMBOLISM": "Deep vein thrombosis or pulmonary embolism",
    "DIABETES": "Diabetes mellitus",
    "PSYCHIATRIC_DISORDER": "Psychiatric disorder",
    "SUBSTANCE_ABUSE": "Psychotropic substance abuse",
    "STUDY_DRUG_HYPERSENSITIVITY": "Hypersensitivity to a study drug or its components",
    "OTHER": "Other condition",
}
NAMED_CONDITIONS = tuple(c for c in CONDITION_CATEGORIES if c != "OTHER")
# What condition:<category> reads: no record, a past episode, or present now.
CONDITION_STATES = ("NONE", "PAST", "ONGOING")

# Concomitant medication categories: the registry's codelist CMREASON (its codes kept, three added:
# INVESTIGATIONAL, TRANSFUSION, IMMUNOSUPP_UNKNOWN), which edc/core/restricted_meds reads too.
MEDICATION_CATEGORIES: dict[str, str] = {
    "IMMUNOSUPP": "Systemic immunosuppressant (incl. a systemic corticosteroid above physiological doses)",
    "STEROID_PHYS": "Corticosteroid at a physiological dose, or nasal or inhaled",
    "IMMUNOSUPP_UNKNOWN": "Immunosuppressant or corticosteroid, kind not recorded",
    "GROWTH_FACTOR": "Haematopoietic growth factor (G-CSF, erythropoietin ...)",
    "LIVE_VACCINE": "Live or live-attenuated vaccine",
    "INVESTIGATIONAL": "Investigational drug (another trial)",
    "TRANSFUSION": "Transfusion",
    "ANTICANCER": "Anticancer therapy",
    "PREMED": "Premedication",
    "OTHER": "Other medication",
}
# The explicit answers of the medication form ("any ... in the last N weeks?"), each covering
# these categories; the events the rules read (`interval:last_growth_factor->first_dose` ...).
MEDICATION_TOPICS: dict[str, tuple[str, ...]] = {
    "GROWTH_FACTOR": ("GROWTH_FACTOR",),
    "IMMUNOSUPPRESSANT": ("IMMUNOSUPP", "STEROID_PHYS", "IMMUNOSUPP_UNKNOWN"),
    "LIVE_VACCINE": ("LIVE_VACCINE",),
    "INVESTIGATIONAL_DRUG": ("INVESTIGATIONAL",),
    "TRANSFUSION": ("TRANSFUSION",),
}
MEDICATION_EVENTS: dict[str, str] = {
    "last_growth_factor": "GROWTH_FACTOR",
    "last_immunosuppressant": "IMMUNOSUPPRESSANT",
    "last_live_vaccine": "LIVE_VACCINE",
    "last_investigational_drug": "INVESTIGATIONAL_DRUG",
    "last_transfusion": "TRANSFUSION",
}

# Disease baseline codelists.
PRIMARY_SITES: dict[str, str] = {
    "ORAL_CAVITY": "Oral cavity",
    "OROPHARYNX": "Oropharynx",
    "HYPOPHARYNX": "Hypopharynx",
    "LARYNX": "Larynx",
    "NASOPHARYNX": "Nasopharynx",
    "SINONASAL": "Nasal cavity / paranasal sinuses",
    "SALIVARY_GLAND": "Salivary gland",
    "SKIN": "Skin",
    "UNKNOWN_PRIMARY": "Unknown primary",
    "OTHER": "Other",
}
HISTOLOGIES = {"SCC": "Squamous cell carcinoma", "OTHER": "Other histology"}
HISTOLOGY_CONFIRMATION = {"HISTOLOGY": "Histology", "CYTOLOGY": "Cytology"}
DISEASE_SETTINGS = {
    "LOCAL": "Local recurrence",
    "REGIONAL": "Regional recurrence",
    "LOCOREG": "Locoregional recurrence",
    "METASTATIC": "Distant metastatic",
    "LA_INOP": "Locally advanced inoperable",
}
HPV_STATUS = {"POS": "Positive", "NEG": "Negative", "ND": "Not done"}
HPV_METHODS = {"IHC": "p16 immunohistochemistry", "PCR": "HPV DNA PCR", "ISH": "In situ hybridisation"}
SURGERY_TYPES = {
    "RADICAL": "Standard radical resection",
    "NON_RADICAL": "Non-radical / palliative resection",
    "BIOPSY": "Biopsy only",
}
RECURRENCE_CONFIRMATION = {
    "RADIOLOGY": "Imaging",
    "PATHOLOGY": "Pathology",
    "CLINICAL": "Clinical examination",
}
METASTASIS_METHODS = {
    "PETCT": "PET-CT (whole body)",
    "WBCT": "Whole-body CT",
    "WBMRI": "Whole-body MRI",
    "CT_CHEST": "Chest CT only",
    "OTHER": "Other",
}
WHOLE_BODY_METHODS = ("PETCT", "WBCT", "WBMRI")

PREGNANCY_RESULTS = ("negative", "positive", "not_applicable")
PREGNANCY_SPECIMENS = ("URINE", "SERUM")

# "Not done" instead of a blank that looks like zero (the base of every form row).
NOT_DONE_REASONS = {
    "not_done": "Not done",
    "not_applicable": "Not applicable",
    "unknown": "Unknown",
    "refused": "Refused by the patient",
}

# --- after treatment, radiotherapy, biomarkers (issue 19) ----------------------------------------
# The registry's codelists of the same names (fixtures/forms.yaml) hold the same codes.

# Primary cause of death (codelist DTHCAUSE).
DEATH_CAUSES: dict[str, str] = {
    "PD": "Disease progression",
    "AE": "Adverse event",
    "OTHER": "Other",
    "UNK": "Unknown",
}
# Contact method of a survival follow-up (codelist CONTACT).
CONTACT_METHODS: dict[str, str] = {
    "VISIT": "Clinic visit",
    "PHONE": "Telephone",
    "RECORD": "Medical record",
}
# Survival status at a follow-up contact (codelist FUSTAT).
ALIVE, DEAD, LOST, WITHDRAWN = "ALIVE", "DEAD", "LOST", "WITHDRAWN"
SURVIVAL_STATUSES: dict[str, str] = {
    ALIVE: "Alive",
    DEAD: "Dead",
    LOST: "Lost to follow-up",
    WITHDRAWN: "Withdrew consent",
}
# Radiotherapy technique (codelist RTTECH).
RT_TECHNIQUES: dict[str, str] = {
    "IMRT": "IMRT",
    "VMAT": "VMAT",
    "SBRT": "SBRT",
    "LDRT": "Low-dose RT",
    "3DCRT": "3D conformal",
    "OTHER": "Other",
}
# What a course given on study is (codelist RTKIND): seed 001 low-dose and stereotactic
# radiotherapy of selected lesions, seed 004 concurrent chemoradiotherapy.
RT_KINDS: dict[str, str] = {
    "LDRT": "Low-dose radiotherapy",
    "SBRT": "Stereotactic radiotherapy",
    "CRT": "Concurrent chemoradiotherapy",
    "OTHER": "Other radiotherapy on study",
}
# Biomarker tests (codelist BMTEST); HPV / p16 stays on the disease baseline (BD).
PDL1, VEGFR2, EBVDNA = "PDL1", "VEGFR2", "EBVDNA"
BIOMARKER_TESTS: dict[str, str] = {
    PDL1: "PD-L1 expression (immunohistochemistry)",
    VEGFR2: "VEGFR-2 expression (immunohistochemistry)",
    EBVDNA: "Plasma EBV DNA (copies/mL)",
}
# How a PD-L1 result is scored (codelist PDL1SCORE).
CPS, TPS = "CPS", "TPS"
PDL1_SCORES: dict[str, str] = {
    CPS: "Combined positive score (tumour and immune cells)",
    TPS: "Tumour proportion score (%)",
}
# A status (codelist PDL1: positive, negative; ND is the form's "not done").
POSITIVE, NEGATIVE = "POS", "NEG"
BIOMARKER_STATUSES: dict[str, str] = {POSITIVE: "Positive", NEGATIVE: "Negative"}

# The studies' PD-L1 positive cut-offs, by seed record (as Study.seed names it, like the
# restricted-medication rules of edc/core/restricted_meds.py). A result at or above the cut-off, in
# the score named, is positive.
PDL1_CUTOFFS: dict[str, dict[str, object]] = {
    "003_cbd3a0c14bafe534.txt": {
        "score": CPS,
        "cutoff": 1,
        "assumption": (
            "the record splits ORR by 'PD-L1 positive and PD-L1 negative' (expression 'on tumor and "
            "immune cells') but states no score or cut-off; ours: CPS >= 1, the usual cut-off of a "
            "score counting tumour and immune cells"
        ),
    },
}
