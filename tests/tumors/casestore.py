"""One case of the RECIST / iRECIST case format stored through the services (lesions, imaging
visits, assessments, measurements), and the stored derivation read back in the shape the commands
print: the tests compare the two whole objects."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

from django.core.management import call_command

from edc.core.services import record_save
from edc.tumors import services
from edc.tumors.models import Lesion, TumorAssessment, engine_label
from edc.visits.models import Visit
from tests.factories import SiteFactory, StudyFactory, SubjectFactory

NT_STATE = {
    "present": "PRESENT",
    "absent": "ABSENT",
    "unequivocal_progression": "UNEQ_PD",
    "not_evaluated": "NE",
}


def _day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def study_for(protocol: dict[str, Any], **extra: Any) -> Any:
    return StudyFactory(
        confirmation_required=protocol.get("response_confirmation_required", True),
        confirmation_min_interval_days=protocol.get("confirmation_min_interval_days", 28),
        min_sd_duration_days=protocol["min_sd_duration_days"],
        response_criteria=["RECIST1.1", "iRECIST"],
        **extra,
    )


def _visit(subject: Any, code: str, kind: str, day: dt.date) -> Visit:
    return record_save(
        Visit(
            study=subject.study,
            site=subject.site,
            subject=subject,
            code=code,
            name=code,
            kind=kind,
            target_date=day,
            window_start=day,
            window_end=day,
            status="done",
            visit_date=day,
        ),
        user=None,
    )


def _measurement(value: Any) -> dict[str, Any]:
    if value is None:
        return {"target_state": "NA"}
    if value == "TOO_SMALL_TO_MEASURE":
        return {"target_state": "TOO_SMALL"}
    if isinstance(value, dict) and "fragments_mm" in value:
        return {"target_state": "SPLIT", "fragments_mm": ", ".join(str(v) for v in value["fragments_mm"])}
    if isinstance(value, dict):
        return {"target_state": "MERGED", "merged_into": value["merged_into"]}
    return {"target_state": "MEASURED", "diameter_mm": Decimal(str(value))}


def store_case(case: dict[str, Any], *, irecist_format: bool = False, subject: Any = None) -> Any:
    """The case stored for a new subject of a study with the case's protocol; returns the subject."""
    protocol = case["protocol"]
    if subject is None:
        study = study_for(protocol)
        subject = SubjectFactory(
            site=SiteFactory(study=study), enrollment_date=_day(protocol["reference_date"])
        )
    baseline = case["baseline"]
    base_day = _day(baseline["date"])
    screening = _visit(subject, "SCR", "screening", base_day)
    for t in baseline["target_lesions"]:
        services.lesion_create(
            user=None,
            subject=subject,
            visit=screening,
            code=t["id"],
            category="TARGET",
            location=t.get("site") or t["organ"],
            organ=t["organ"],
            nodal="Y" if t["nodal"] else "N",
            method="CT",
            slice_thickness_mm=Decimal(5),
            diameter_mm=Decimal(str(t["diameter_mm"])),
            date=base_day,
        )
    for n in baseline.get("non_target_lesions", []):
        services.lesion_create(
            user=None,
            subject=subject,
            visit=screening,
            code=n["id"],
            category="NONTARGET",
            location=n.get("site") or n["organ"],
            organ=n["organ"],
            nodal="Y" if n.get("nodal") else "N",
            method="CT",
            nature="solid",
            date=base_day,
        )
    seen_new: set[str] = set()
    for i, fu in enumerate(case["follow_ups"]):
        day = _day(fu["date"])
        visit = _visit(subject, f"IMG{i + 1}", "imaging", day)
        if not fu.get("assessment_done", True):
            services.assessment_create(
                user=None, subject=subject, visit=visit, date=day, not_done_reason="not_done"
            )
            continue
        rows: list[dict[str, Any]] = []
        for lesion_id, value in (fu.get("target_measurements_mm") or {}).items():
            rows.append({"lesion": lesion_id, **_measurement(value)})
        increased = set(fu.get("non_target_increased_since_last") or [])
        for lesion_id, status in (fu.get("non_target_status") or {}).items():
            row = {"lesion": lesion_id, "state": NT_STATE[status]}
            if lesion_id in increased:
                row["increased_since_last"] = "Y"
            rows.append(row)
        if irecist_format:
            for nl in fu["new_lesions"]:
                nlt = nl["category"] == "NLT"
                if nl["id"] not in seen_new:
                    services.lesion_create(
                        user=None,
                        subject=subject,
                        visit=visit,
                        code=nl["id"],
                        category="NEW",
                        location=nl["organ"],
                        organ=nl["organ"],
                        nodal="Y" if nl.get("nodal") else "N",
                        method="CT",
                        slice_thickness_mm=Decimal(5),
                        diameter_mm=Decimal(str(nl["diameter_mm"])) if nlt and nl["diameter_mm"] else None,
                        new_measurable="Y" if nlt else "N",
                        date=day,
                    )
                    seen_new.add(nl["id"])
                if nlt:
                    present = bool(nl["diameter_mm"])
                    row = {"lesion": nl["id"], "state": "PRESENT" if present else "ABSENT"}
                    if present:
                        row["diameter_mm"] = Decimal(str(nl["diameter_mm"]))
                else:
                    row = {
                        "lesion": nl["id"],
                        "state": "PRESENT" if nl.get("status", "present") == "present" else "ABSENT",
                    }
                    if nl.get("increased_since_last"):
                        row["increased_since_last"] = "Y"
                rows.append(row)
            flag = any(r.get("state") == "PRESENT" and r["lesion"] in seen_new for r in rows)
        else:
            flag = fu["new_lesions"]
            if flag is True or flag == "equivocal":
                if "N1" not in seen_new:
                    services.lesion_create(
                        user=None,
                        subject=subject,
                        visit=visit,
                        code="N1",
                        category="NEW",
                        location="liver",
                        organ="liver",
                        nodal="N",
                        method="CT",
                        new_measurable="N",
                        date=day,
                    )
                    seen_new.add("N1")
                rows.append({"lesion": "N1", "state": "PRESENT" if flag is True else "EQUIVOCAL"})
            elif "N1" in seen_new:
                rows.append({"lesion": "N1", "state": "ABSENT"})
        services.assessment_create(
            user=None,
            subject=subject,
            visit=visit,
            date=day,
            investigator_overall="SD",
            investigator_new_lesions="Y" if flag is True else "N",
            measurements=rows,
        )
    return subject


def _num(value: Decimal | None) -> Any:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


_NEW = {"Y": True, "N": False, "EQUIVOCAL": "equivocal", "": None}


def stored_recist(subject: Any) -> dict[str, Any]:
    """The stored derivation in the shape `recist_evaluate` prints for a response case."""
    targets = list(Lesion.objects.active().filter(subject=subject, category="TARGET"))
    has_targets = bool(targets)
    rows = list(TumorAssessment.objects.active().filter(subject=subject).order_by("date"))
    points = []
    for a in rows:
        if a.after_progression:
            continue
        point: dict[str, Any] = {
            "date": a.date.isoformat(),
            "target_response": engine_label(a.target_response) or None,
            "non_target_response": engine_label(a.non_target_response) or None,
            "new_lesions": _NEW[a.new_lesions],
            "overall_response": engine_label(a.overall_response),
        }
        if has_targets:
            point.update(
                sum_of_diameters_mm=_num(a.sum_mm),
                sum_of_measured_targets_mm=_num(a.measured_sum_mm),
                pct_change_from_baseline=None
                if a.pct_change_from_baseline is None
                else float(a.pct_change_from_baseline),
                nadir_mm_before_this_assessment=_num(a.nadir_before_mm),
            )
        points.append(point)
    last = rows[-1] if rows else None
    return {
        "baseline_sum_mm": _num(sum((t.diameter_mm for t in targets), Decimal(0))) if has_targets else None,
        "timepoints": points,
        "best_overall_response_confirmation_required": engine_label(last.best_response_confirmed_to_date)
        if last
        else "NE",
        "best_overall_response_no_confirmation": engine_label(last.best_response_unconfirmed_to_date)
        if last
        else "NE",
    }


def stored_irecist(subject: Any) -> dict[str, Any]:
    """The stored iRECIST derivation in the shape `irecist_evaluate` prints."""
    targets = list(Lesion.objects.active().filter(subject=subject, category="TARGET"))
    rows = list(TumorAssessment.objects.active().filter(subject=subject).order_by("date"))
    done = [a for a in rows if a.irecist_response]
    last = rows[-1] if rows else None
    return {
        "baseline_sum_mm": _num(sum((t.diameter_mm for t in targets), Decimal(0))) if targets else None,
        "timepoints": [
            {
                "date": a.date.isoformat(),
                "target_sum_mm": _num(a.sum_mm),
                "overall_response": a.irecist_response,
            }
            for a in done
        ],
        "best_overall_response_irecist": last.best_irecist_response_to_date if last else "NE",
        "best_overall_response_recist11_no_confirmation": engine_label(last.best_response_unconfirmed_to_date)
        if last
        else "NE",
    }


def printed(command: str, section: str, case: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / f"{case['id']}.json"
    path.write_text(json.dumps({section: [case]}))
    out = StringIO()
    call_command(command, str(path), stdout=out)
    return json.loads(out.getvalue())[case["id"]]
