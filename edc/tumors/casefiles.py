"""Read the RECIST 1.1 and iRECIST case-file formats (../shared/domain/case-files.md).

Pure module: no Django. Each ``parse_*`` function turns one JSON object into the engine's frozen
dataclasses or raises ``CaseError(case_id, field, message)`` naming the offending field, so that a
command can report the case and go on with the others. Nothing is guessed: an unknown status,
modality or category is an error for that case.

One extension of the RECIST format: ``new_lesions`` on a follow-up may also be ``"equivocal"`` (a
possible new lesion not yet certain; see ``recist.py`` for how a later confirmation dates PD back to
the first equivocal scan).
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from edc.tumors import irecist, recist


class CaseError(ValueError):
    def __init__(self, case_id: str, field: str, message: str) -> None:
        self.case_id = case_id
        self.field = field
        self.message = message
        super().__init__(f"case {case_id}, field {field}: {message}")


class _Reader:
    """Field access that knows which case and which path it is reading."""

    def __init__(self, case_id: str) -> None:
        self.case_id = case_id

    def fail(self, field: str, message: str) -> CaseError:
        return CaseError(self.case_id, field, message)

    def obj(self, raw: Any, field: str) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise self.fail(field, "must be an object")
        return raw

    def get(self, raw: dict[str, Any], key: str, path: str, *, required: bool = True) -> Any:
        if key not in raw:
            if required:
                raise self.fail(_join(path, key), "is missing")
            return None
        return raw[key]

    def text(self, raw: dict[str, Any], key: str, path: str, *, required: bool = True) -> str:
        value = self.get(raw, key, path, required=required)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.fail(_join(path, key), "must be a non-empty string")
        return value

    def boolean(self, raw: dict[str, Any], key: str, path: str, *, default: bool | None = None) -> bool:
        value = self.get(raw, key, path, required=default is None)
        if value is None and default is not None:
            return default
        if not isinstance(value, bool):
            raise self.fail(_join(path, key), "must be true or false")
        return value

    def date(self, raw: dict[str, Any], key: str, path: str) -> date:
        value = self.get(raw, key, path)
        try:
            if not isinstance(value, str) or len(value) != 10:
                raise ValueError
            return date.fromisoformat(value)
        except ValueError:
            raise self.fail(_join(path, key), f"must be a date YYYY-MM-DD, got {value!r}") from None

    def mm(self, value: Any, field: str) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(field, f"must be a length in mm, got {value!r}")
        number = Decimal(str(value))
        if number < 0:
            raise self.fail(field, f"must not be negative, got {value!r}")
        return number

    def optional_mm(self, raw: dict[str, Any], key: str, path: str) -> Decimal | None:
        value = raw.get(key)
        return None if value is None else self.mm(value, _join(path, key))

    def days(self, raw: dict[str, Any], key: str, path: str, *, default: int | None = None) -> int:
        value = self.get(raw, key, path, required=default is None)
        if value is None and default is not None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.fail(_join(path, key), f"must be a whole number of days, got {value!r}")
        return value

    def choice(self, value: Any, allowed: tuple[str, ...], field: str) -> str:
        if value not in allowed:
            raise self.fail(field, f"unknown value {value!r}; expected one of {', '.join(allowed)}")
        return value

    def lst(self, raw: dict[str, Any], key: str, path: str, *, required: bool = True) -> list[Any]:
        value = self.get(raw, key, path, required=required)
        if value is None and not required:
            return []
        if not isinstance(value, list):
            raise self.fail(_join(path, key), "must be a list")
        return value


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def case_id_of(raw: Any, fallback: str) -> str:
    """The case's id, or ``fallback`` (its position in the file) when it has none usable."""
    if isinstance(raw, dict) and isinstance(raw.get("id"), str) and raw["id"].strip():
        return raw["id"]
    return fallback


def _require_id(raw: Any, fallback: str) -> _Reader:
    reader = _Reader(case_id_of(raw, fallback))
    reader.obj(raw, "case")
    if case_id_of(raw, "") == "":
        raise reader.fail("id", "is missing or not a non-empty string")
    return reader


# ---------------------------------------------------------------------------------------------
# Baseline and follow-ups shared by RECIST and iRECIST


def _baseline(r: _Reader, raw: dict[str, Any]):
    baseline = r.obj(r.get(raw, "baseline", ""), "baseline")
    baseline_date = r.date(baseline, "date", "baseline")
    targets: list[recist.TargetLesion] = []
    ids: set[str] = set()
    for i, item in enumerate(r.lst(baseline, "target_lesions", "baseline")):
        path = f"baseline.target_lesions[{i}]"
        item = r.obj(item, path)
        lesion_id = r.text(item, "id", path)
        if lesion_id in ids:
            raise r.fail(f"{path}.id", f"duplicate lesion id {lesion_id}")
        ids.add(lesion_id)
        targets.append(
            recist.TargetLesion(
                id=lesion_id,
                organ=r.text(item, "organ", path),
                nodal=r.boolean(item, "nodal", path),
                diameter_mm=r.mm(r.get(item, "diameter_mm", path), f"{path}.diameter_mm"),
                site=r.text(item, "site", path, required=False),
            )
        )
    non_targets: list[recist.NonTargetLesion] = []
    for i, item in enumerate(r.lst(baseline, "non_target_lesions", "baseline", required=False)):
        path = f"baseline.non_target_lesions[{i}]"
        item = r.obj(item, path)
        lesion_id = r.text(item, "id", path)
        if lesion_id in ids:
            raise r.fail(f"{path}.id", f"duplicate lesion id {lesion_id}")
        ids.add(lesion_id)
        non_targets.append(
            recist.NonTargetLesion(
                id=lesion_id,
                organ=r.text(item, "organ", path),
                nodal=r.boolean(item, "nodal", path, default=False),
                site=r.text(item, "site", path, required=False),
                description=r.text(item, "description", path, required=False),
            )
        )
    if not targets and not non_targets:
        raise r.fail("baseline", "has neither target nor non-target lesions")
    return baseline_date, tuple(targets), tuple(non_targets)


def _measurement(r: _Reader, value: Any, field: str, target_ids: set[str], own_id: str) -> recist.Measurement:
    if value is None:
        return recist.Measurement.not_assessed()
    if value == "TOO_SMALL_TO_MEASURE":
        return recist.Measurement.too_small()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return recist.Measurement(recist.MEASURED, value_mm=r.mm(value, field))
    if isinstance(value, dict) and set(value) == {"fragments_mm"}:
        fragments = value["fragments_mm"]
        if not isinstance(fragments, list) or not fragments:
            raise r.fail(f"{field}.fragments_mm", "must be a non-empty list of lengths in mm")
        return recist.Measurement(
            recist.FRAGMENTS,
            fragments_mm=tuple(r.mm(v, f"{field}.fragments_mm[{i}]") for i, v in enumerate(fragments)),
        )
    if isinstance(value, dict) and set(value) == {"merged_into"}:
        into = value["merged_into"]
        if into not in target_ids or into == own_id:
            raise r.fail(f"{field}.merged_into", f"must name another baseline target, got {into!r}")
        return recist.Measurement.merged(into)
    raise r.fail(
        field,
        f"unknown measurement {value!r}; expected mm, TOO_SMALL_TO_MEASURE, "
        "{fragments_mm: [...]}, {merged_into: id} or null",
    )


def _follow_up_common(r: _Reader, item: dict[str, Any], path: str, targets, non_targets):
    done = r.boolean(item, "assessment_done", path, default=True)
    raw_measurements = item.get("target_measurements_mm")
    raw_status = item.get("non_target_status")
    target_ids = {t.id for t in targets}
    measurements: dict[str, recist.Measurement] = {}
    statuses: dict[str, str] = {}
    if done or raw_measurements:
        raw_measurements = r.obj(
            r.get(item, "target_measurements_mm", path), f"{path}.target_measurements_mm"
        )
        for key in raw_measurements:
            if key not in target_ids:
                raise r.fail(f"{path}.target_measurements_mm.{key}", "is not a baseline target")
        for t in targets:
            field = f"{path}.target_measurements_mm.{t.id}"
            if t.id not in raw_measurements:
                raise r.fail(field, "is missing (every baseline target needs a value or null)")
            measurements[t.id] = _measurement(r, raw_measurements[t.id], field, target_ids, t.id)
        for t_id, m in measurements.items():
            if m.kind == recist.MERGED and measurements[m.merged_into].kind in (
                recist.MERGED,
                recist.NOT_ASSESSED,
            ):
                raise r.fail(
                    f"{path}.target_measurements_mm.{t_id}.merged_into",
                    f"{m.merged_into} must carry the measured merged mass",
                )
    if done or raw_status:
        raw_status = r.obj(r.get(item, "non_target_status", path), f"{path}.non_target_status")
        nt_ids = {n.id for n in non_targets}
        for key in raw_status:
            if key not in nt_ids:
                raise r.fail(f"{path}.non_target_status.{key}", "is not a baseline non-target")
        for n in non_targets:
            field = f"{path}.non_target_status.{n.id}"
            if n.id not in raw_status:
                raise r.fail(field, "is missing (every baseline non-target needs a status)")
            statuses[n.id] = r.choice(raw_status[n.id], recist.NON_TARGET_STATUSES, field)
    return done, measurements, statuses


def _check_dates(r: _Reader, baseline_date: date, dates: list[date]) -> None:
    previous = baseline_date
    for i, d in enumerate(dates):
        if d <= previous:
            raise r.fail(f"follow_ups[{i}].date", f"{d} is not after the previous assessment ({previous})")
        previous = d


# ---------------------------------------------------------------------------------------------
# RECIST 1.1


def parse_response_case(raw: Any, fallback_id: str = "?") -> recist.ResponseCase:
    r = _require_id(raw, fallback_id)
    protocol_raw = r.obj(r.get(raw, "protocol", ""), "protocol")
    protocol = recist.ResponseProtocol(
        reference_date=r.date(protocol_raw, "reference_date", "protocol"),
        confirmation_min_interval_days=r.days(protocol_raw, "confirmation_min_interval_days", "protocol"),
        min_sd_duration_days=r.days(protocol_raw, "min_sd_duration_days", "protocol"),
    )
    baseline_date, targets, non_targets = _baseline(r, raw)
    follow_ups: list[recist.FollowUp] = []
    for i, item in enumerate(r.lst(raw, "follow_ups", "")):
        path = f"follow_ups[{i}]"
        item = r.obj(item, path)
        fu_date = r.date(item, "date", path)
        done, measurements, statuses = _follow_up_common(r, item, path, targets, non_targets)
        new = item.get("new_lesions")
        if done and new not in (True, False, recist.EQUIVOCAL):
            raise r.fail(f"{path}.new_lesions", f"must be true, false or 'equivocal', got {new!r}")
        if not done and new is not None:
            raise r.fail(f"{path}.new_lesions", "must be null when the assessment was not done")
        follow_ups.append(
            recist.FollowUp(
                date=fu_date,
                assessment_done=done,
                target_measurements=measurements,
                non_target_status=statuses,
                new_lesions=new,
            )
        )
    _check_dates(r, baseline_date, [fu.date for fu in follow_ups])
    return recist.ResponseCase(
        protocol=protocol,
        baseline_date=baseline_date,
        target_lesions=targets,
        non_target_lesions=non_targets,
        follow_ups=tuple(follow_ups),
        id=r.case_id,
    )


def parse_measurability_case(raw: Any, fallback_id: str = "?") -> recist.LesionDescription:
    r = _require_id(raw, fallback_id)
    lesion = r.obj(r.get(raw, "lesion", ""), "lesion")
    kind = r.choice(r.get(lesion, "kind", "lesion"), recist.LESION_KINDS, "lesion.kind")
    modality = r.choice(lesion.get("modality", recist.CT), recist.MODALITIES, "lesion.modality")
    nature = r.choice(lesion.get("nature", recist.SOLID), recist.NATURES, "lesion.nature")
    description = recist.LesionDescription(
        kind=kind,
        modality=modality,
        organ=r.text(lesion, "organ", "lesion", required=False),
        slice_thickness_mm=r.optional_mm(lesion, "slice_thickness_mm", "lesion"),
        longest_diameter_mm=r.optional_mm(lesion, "longest_diameter_mm", "lesion"),
        short_axis_mm=r.optional_mm(lesion, "short_axis_mm", "lesion"),
        nature=nature,
        previously_irradiated=r.boolean(lesion, "previously_irradiated", "lesion", default=False),
        progressed_since_local_treatment=r.boolean(
            lesion, "progressed_since_local_treatment", "lesion", default=False
        ),
        caliper_measurable=r.boolean(lesion, "caliper_measurable", "lesion", default=True),
        well_defined_in_aerated_lung=r.boolean(
            lesion, "well_defined_in_aerated_lung", "lesion", default=True
        ),
    )
    if kind == recist.NODAL and description.short_axis_mm is None:
        raise r.fail("lesion.short_axis_mm", "is missing for a nodal lesion")
    if kind == recist.NON_NODAL and nature in recist.SIZE_RULE_NATURES:
        if description.longest_diameter_mm is None:
            raise r.fail("lesion.longest_diameter_mm", "is missing for a non-nodal lesion")
        if modality in (recist.CT, recist.MRI) and description.slice_thickness_mm is None:
            raise r.fail("lesion.slice_thickness_mm", "is missing for a CT/MRI lesion")
    return description


def parse_target_selection_case(raw: Any, fallback_id: str = "?") -> tuple[recist.ProposedTarget, ...]:
    r = _require_id(raw, fallback_id)
    targets: list[recist.ProposedTarget] = []
    for i, item in enumerate(r.lst(raw, "proposed_targets", "")):
        path = f"proposed_targets[{i}]"
        item = r.obj(item, path)
        targets.append(
            recist.ProposedTarget(
                id=r.text(item, "id", path),
                organ=r.text(item, "organ", path),
                nodal=r.boolean(item, "nodal", path),
                diameter_mm=r.mm(r.get(item, "diameter_mm", path), f"{path}.diameter_mm"),
                modality=r.choice(item.get("modality", recist.CT), recist.MODALITIES, f"{path}.modality"),
                slice_thickness_mm=r.optional_mm(item, "slice_thickness_mm", path),
                nature=r.choice(item.get("nature", recist.SOLID), recist.NATURES, f"{path}.nature"),
                previously_irradiated=r.boolean(item, "previously_irradiated", path, default=False),
                progressed_since_local_treatment=r.boolean(
                    item, "progressed_since_local_treatment", path, default=False
                ),
            )
        )
    return tuple(targets)


# ---------------------------------------------------------------------------------------------
# iRECIST


def _new_lesion(r: _Reader, item: Any, path: str) -> irecist.NewLesion:
    item = r.obj(item, path)
    category = r.choice(r.get(item, "category", path), irecist.NEW_LESION_CATEGORIES, f"{path}.category")
    common = {
        "id": r.text(item, "id", path),
        "organ": r.text(item, "organ", path),
        "nodal": r.boolean(item, "nodal", path, default=False),
        "category": category,
    }
    if category == irecist.NLT:
        return irecist.NewLesion(
            **common, diameter_mm=r.mm(r.get(item, "diameter_mm", path), f"{path}.diameter_mm")
        )
    return irecist.NewLesion(
        **common,
        status=r.choice(r.get(item, "status", path), irecist.NLNT_STATUSES, f"{path}.status"),
        increased_since_last=r.boolean(item, "increased_since_last", path, default=False),
    )


def parse_irecist_case(raw: Any, fallback_id: str = "?") -> irecist.IrecistCase:
    r = _require_id(raw, fallback_id)
    protocol_raw = r.obj(r.get(raw, "protocol", ""), "protocol")
    window = r.get(protocol_raw, "iupd_confirmation_window_days", "protocol", required=False)
    if window is None:
        window = [28, 56]
    if (
        not isinstance(window, list)
        or len(window) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in window)
        or window[0] > window[1]
    ):
        raise r.fail("protocol.iupd_confirmation_window_days", f"must be [min, max] days, got {window!r}")
    protocol = irecist.IrecistProtocol(
        reference_date=r.date(protocol_raw, "reference_date", "protocol"),
        min_sd_duration_days=r.days(protocol_raw, "min_sd_duration_days", "protocol"),
        iupd_confirmation_window_days=(window[0], window[1]),
        response_confirmation_required=r.boolean(
            protocol_raw, "response_confirmation_required", "protocol", default=False
        ),
        confirmation_min_interval_days=r.days(
            protocol_raw, "confirmation_min_interval_days", "protocol", default=28
        ),
    )
    baseline_date, targets, non_targets = _baseline(r, raw)
    nt_ids = {n.id for n in non_targets}
    baseline_ids = nt_ids | {t.id for t in targets}
    follow_ups: list[irecist.IrecistFollowUp] = []
    for i, item in enumerate(r.lst(raw, "follow_ups", "")):
        path = f"follow_ups[{i}]"
        item = r.obj(item, path)
        fu_date = r.date(item, "date", path)
        done, measurements, statuses = _follow_up_common(r, item, path, targets, non_targets)
        increased = r.lst(item, "non_target_increased_since_last", path, required=False)
        for j, nt_id in enumerate(increased):
            if nt_id not in nt_ids:
                raise r.fail(
                    f"{path}.non_target_increased_since_last[{j}]", f"{nt_id!r} is not a baseline non-target"
                )
        raw_new = item.get("new_lesions")
        if raw_new is None:
            if done:
                raise r.fail(f"{path}.new_lesions", "must be a list when the assessment was done")
            raw_new = []
        if not isinstance(raw_new, list):
            raise r.fail(f"{path}.new_lesions", "must be a list of new lesions")
        new_lesions = tuple(_new_lesion(r, nl, f"{path}.new_lesions[{j}]") for j, nl in enumerate(raw_new))
        seen: set[str] = set()
        for j, nl in enumerate(new_lesions):
            if nl.id in seen or nl.id in baseline_ids:
                raise r.fail(f"{path}.new_lesions[{j}].id", f"{nl.id} is used twice or is a baseline lesion")
            seen.add(nl.id)
        follow_ups.append(
            irecist.IrecistFollowUp(
                date=fu_date,
                assessment_done=done,
                target_measurements=measurements,
                non_target_status=statuses,
                non_target_increased_since_last=frozenset(increased),
                new_lesions=new_lesions,
            )
        )
    _check_dates(r, baseline_date, [fu.date for fu in follow_ups])
    return irecist.IrecistCase(
        protocol=protocol,
        baseline_date=baseline_date,
        target_lesions=targets,
        non_target_lesions=non_targets,
        follow_ups=tuple(follow_ups),
        id=r.case_id,
    )


# ---------------------------------------------------------------------------------------------
# Whole files


def evaluate_sections(
    data: Any, sections: dict[str, tuple[Any, Any]]
) -> tuple[dict[str, Any], list[CaseError]]:
    """Run every case of every section: ``{section: (parse, evaluate)}``.

    Returns the output per case id (``{"error": ...}`` for a malformed case) and the errors, so
    that one bad case never stops the others. ``data`` must already be a JSON object.
    """
    outputs: dict[str, Any] = {}
    errors: list[CaseError] = []
    for section, (parse, evaluate) in sections.items():
        cases = data.get(section, [])
        if not isinstance(cases, list):
            error = CaseError(section, section, "must be a list of cases")
            outputs[section] = {"error": f"{error.field}: {error.message}"}
            errors.append(error)
            continue
        for i, raw in enumerate(cases):
            position = f"{section}[{i}]"
            case_id = case_id_of(raw, position)
            if case_id in outputs:
                error = CaseError(case_id, "id", f"duplicate case id (again at {position})")
                case_id = position
            else:
                try:
                    outputs[case_id] = evaluate(parse(raw, position))
                    continue
                except CaseError as exc:
                    error = exc
            outputs[case_id] = {"error": f"{error.field}: {error.message}"}
            errors.append(error)
    return outputs, errors


class CaseFileError(ValueError):
    """The file as a whole cannot be read: missing, not JSON, or not the expected object."""


def read_case_file(path: str, sections: tuple[str, ...]) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except OSError as exc:
        raise CaseFileError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CaseFileError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise CaseFileError(f"{path}: must hold a JSON object with {' / '.join(sections)}")
    if not any(section in data for section in sections):
        raise CaseFileError(f"{path}: has none of the case lists {', '.join(sections)}")
    return data


def error_summary(path: str, errors: list[CaseError]) -> str:
    lines = [f"{path}: {len(errors)} malformed case(s)"]
    lines += [f"  {path}: case {e.case_id}, field {e.field}: {e.message}" for e in errors]
    return "\n".join(lines)
