"""The eligibility rule grammar (docs/definitions.md): validation with paths, and rules in words."""

import pytest

from edc.eligibility.rules import FIELDS, describe_rule, field_spec, parse_interval, validate_rule

WITHIN_14 = {"days": 14, "before": "first_dose"}


@pytest.mark.parametrize(
    "rule",
    [
        None,
        {"field": "age", "op": "between", "value": [18, 75], "unit": "years"},
        {"field": "age", "op": ">=", "value": 18},
        {"field": "sex", "op": "==", "value": "F"},
        {"field": "sex", "op": "in", "value": ["M", "F"]},
        {"field": "ecog", "op": "in", "value": [0, 1]},
        {"field": "ecog", "op": "<=", "value": 1},
        {"field": "weight_kg", "op": ">=", "value": 40},
        {"field": "height_cm", "op": ">=", "value": 1.2, "unit": "m"},
        {"field": "HGB", "op": ">=", "value": 100, "unit": "g/L", "within": WITHIN_14},
        {"field": "HGB", "op": ">=", "value": 10, "unit": "g/dL"},
        {"field": "HGB", "op": ">=", "value": 6.2, "unit": "mmol/L"},
        {"field": "WBC", "op": ">=", "value": 4.0, "unit": "10^9/L"},
        {"field": "NEUT", "op": ">=", "value": 1500, "unit": "/mm3"},
        {"field": "PLAT", "op": ">=", "value": 100000, "unit": "/uL"},
        {"field": "LYM", "op": ">=", "value": 0.5, "unit": "x10^9/L"},
        {"field": "BILI", "op": "<=", "value": 1.5, "ref": "ULN"},
        {"field": "BILI", "op": "<=", "value": 25.6, "unit": "µmol/L"},
        {"field": "CREAT", "op": "<=", "value": 1.5, "unit": "mg/dL"},
        {"field": "GLUC", "op": "<", "value": 11.1, "unit": "mmol/L"},
        {"field": "CA", "op": "between", "value": [2.0, 2.6], "unit": "mmol/L"},
        {"field": "UREA", "op": "<=", "value": 8, "unit": "mmol/L"},
        {"field": "ALT", "op": "<=", "value": 1.5, "ref": "ULN", "within": WITHIN_14},
        {"field": "ALP", "op": "<=", "value": 2.5, "ref": "ULN"},
        {"field": "ALB", "op": ">=", "value": 3, "unit": "g/dL"},
        {"field": "ALB", "op": ">=", "value": 1, "ref": "LLN"},
        {"field": "BUN", "op": "<=", "value": 200, "unit": "mg/L"},
        {"field": "BUN", "op": "<=", "value": 20, "unit": "mg/dL"},
        {"field": "BUN", "op": "<=", "value": 7.1, "unit": "mmol/L"},
        {"field": "CREATCLR", "op": ">=", "value": 60, "unit": "mL/min"},
        {"field": "K", "op": "between", "value": [3.5, 5.1], "unit": "mmol/L"},
        {"field": "INR", "op": "<=", "value": 1.5},
        {"field": "UPROT", "op": "<", "value": "1+"},
        {"field": "UPROT", "op": "in", "value": ["negative", "trace"]},
        {"field": "UPROT24H", "op": "<", "value": 0.5, "unit": "g/24h"},
        {
            "field": "pregnancy_test",
            "op": "in",
            "value": ["negative", "not_applicable"],
            "within": {"days": 7, "before": "first_dose"},
        },
        {"field": "interval:surgery->recurrence", "op": "<", "value": 6, "unit": "months"},
        {"field": "interval:last_growth_factor->first_dose", "op": "<=", "value": 1, "unit": "weeks"},
        {"field": "interval:last_immunosuppressant->first_dose", "op": "<=", "value": 14, "unit": "days"},
        {"all": [{"field": "ecog", "op": "<=", "value": 1}, {"review": "measurable disease"}]},
        {"any": [{"field": "WBC", "op": ">=", "value": 4, "unit": "10^9/L"}, {"not": {"review": "x"}}]},
        {"not": {"field": "sex", "op": "==", "value": "M"}},
        {"review": "HPV negative by IHC"},
        {"field": "ALT", "op": "<=", "value": 1.5, "ref": "ULN", "unit": None, "within": None},
    ],
)
def test_valid_rule_has_no_errors(rule):
    assert validate_rule(rule) == []


@pytest.mark.parametrize(
    ("rule", "error"),
    [
        ({"field": "HBG", "op": ">=", "value": 100, "unit": "g/L"}, "field: unknown field 'HBG'"),
        (
            {
                "all": [
                    {"field": "ecog", "op": "<=", "value": 1},
                    {"review": "x"},
                    {"field": "HBG", "op": ">=", "value": 1, "unit": "g/L"},
                ]
            },
            "all[2].field: unknown field 'HBG'",
        ),
        (
            {"any": [{"review": "x"}, {"not": {"field": "ALT", "op": "<=", "value": 1.5, "unit": "g/L"}}]},
            "any[1].not.unit: unit 'g/L' does not fit ALT",
        ),
        ({"field": "ALT", "op": "=<", "value": 1.5, "ref": "ULN"}, "op: unknown op '=<'"),
        ({"field": "ALT", "op": "<=", "ref": "ULN"}, "value: missing"),
        ({"field": "ALT", "op": "<=", "value": "1.5", "ref": "ULN"}, "value: '1.5' is not a number"),
        ({"field": "ALT", "op": "<=", "value": True, "ref": "ULN"}, "value: True is not a number"),
        ({"field": "ALT", "op": "<=", "value": [1, 2], "ref": "ULN"}, "value: <= needs a single value"),
        (
            {"field": "age", "op": "between", "value": [18], "unit": "years"},
            "value: between needs [low, high]",
        ),
        ({"field": "age", "op": "between", "value": [75, 18]}, "value: between needs low ≤ high"),
        ({"field": "ecog", "op": "in", "value": []}, "value: in needs a non-empty list"),
        ({"field": "ecog", "op": "in", "value": [0, 6]}, "value[1]: ecog runs 0-5, not 6"),
        ({"field": "ecog", "op": "<=", "value": 1.5}, "value: ecog is a whole number"),
        ({"field": "sex", "op": "==", "value": "X"}, "value: 'X' is not a value of sex"),
        ({"field": "sex", "op": ">=", "value": "M"}, "op: sex is a code; only == and in apply"),
        ({"field": "UPROT", "op": "<", "value": "+"}, "value: '+' is not a value of UPROT"),
        (
            {"field": "pregnancy_test", "op": "==", "value": "neg"},
            "value: 'neg' is not a value of pregnancy_test",
        ),
        ({"field": "HGB", "op": ">=", "value": 100, "unit": "g/l/x"}, "unit: unknown unit 'g/l/x'"),
        ({"field": "HGB", "op": ">=", "value": 100, "unit": "U/L"}, "unit: unit 'U/L' does not fit HGB"),
        ({"field": "HGB", "op": ">=", "value": 100}, "unit: HGB needs a unit"),
        ({"field": "NEUT", "op": ">=", "value": 1.5, "unit": "G/L"}, "unit: ambiguous unit 'G/L'"),
        ({"field": "NEUT", "op": ">=", "value": 1.5, "unit": "g/L"}, "unit: unit 'g/L' does not fit NEUT"),
        (
            {"field": "ALT", "op": "<=", "value": 1.5, "ref": "ULN", "unit": "U/L"},
            "unit: omit the unit with ref",
        ),
        ({"field": "ecog", "op": "<=", "value": 1, "unit": "years"}, "unit: ecog has no unit"),
        ({"field": "CREATCLR", "op": ">=", "value": 60, "unit": "mg/dL"}, "unit: unit 'mg/dL' does not fit"),
        ({"field": "UPROT24H", "op": "<", "value": 500, "unit": "mg/dL"}, "unit: unit 'mg/dL' does not fit"),
        (
            {"field": "interval:surgery->recurrence", "op": "<", "value": 6},
            "unit: interval:surgery->recurrence needs a unit",
        ),
        (
            {"field": "interval:surgery->recurrence", "op": "<", "value": 6, "unit": "mg"},
            "unit: unit 'mg' does not fit",
        ),
        (
            {"field": "interval:surgery->relapse", "op": "<", "value": 6, "unit": "months"},
            "field: unknown interval",
        ),
        ({"field": "interval:surgery", "op": "<", "value": 6, "unit": "months"}, "field: unknown interval"),
        ({"field": "age", "op": ">=", "value": 18, "ref": "ULN"}, "ref: ref applies only to lab fields"),
        ({"field": "ALT", "op": "<=", "value": 1.5, "ref": "UNL"}, "ref: unknown ref 'UNL'"),
        ({"field": "UPROT", "op": "<", "value": "1+", "ref": "ULN"}, "ref: UPROT has no normal range"),
        (
            {"field": "ALT", "op": "<=", "value": 1.5, "ref": "ULN", "within": {"days": 14}},
            "within.before: must be first_dose or enrollment",
        ),
        (
            {
                "field": "ALT",
                "op": "<=",
                "value": 1.5,
                "ref": "ULN",
                "within": {"days": -1, "before": "first_dose"},
            },
            "within.days: must be a whole number of days ≥ 0",
        ),
        (
            {
                "field": "ALT",
                "op": "<=",
                "value": 1.5,
                "ref": "ULN",
                "within": {"days": "14", "before": "first_dose"},
            },
            "within.days: must be a whole number",
        ),
        ({"field": "ALT", "op": "<=", "value": 1.5, "ref": "ULN", "within": 14}, "within: must be {days"),
        (
            {
                "field": "ALT",
                "op": "<=",
                "value": 1.5,
                "ref": "ULN",
                "within": {"days": 1, "before": "consent", "x": 1},
            },
            "within.x: unknown key",
        ),
        ({"field": "ecog", "op": "<=", "value": 1, "within": WITHIN_14}, "within: ecog carries no date"),
        (
            {"field": "ALT", "op": "<=", "value": 1.5, "ref": "ULN", "within_days_before": "first_dose"},
            "within_days_before: unknown key (use within",
        ),
        ({"review": ""}, "review: review text must be a non-empty string"),
        ({"review": "   "}, "review: review text must be a non-empty string"),
        ({"all": []}, "all: must be a non-empty list"),
        ({"any": {"review": "x"}}, "any: must be a non-empty list"),
        ({"not": [{"review": "x"}]}, "not: a rule node must be an object"),
        ({"all": [{"review": "x"}], "any": [{"review": "y"}]}, "rule: a rule node has exactly one of"),
        ({"all": [{"review": "x"}], "comment": "y"}, "rule: unknown key(s) comment beside 'all'"),
        ({"op": "<="}, "rule: a rule node needs one of field, all, any, not, review"),
        ("ecog <= 1", "rule: a rule node must be an object, not str"),
        ([], "rule: a rule node must be an object, not list"),
    ],
)
def test_invalid_rule_error_names_the_path(rule, error):
    errors = validate_rule(rule)
    assert any(e.startswith(error) for e in errors), errors


def test_every_error_in_a_rule_is_reported_not_only_the_first():
    rule = {
        "all": [
            {"field": "HBG", "op": ">=", "value": 100, "unit": "g/L"},
            {"field": "ALT", "op": "<=", "value": 1.5, "ref": "UNL"},
            {"review": ""},
        ]
    }
    errors = validate_rule(rule)
    assert [e.split(":")[0] for e in errors] == ["all[0].field", "all[1].ref", "all[2].review"]


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        (None, "no checkable rule: confirmed by the investigator"),
        (
            {"field": "ALT", "op": "<=", "value": 1.5, "ref": "ULN", "within": WITHIN_14},
            "ALT ≤ 1.5 × ULN (within 14 days before first dose)",
        ),
        ({"field": "HGB", "op": ">=", "value": 100, "unit": "g/L"}, "HGB ≥ 100 g/L"),
        ({"field": "WBC", "op": ">=", "value": 4.0, "unit": "10^9/L"}, "WBC ≥ 4.0 × 10^9/L"),
        (
            {"field": "age", "op": "between", "value": [18, 75], "unit": "years"},
            "age between 18 and 75 years",
        ),
        ({"field": "age", "op": ">=", "value": 18}, "age ≥ 18 years"),
        ({"field": "ecog", "op": "in", "value": [0, 1]}, "ECOG in {0, 1}"),
        ({"field": "sex", "op": "==", "value": "F"}, "sex = F"),
        ({"field": "CREAT", "op": "<", "value": 1.5, "ref": "ULN"}, "CREAT < 1.5 × ULN"),
        (
            {"field": "CREATCLR", "op": ">=", "value": 60, "unit": "mL/min"},
            "creatinine clearance ≥ 60 mL/min",
        ),
        ({"field": "UPROT", "op": "<", "value": "1+"}, "urine protein < 1+"),
        (
            {"field": "interval:surgery->recurrence", "op": "<", "value": 6, "unit": "months"},
            "time from surgery to recurrence < 6 months",
        ),
        (
            {"field": "interval:prior_pd1_last_dose->first_dose", "op": ">=", "value": 4, "unit": "weeks"},
            "time from prior PD-1 last dose to first dose ≥ 4 weeks",
        ),
        (
            {
                "field": "pregnancy_test",
                "op": "==",
                "value": "negative",
                "within": {"days": 7, "before": "first_dose"},
            },
            "pregnancy test = negative (within 7 days before first dose)",
        ),
        ({"review": "HPV negative by IHC"}, "[investigator: HPV negative by IHC]"),
        ({"not": {"review": "x"}}, "not [investigator: x]"),
        (
            {
                "all": [
                    {"field": "ecog", "op": "<=", "value": 1},
                    {
                        "any": [
                            {"field": "WBC", "op": ">=", "value": 4, "unit": "10^9/L"},
                            {"field": "NEUT", "op": ">=", "value": 2, "unit": "10^9/L"},
                        ]
                    },
                ]
            },
            "ECOG ≤ 1 and (WBC ≥ 4 × 10^9/L or NEUT ≥ 2 × 10^9/L)",
        ),
        (
            {
                "not": {
                    "all": [
                        {"field": "sex", "op": "==", "value": "F"},
                        {"field": "age", "op": "<", "value": 50},
                    ]
                }
            },
            "not (sex = F and age < 50 years)",
        ),
    ],
)
def test_rule_reads_in_words(rule, words):
    assert describe_rule(rule) == words


def test_describe_tolerates_a_broken_rule_for_the_admin():
    assert "HBG" in describe_rule({"field": "HBG", "op": "<", "value": 1})
    assert describe_rule([1, 2]) == "[1, 2]"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("interval:surgery->recurrence", ("surgery", "recurrence")),
        ("interval:last_live_vaccine->first_dose", ("last_live_vaccine", "first_dose")),
        ("interval:surgery->", None),
        ("interval:surgery->relapse", None),
        ("surgery->recurrence", None),
        ("interval:a->b->c", None),
    ],
)
def test_interval_field_names_two_known_events(name, expected):
    assert parse_interval(name) == expected


def test_catalogue_holds_every_field_of_the_contract():
    expected = {
        "age",
        "sex",
        "ecog",
        "weight_kg",
        "height_cm",
        "HGB",
        "WBC",
        "NEUT",
        "LYM",
        "PLAT",
        "BILI",
        "CREAT",
        "GLUC",
        "CA",
        "UREA",
        "AST",
        "ALT",
        "ALP",
        "GGT",
        "LIPASE",
        "AMYLASE",
        "ALB",
        "BUN",
        "CREATCLR",
        "K",
        "SODIUM",
        "MG",
        "INR",
        "UPROT",
        "UPROT24H",
        "pregnancy_test",
    }
    assert set(FIELDS) == expected
    assert field_spec("interval:diagnosis->first_dose").kind == "interval"
    assert field_spec("HBG") is None
