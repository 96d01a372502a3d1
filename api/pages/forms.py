"""The correction form on a claim page, built from the claim document's schema
(`reclaim.claims.fields`): every field of the claim as an input named by its path
(`patient.member_id`, `lines[0].units`, `diagnoses[1]`), the fields the correction map names for
this item first, the rest one click away; the form read back into a document (a blank required
field is a finding on that field, never dropped) and the `corrections` a completion sends."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from reclaim.claims.fields import FieldSpec, claim_fields, fields_under, label_for
from reclaim.claims.schemas import ClaimDocument
from reclaim.denials.corrections import Focus

MAX_LINES = 50
MIN_DIAGNOSIS_INPUTS = 4
# Not claim fields: the form's own controls.
_CONTROLS = {"csrf_token", "action", "note", "line_count", "diagnosis_count"}
# Shown as groups, in this order, under "Every other field of the claim".
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Patient and coverage", ("patient", "payer_id")),
    ("Providers", ("billing_provider", "rendering_provider", "referring_provider")),
    ("Visit", ("claim_type", "service_date", "place_of_service", "prior_authorization",
               "type_of_bill", "admission_date", "discharge_date")),
    ("Diagnoses", ("diagnoses",)),
)


@dataclass
class Input:
    """One input: `name` is the field's path in the document (and its data-field)."""

    name: str
    label: str
    kind: str
    value: str
    required: bool
    choices: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return "f-" + re.sub(r"[^a-zA-Z0-9]+", "-", self.name).strip("-")


@dataclass
class CorrectionForm:
    first: list[Input] = field(default_factory=list)
    first_line_columns: list[FieldSpec] = field(default_factory=list)
    groups: list[tuple[str, list[Input]]] = field(default_factory=list)
    line_columns: list[FieldSpec] = field(default_factory=list)
    lines: list[dict[str, Input]] = field(default_factory=list)
    diagnosis_count: int = MIN_DIAGNOSIS_INPUTS
    words: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- values


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value)


def _get(document: Mapping[str, Any], path: str) -> Any:
    value: Any = document
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def form_values(document: Mapping[str, Any]) -> dict[str, str]:
    """The claim document as the form's values, keyed by input name."""
    values: dict[str, str] = {}
    lines = list(document.get("lines") or [])
    for spec in claim_fields():
        if spec.in_line:
            for i, line in enumerate(lines):
                values[spec.at(i)] = _text(_get(line, spec.path.split("].", 1)[1]))
        elif spec.kind == "list":
            for i, item in enumerate(_get(document, spec.path) or []):
                values[f"{spec.path}[{i}]"] = _text(item)
        else:
            values[spec.path] = _text(_get(document, spec.path))
    values["line_count"] = str(len(lines))
    return values


def submitted_values(form: FormData) -> dict[str, str]:
    """The form as typed (kept when the page is shown again with findings)."""
    return {key: str(value).strip() for key, value in form.multi_items()
            if key not in ("csrf_token", "action", "note")}


# ---------------------------------------------------------------- the form


def _input(spec: FieldSpec, name: str, values: Mapping[str, str], label: str | None = None
           ) -> Input:
    # A field of an optional party (the referring provider) is required only once the party
    # is given: not marked, and a finding only when the party is half filled in.
    return Input(name=name, label=label or spec.label, kind=spec.kind,
                 value=values.get(name, ""),
                 required=spec.required and spec.optional_parent is None,
                 choices=spec.choices)


def _inputs(spec: FieldSpec, values: Mapping[str, str], diagnosis_count: int) -> list[Input]:
    if spec.kind == "list":
        single = label_for(f"{spec.path}[]")
        return [Input(name=f"{spec.path}[{i}]", label=f"{single} {i + 1}", kind="text",
                      value=values.get(f"{spec.path}[{i}]", ""), required=False)
                for i in range(diagnosis_count)]
    return [_input(spec, spec.path, values)]


def _line_count(values: Mapping[str, str]) -> int:
    try:
        count = int(values.get("line_count") or 0)
    except ValueError:
        count = 0
    return max(0, min(count, MAX_LINES))


def build_form(values: Mapping[str, str], focus: Focus) -> CorrectionForm:
    """The form for these values: the focus's fields first, every other one in its group."""
    first_paths: list[str] = []
    for path in focus.fields:
        first_paths.extend(s.path for s in fields_under(path) if s.path not in first_paths)
    specs = claim_fields()
    dx = sum(1 for k in values if k.startswith("diagnoses["))
    diagnosis_count = max(dx + 1, MIN_DIAGNOSIS_INPUTS)
    form = CorrectionForm(words=list(focus.words), hints=list(focus.hints),
                          diagnosis_count=diagnosis_count)
    by_path = {s.path: s for s in specs}
    for path in first_paths:
        spec = by_path[path]
        if spec.in_line:
            form.first_line_columns.append(spec)
        else:
            form.first.extend(_inputs(spec, values, diagnosis_count))
    placed = set(first_paths)
    grouped: set[str] = set()
    for title, tops in GROUPS:
        inputs = [i for s in specs if s.top in tops and not s.in_line and s.path not in placed
                  for i in _inputs(s, values, diagnosis_count)]
        grouped.update(s.path for s in specs if s.top in tops)
        if inputs:
            form.groups.append((title, inputs))
    rest = [i for s in specs if s.path not in grouped and not s.in_line and s.path not in placed
            for i in _inputs(s, values, diagnosis_count)]
    if rest:
        form.groups.append(("Other", rest))
    form.line_columns = [s for s in specs if s.in_line and s.path not in placed]
    count = _line_count(values)
    for i in range(count + 1):  # one empty row adds a line
        form.lines.append({s.path: _input(s, s.at(i), values, f"Line {i + 1} {s.label}")
                           for s in specs if s.in_line})
    return form


# ---------------------------------------------------------------- reading it back


def _convert(spec: FieldSpec, raw: str) -> Any:
    if spec.kind in ("words", "ints"):
        words = [w for w in raw.replace(",", " ").split() if w]
        if spec.kind == "ints":
            return [int(w) if w.isdigit() else w for w in words]
        return [w.upper() for w in words]
    return raw


def _set(target: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    for part in parts[:-1]:
        nested = target.get(part)
        if not isinstance(nested, dict):
            nested = {}
            target[part] = nested
        target = nested
    target[parts[-1]] = value


def _blank(spec: FieldSpec, path: str) -> dict[str, Any]:
    return {"field": path, "rule": "required",
            "message": f"{spec.label} is required: it cannot be left blank."}


def document_from_values(values: Mapping[str, str], base: Mapping[str, Any]
                         ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The claim document the form describes, and a finding for each required field left
    blank. A field the form did not carry keeps the claim's value."""
    doc: dict[str, Any] = copy.deepcopy(dict(base))
    findings: list[dict[str, Any]] = []
    specs = claim_fields()
    parents: dict[str, list[FieldSpec]] = {}
    for spec in specs:
        if spec.in_line or spec.kind == "list":
            continue
        if spec.optional_parent is not None:
            parents.setdefault(spec.optional_parent, []).append(spec)
            continue
        if spec.path not in values:
            continue
        raw = values[spec.path]
        if not raw:
            if spec.required:
                findings.append(_blank(spec, spec.path))
            _set(doc, spec.path, [] if spec.kind in ("words", "ints") else None)
            continue
        _set(doc, spec.path, _convert(spec, raw))
    for parent, members in parents.items():
        if not any(m.path in values for m in members):
            continue
        given = {m.path: values.get(m.path, "") for m in members}
        if not any(given.values()):
            doc[parent] = None  # every field of an optional party blank: there is none
            continue
        obj: dict[str, Any] = {}
        for m in members:
            raw = given[m.path]
            if not raw and m.required:
                findings.append(_blank(m, m.path))
            _set(obj, m.path[len(parent) + 1:], _convert(m, raw) if raw else None)
        doc[parent] = obj
    for spec in specs:
        if spec.kind == "list" and any(k.startswith(f"{spec.path}[") for k in values):
            keys = sorted((k for k in values if k.startswith(f"{spec.path}[")),
                          key=lambda k: int(re.sub(r"\D", "", k) or 0))
            doc[spec.path] = [values[k].upper() for k in keys if values[k]]
    if "line_count" in values:
        doc["lines"], line_findings = _lines(values, list(base.get("lines") or []))
        findings.extend(line_findings)
    return doc, findings


def _lines(values: Mapping[str, str], originals: list[Mapping[str, Any]]
           ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    specs = [s for s in claim_fields() if s.in_line]
    lines: list[dict[str, Any]] = []
    findings: list[dict[str, Any]] = []
    for i in range(_line_count(values) + 1):
        given = {s: values.get(s.at(i), "") for s in specs}
        if values.get(f"lines[{i}].remove") or not any(given.values()):
            continue  # removed, or the empty row left empty
        line = dict(originals[i]) if i < len(originals) else {}
        at = len(lines)
        for spec, raw in given.items():
            if not raw:
                if spec.required:
                    findings.append(_blank(spec, f"lines[{at}].{spec.name}"))
                line[spec.name] = [] if spec.kind in ("words", "ints") else None
            else:
                line[spec.name] = _convert(spec, raw)
        lines.append(line)
    if not lines:
        findings.append({"field": "lines", "rule": "required",
                         "message": "The claim needs at least one service line."})
    return lines, findings


def corrections_between(base: Mapping[str, Any], document: Mapping[str, Any]) -> dict[str, Any]:
    """The `corrections` of a completion: each top-level field the person changed, compared as
    claim documents (a charge typed `150` is the `150.00` on file)."""
    try:
        before, after = ClaimDocument.model_validate(base), ClaimDocument.model_validate(document)
    except ValidationError:  # not a claim yet: send it all, the check names what is wrong
        return {key: value for key, value in document.items() if base.get(key) != value}
    return {key: value for key, value in document.items()
            if getattr(before, key, None) != getattr(after, key, None)}


# ---------------------------------------------------------------- where a message goes

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
