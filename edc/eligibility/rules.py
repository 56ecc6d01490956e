"""The eligibility rule grammar: the field catalogue, validation and a reading in words.

Pure: no Django. The grammar is fixed in docs/definitions.md ("Eligibility rule grammar"); the
loader and the admin call `validate_rule` and `describe_rule`, and `eligibility.py` interprets
rules that passed validation.

Choices the contract leaves open (kept deliberately strict, because a rule that validates but can
never be evaluated would silently turn into a "needs review" for every patient):
- `unit` may be omitted for `age` (years), `weight_kg` (kg) and `height_cm` (cm), whose unit is in
  their name; every other quantity needs its unit (or `ref` on a lab).
- `within` is accepted only on dated items (labs and the pregnancy test): the case format carries no
  date for ECOG, vitals or age, so a recency window on them could never be satisfied.
- The op `within` is accepted only on `interval:` fields: "within N days before the first dose" is
  time from an event, and the op reads it the one inclusive way (see `WITHIN_IS_INCLUSIVE`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from edc.core.units import UnitError, compatible, normalize_unit
from edc.forms import codes

OPS = ("<", "<=", ">=", ">", "==", "in", "between", "within")
OP_WORDS = {"<": "<", "<=": "≤", ">=": "≥", ">": ">", "==": "=", "within": "within"}
# "Within N days (weeks, months)" means no more than N: day N is within N days, day N + 1 is not.
# One reading for the op `within` on intervals and for a comparison's `within` recency window.
WITHIN_IS_INCLUSIVE = True
REFS = ("ULN", "LLN")
WITHIN_ANCHORS = ("first_dose", "enrollment")

# The events of the case format's `dates` (its whole history: an event it does not list did not
# happen), then the events the extension's history sections add (docs/journey.md).
CASE_EVENTS = (
    "diagnosis",
    "surgery",
    "recurrence",
    "prior_pd1_first_dose",
    "prior_pd1_last_dose",
    "last_anticancer_therapy",
    "last_growth_factor",
    "last_immunosuppressant",
    "last_live_vaccine",
)
CONDITION_EVENT_PREFIX = "condition:"
EVENTS = (
    *CASE_EVENTS,
    "last_investigational_drug",
    "last_transfusion",
    # The latest date a condition of the category was present (ongoing: the first dose itself).
    *(f"{CONDITION_EVENT_PREFIX}{category}" for category in codes.NAMED_CONDITIONS),
    "first_dose",
)

# Urine protein dipstick, lowest first; the index is the order the comparisons use.
UPROT_ORDER = ("negative", "trace", "1+", "2+", "3+", "4+")


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: str  # number | integer | code | ordinal | interval
    label: str
    unit: str | None = None  # the unit values are compared in (a canonical spelling of the dimension)
    default_unit: str | None = None  # unit assumed when a rule omits it
    analyte: str | None = None  # for conversions that depend on the analyte (molar masses)
    lab: bool = False
    dated: bool = False
    codes: tuple[str, ...] = ()
    low: int | None = None
    high: int | None = None
    # Extension items (docs/journey.md): when not recorded, the parts that read them are the
    # investigator's to judge (like a review part), not missing data.
    extension: bool = False
    source: str = ""  # where the engine reads it: disease, prior, condition, consent, pregnancy
    key: str = ""  # the class, setting or category a family field is about


def _lab(code: str, unit: str | None, kind: str = "number", label: str | None = None) -> FieldSpec:
    return FieldSpec(
        name=code,
        kind=kind,
        label=label or code,
        unit=unit,
        analyte=code,
        lab=True,
        dated=True,
        codes=UPROT_ORDER if kind == "ordinal" else (),
    )


FIELDS: dict[str, FieldSpec] = {
    "age": FieldSpec("age", "number", "age", unit="years", default_unit="years"),
    "sex": FieldSpec("sex", "code", "sex", codes=("M", "F")),
    "ecog": FieldSpec("ecog", "integer", "ECOG", low=0, high=5),
    "weight_kg": FieldSpec("weight_kg", "number", "weight", unit="kg", default_unit="kg"),
    "height_cm": FieldSpec("height_cm", "number", "height", unit="cm", default_unit="cm"),
    "pregnancy_test": FieldSpec(
        "pregnancy_test",
        "code",
        "pregnancy test",
        dated=True,
        codes=("negative", "positive", "not_applicable"),
    ),
    **{code: _lab(code, "g/L") for code in ("HGB", "ALB")},
    **{code: _lab(code, "10^9/L") for code in ("WBC", "NEUT", "LYM", "PLAT")},
    **{code: _lab(code, "mmol/L") for code in ("BILI", "CREAT", "GLUC", "CA", "UREA")},
    **{code: _lab(code, "U/L") for code in ("AST", "ALT", "ALP", "GGT", "LIPASE", "AMYLASE")},
    "BUN": _lab("BUN", "mg/L"),
    "CREATCLR": _lab("CREATCLR", "mL/min", label="creatinine clearance"),
    **{code: _lab(code, "mmol/L") for code in ("K", "SODIUM", "MG")},
    "INR": _lab("INR", None),
    "UPROT": _lab("UPROT", None, kind="ordinal", label="urine protein"),
    "UPROT24H": _lab("UPROT24H", "mg/24h", label="24-hour urine protein"),
}


def _code(
    name: str, label: str, values: tuple[str, ...], source: str, key: str = "", kind: str = "code"
) -> FieldSpec:
    return FieldSpec(name, kind, label, codes=values, extension=True, source=source, key=key)


def _count(name: str, label: str, source: str, key: str = "", high: int = 1000) -> FieldSpec:
    return FieldSpec(name, "integer", label, low=0, high=high, extension=True, source=source, key=key)


YN = codes.YES_NO
# The items of the screening forms that the case format did not carry (docs/journey.md).
EXTENSION_FIELDS: dict[str, FieldSpec] = {
    spec.name: spec
    for spec in (
        _code("primary_site", "primary site", tuple(codes.PRIMARY_SITES), "disease"),
        _code("histology", "histology", tuple(codes.HISTOLOGIES), "disease"),
        _code(
            "histology_confirmation",
            "how histology was confirmed",
            tuple(codes.HISTOLOGY_CONFIRMATION),
            "disease",
        ),
        _code("disease_setting", "disease setting", tuple(codes.DISEASE_SETTINGS), "disease"),
        _code("measurable_disease", "measurable disease (RECIST 1.1)", YN, "disease"),
        _code("hpv_status", "HPV status", tuple(codes.HPV_STATUS), "disease"),
        _code("hpv_method", "HPV test method", tuple(codes.HPV_METHODS), "disease"),
        _code("surgery_type", "type of surgery", tuple(codes.SURGERY_TYPES), "disease"),
        _code("neck_dissection", "neck lymph node dissection", YN, "disease"),
        _code(
            "recurrence_confirmation",
            "how recurrence was confirmed",
            tuple(codes.RECURRENCE_CONFIRMATION),
            "disease",
        ),
        _count("recurrence_imaging_count", "imaging exams confirming recurrence", "disease", high=50),
        _code("metastasis_excluded", "distant metastasis ruled out", YN, "disease"),
        _code(
            "metastasis_method",
            "how distant metastasis was ruled out",
            tuple(codes.METASTASIS_METHODS),
            "disease",
        ),
        _code("consent_before_procedures", "consent signed before every screening procedure", YN, "consent"),
        _code("pregnancy_test_specimen", "pregnancy test specimen", codes.PREGNANCY_SPECIMENS, "pregnancy"),
        _code("prior_ongoing", "prior anticancer therapy ongoing", YN, "prior"),
        _code("prior_toxicity_unrecovered", "toxicity of a prior therapy not recovered", YN, "prior"),
        *(
            _code(f"prior:{c}", f"prior {label}", YN, "prior", key=c)
            for c, label in codes.PRIOR_CLASSES.items()
            if c in codes.NAMED_PRIOR_CLASSES
        ),
        *(
            _count(f"prior_cycles:{c}", f"cycles of prior {c}", "prior", key=c)
            for c in codes.NAMED_PRIOR_CLASSES
        ),
        *(
            _code(f"prior_progression:{c}", f"progression on prior {c}", YN, "prior", key=c)
            for c in codes.NAMED_PRIOR_CLASSES
        ),
        *(
            _count(
                f"prior_toxicity_grade:{c}",
                f"worst residual toxicity grade of prior {c}",
                "prior",
                key=c,
                high=5,
            )
            for c in codes.NAMED_PRIOR_CLASSES
        ),
        *(
            _code(f"prior_setting:{s}", f"prior therapy in the {label.lower()} setting", YN, "prior", key=s)
            for s, label in codes.PRIOR_SETTINGS.items()
            if s != "OTHER"
        ),
        *(
            _code(f"condition:{c}", label.lower(), codes.CONDITION_STATES, "condition", key=c)
            for c, label in codes.CONDITION_CATEGORIES.items()
            if c in codes.NAMED_CONDITIONS
        ),
    )
}
TOXICITY_GRADE_PREFIX = "prior_toxicity_grade:"

INTERVAL_PREFIX = "interval:"
COMPARISON_KEYS = {"field", "op", "value", "unit", "ref", "within", "ctcae"}
COMBINATORS = ("all", "any", "not", "review")


def field_spec(name: str) -> FieldSpec | None:
    """The catalogue entry for a field name, including `interval:A->B` fields."""
    if not isinstance(name, str):
        return None
    if name in FIELDS:
        return FIELDS[name]
    if name in EXTENSION_FIELDS:
        return EXTENSION_FIELDS[name]
    events = parse_interval(name)
    if events is None:
        return None
    start, end = events
    return FieldSpec(
        name=name,
        kind="interval",
        label=f"time from {_event_words(start)} to {_event_words(end)}",
        unit="days",
    )


def parse_interval(name: str) -> tuple[str, str] | None:
    """`interval:A->B` as (A, B) when both are known events, else None."""
    if not isinstance(name, str) or not name.startswith(INTERVAL_PREFIX):
        return None
    body = name[len(INTERVAL_PREFIX) :]
    if body.count("->") != 1:
        return None
    start, end = (part.strip() for part in body.split("->"))
    if start not in EVENTS or end not in EVENTS:
        return None
    return start, end


def event_words(event: str) -> str:
    """An event in words: "prior PD-1 last dose", "myocardial infarction"."""
    if event.startswith(CONDITION_EVENT_PREFIX):
        category = event[len(CONDITION_EVENT_PREFIX) :]
        return codes.CONDITION_CATEGORIES.get(category, category).split(" (")[0].lower()
    return event.replace("_", " ").replace("pd1", "PD-1")


_event_words = event_words


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


# ---------------------------------------------------------------------------------------------
# Validation


def validate_rule(rule: Any) -> list[str]:
    """Every error in the rule, each naming its path inside the rule; empty when the rule is valid.

    `None` is a valid rule: a criterion with no checkable part, confirmed by the investigator.
    """
    if rule is None:
        return []
    errors: list[str] = []
    _validate_node(rule, "", errors)
    return errors


def _validate_node(node: Any, path: str, errors: list[str]) -> None:
    where = path or "rule"
    if not isinstance(node, dict):
        errors.append(f"{where}: a rule node must be an object, not {type(node).__name__}")
        return
    kinds = [key for key in ("field", *COMBINATORS) if key in node]
    if not kinds:
        keys = ", ".join(sorted(map(str, node))) or "none"
        errors.append(f"{where}: a rule node needs one of field, all, any, not, review (keys given: {keys})")
        return
    if len(kinds) > 1:
        errors.append(f"{where}: a rule node has exactly one of {', '.join(kinds)}")
        return
    kind = kinds[0]
    if kind == "field":
        _validate_comparison(node, path, errors)
        return
    extra = sorted(str(key) for key in node if key != kind)
    if extra:
        errors.append(f"{where}: unknown key(s) {', '.join(extra)} beside '{kind}'")
    body = node[kind]
    if kind in ("all", "any"):
        if not isinstance(body, list) or not body:
            errors.append(f"{_join(path, kind)}: must be a non-empty list of rule nodes")
            return
        for index, child in enumerate(body):
            _validate_node(child, f"{_join(path, kind)}[{index}]", errors)
    elif kind == "not":
        _validate_node(body, _join(path, "not"), errors)
    else:
        if not isinstance(body, str) or not body.strip():
            errors.append(f"{_join(path, 'review')}: review text must be a non-empty string")


def _validate_comparison(node: dict[str, Any], path: str, errors: list[str]) -> None:
    extra = sorted(str(key) for key in node if key not in COMPARISON_KEYS)
    for key in extra:
        hint = " (use within: {days, before})" if key == "within_days_before" else ""
        errors.append(f"{_join(path, key)}: unknown key{hint}")
    name = node.get("field")
    spec = field_spec(name) if isinstance(name, str) else None
    if spec is None:
        if isinstance(name, str) and name.startswith(INTERVAL_PREFIX):
            errors.append(
                f"{_join(path, 'field')}: unknown interval {name!r} "
                f"(interval:A->B with A, B among {', '.join(EVENTS)})"
            )
        else:
            errors.append(f"{_join(path, 'field')}: unknown field {name!r}")
        return

    op = node.get("op")
    if op not in OPS:
        errors.append(f"{_join(path, 'op')}: unknown op {op!r} (one of {', '.join(OPS)})")
        return
    if spec.kind == "code" and op not in ("==", "in"):
        errors.append(f"{_join(path, 'op')}: {spec.name} is a code; only == and in apply")
    if op == "within" and spec.kind != "interval":
        errors.append(
            f"{_join(path, 'op')}: within applies to interval:A->B fields (time since an event), "
            f"not {spec.name}; a lab's recency is the key within: {{days, before}}"
        )

    ref = node.get("ref")
    if ref is not None:
        if not spec.lab:
            errors.append(f"{_join(path, 'ref')}: ref applies only to lab fields, not {spec.name}")
        elif spec.kind != "number":
            errors.append(f"{_join(path, 'ref')}: {spec.name} has no normal range to refer to")
        elif ref not in REFS:
            errors.append(f"{_join(path, 'ref')}: unknown ref {ref!r} (ULN or LLN)")

    _validate_value(node, spec, op, path, errors)
    _validate_unit(node, spec, path, errors)
    _validate_within(node, spec, path, errors)
    ctcae = node.get("ctcae")
    if ctcae is not None:
        if not spec.name.startswith(TOXICITY_GRADE_PREFIX):
            errors.append(f"{_join(path, 'ctcae')}: applies only to prior_toxicity_grade:<class> fields")
        elif not isinstance(ctcae, str) or not ctcae.strip():
            errors.append(f'{_join(path, "ctcae")}: the CTCAE version the grades are read in, e.g. "4.03"')


def _validate_value(node: dict[str, Any], spec: FieldSpec, op: str, path: str, errors: list[str]) -> None:
    where = _join(path, "value")
    if "value" not in node:
        errors.append(f"{where}: missing")
        return
    value = node["value"]
    if op == "between":
        if not isinstance(value, list) or len(value) != 2:
            errors.append(f"{where}: between needs [low, high]")
            return
        items = value
    elif op == "in":
        if not isinstance(value, list) or not value:
            errors.append(f"{where}: in needs a non-empty list")
            return
        items = value
    else:
        if isinstance(value, list):
            errors.append(f"{where}: {op} needs a single value, not a list")
            return
        items = [value]
    ok = True
    for index, item in enumerate(items):
        item_where = where if len(items) == 1 and op not in ("in", "between") else f"{where}[{index}]"
        problem = _value_problem(spec, item)
        if problem:
            errors.append(f"{item_where}: {problem}")
            ok = False
    if ok and op == "within" and items[0] < 0:
        errors.append(f"{where}: within needs a length of time ≥ 0, not {items[0]}")
    if ok and op == "between":
        low, high = items
        if spec.kind == "ordinal":
            low, high = UPROT_ORDER.index(low), UPROT_ORDER.index(high)
        if low > high:
            errors.append(f"{where}: between needs low ≤ high, got {items}")


def _value_problem(spec: FieldSpec, item: Any) -> str | None:
    if spec.kind in ("code", "ordinal"):
        if item not in spec.codes:
            return f"{item!r} is not a value of {spec.name} ({', '.join(spec.codes)})"
        return None
    if not _is_number(item):
        return f"{item!r} is not a number"
    if isinstance(item, float) and item != item:
        return "NaN is not a number"
    if spec.kind == "integer":
        if item != int(item):
            return f"{spec.name} is a whole number, not {item}"
        if spec.low is not None and not spec.low <= item <= spec.high:
            return f"{spec.name} runs {spec.low}-{spec.high}, not {item}"
    return None


def _validate_unit(node: dict[str, Any], spec: FieldSpec, path: str, errors: list[str]) -> None:
    where = _join(path, "unit")
    unit = node.get("unit")
    has_ref = node.get("ref") is not None
    if unit is None or unit == "":
        if spec.unit is not None and not has_ref and spec.default_unit is None:
            errors.append(f"{where}: {spec.name} needs a unit ({_units_hint(spec)}) or a ref")
        return
    if not isinstance(unit, str):
        errors.append(f"{where}: must be a string")
        return
    if has_ref:
        errors.append(f"{where}: omit the unit with ref (the value is a multiple of the {node['ref']})")
        return
    if spec.unit is None:
        errors.append(f"{where}: {spec.name} has no unit")
        return
    try:
        normalize_unit(unit)
    except UnitError as exc:
        errors.append(f"{where}: {exc}")
        return
    try:
        ok = compatible(unit, spec.unit, analyte=spec.analyte)
    except UnitError:
        ok = False
    if not ok:
        errors.append(f"{where}: unit {unit!r} does not fit {spec.name} ({_units_hint(spec)})")


def _units_hint(spec: FieldSpec) -> str:
    hints = {
        "years": "years",
        "kg": "kg",
        "cm": "cm",
        "g/L": "g/L, g/dL" + (", mmol/L" if spec.name == "HGB" else ""),
        "10^9/L": "10^9/L, /mm3, /uL",
        "mmol/L": "mmol/L" + (", mg/dL, umol/L, mg/L" if spec.name not in ("K", "SODIUM") else ""),
        "U/L": "U/L",
        "mg/L": "mg/L, mg/dL, mmol/L",
        "mL/min": "mL/min",
        "mg/24h": "mg/24h, g/24h",
        "days": "days, weeks, months",
    }
    return f"e.g. {hints.get(spec.unit or '', spec.unit)}"


def _validate_within(node: dict[str, Any], spec: FieldSpec, path: str, errors: list[str]) -> None:
    within = node.get("within")
    if within is None:
        return
    where = _join(path, "within")
    if not spec.dated:
        errors.append(f"{where}: {spec.name} carries no date; within applies to labs and pregnancy_test")
        return
    if not isinstance(within, dict):
        errors.append(f"{where}: must be {{days: N, before: first_dose | enrollment}}")
        return
    for key in sorted(str(k) for k in within if k not in ("days", "before")):
        errors.append(f"{where}.{key}: unknown key")
    days = within.get("days")
    if not isinstance(days, int) or isinstance(days, bool) or days < 0:
        errors.append(f"{where}.days: must be a whole number of days ≥ 0, not {days!r}")
    before = within.get("before")
    if before not in WITHIN_ANCHORS:
        errors.append(f"{where}.before: must be first_dose or enrollment, not {before!r}")


# ---------------------------------------------------------------------------------------------
# Description


def describe_rule(rule: Any) -> str:
    """The rule in words, e.g. "ALT ≤ 1.5 × ULN (within 14 days before first dose)".

    Tolerates invalid rules (the admin shows whatever is stored) by falling back to the raw JSON.
    """
    if rule is None:
        return "no checkable rule: confirmed by the investigator"
    return _describe(rule, top=True)


def _describe(node: Any, top: bool = False) -> str:
    if not isinstance(node, dict):
        return repr(node)
    if "field" in node:
        return _describe_comparison(node)
    if "review" in node:
        return f"[investigator: {node['review']}]"
    if "not" in node:
        return f"not {_wrap(node['not'])}"
    for key, word in (("all", " and "), ("any", " or ")):
        if key in node and isinstance(node[key], list):
            text = word.join(_wrap(child) for child in node[key])
            return text if top or len(node[key]) == 1 else f"({text})"
    return repr(node)


def _wrap(node: Any) -> str:
    text = _describe(node)
    if isinstance(node, dict) and ("all" in node or "any" in node):
        return text if text.startswith("(") else f"({text})"
    return text


def format_number(value: Any) -> str:
    """A rule's number as its author wrote it (4.0 stays 4.0, 100 stays 100)."""
    return str(value)


def _describe_comparison(node: dict[str, Any]) -> str:
    field = node.get("field")
    spec = field_spec(field) if isinstance(field, str) else None
    label = spec.label if spec else str(node.get("field"))
    op = node.get("op")
    value = node.get("value")
    ref = node.get("ref")
    unit = node.get("unit") or (spec.default_unit if spec else None)
    if ref:
        suffix = f" × {ref}"
    elif unit:
        suffix = f" × {unit}" if str(unit).startswith("10^") else f" {unit}"
    else:
        suffix = ""

    def one(item: Any) -> str:
        return f"{format_number(item)}{suffix}"

    if op == "between" and isinstance(value, list) and len(value) == 2:
        text = f"{label} between {format_number(value[0])} and {one(value[1])}"
    elif op == "in" and isinstance(value, list):
        text = f"{label} in {{{', '.join(format_number(item) for item in value)}}}{suffix}"
    else:
        text = f"{label} {OP_WORDS.get(str(op), op)} {one(value)}"
    within = node.get("within")
    if isinstance(within, dict):
        before = str(within.get("before", "")).replace("_", " ")
        text += f" (within {within.get('days')} days before {before})"
    if node.get("ctcae"):
        text += f" (CTCAE {node['ctcae']})"
    return text
