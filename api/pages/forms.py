"""The correction form on a claim page: the claim's document as form fields, the form as the
coder typed it, the `corrections` a completion sends, and where a finding's message goes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from starlette.datastructures import FormData


def _line_form(line: Mapping[str, Any]) -> dict[str, str]:
    return {
        "procedure": str(line.get("procedure") or ""),
        "modifiers": " ".join(line.get("modifiers") or []),
        "units": str(line.get("units") if line.get("units") is not None else "1"),
        "charge": str(line.get("charge") or ""),
        "pointers": " ".join(str(p) for p in line.get("diagnosis_pointers") or []),
    }


def form_values(document: Mapping[str, Any]) -> dict[str, Any]:
    patient = document.get("patient") or {}
    return {
        "diagnoses": list(document.get("diagnoses") or []),
        "lines": [_line_form(line) for line in document.get("lines") or []],
        "patient": {k: str(patient.get(k) or "") for k in
                    ("first_name", "last_name", "birth_date", "member_id")},
        "payer_id": str(document.get("payer_id") or ""),
    }


def _split(value: str) -> list[str]:
    return [part for part in value.replace(",", " ").split() if part]


def submitted_values(form: FormData) -> dict[str, Any]:
    """The correction form as typed (kept when it is shown again with errors)."""
    count = int(str(form.get("line_count") or "0") or 0)
    return {
        "diagnoses": [str(v).strip() for v in form.getlist("diagnoses") if str(v).strip()],
        "lines": [
            {name: str(form.get(f"lines-{i}-{name}") or "").strip()
             for name in ("procedure", "modifiers", "units", "charge", "pointers")}
            for i in range(min(count, 50))
        ],
        "patient": {k: str(form.get(f"patient-{k}") or "").strip()
                    for k in ("first_name", "last_name", "birth_date", "member_id")},
        "payer_id": str(form.get("payer_id") or "").strip(),
    }


def corrections_from(values: Mapping[str, Any], document: Mapping[str, Any],
                     queue: str) -> dict[str, Any]:
    """The `corrections` of a completion: the coder's codes, or the front desk's patient data."""
    if queue == "front_desk":
        return {"patient": {k: v for k, v in values["patient"].items() if v}}
    originals = list(document.get("lines") or [])
    lines = []
    for i, line in enumerate(values["lines"]):
        if not line["procedure"]:
            continue  # an emptied procedure removes the line
        base = dict(originals[i]) if i < len(originals) else {}
        base.update(procedure=line["procedure"], modifiers=_split(line["modifiers"]),
                    units=line["units"] or "1", charge=line["charge"] or base.get("charge"))
        pointers = _split(line["pointers"])
        base["diagnosis_pointers"] = [int(p) if p.isdigit() else p for p in pointers]
        lines.append(base)
    return {"diagnoses": values["diagnoses"], "lines": lines}


_NESTED_INDEX = re.compile(r"^(lines\[\d+\]\.\w+)\[\d+\]$")


def field_path(field: str) -> str:
    """`lines.0.modifiers.1` or `lines[0].modifiers[1]` -> `lines[0].modifiers` (an input)."""
    path = re.sub(r"\.(\d+)", r"[\1]", field)
    return _NESTED_INDEX.sub(r"\1", path)


def field_messages(findings: list[Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in findings:
        if isinstance(f, Mapping) and f.get("field"):
            out.setdefault(field_path(str(f["field"])), []).append(str(f.get("message", "")))
    return out
