"""Every field of the claim document, read from its schema (`ClaimDocument`): what the correction
form shows and reads back, and what the correction map may name. A field added to the schema is a
field here (and on the form) with no other change; its label comes from `LABELS` or its name.

Paths are the document's: `patient.member_id`, `rendering_provider.npi`, `diagnoses` (the list),
`lines[].modifiers` (that field of every line; one line is `lines[0].modifiers`)."""

from __future__ import annotations

import types
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from reclaim.claims.schemas import ClaimDocument

Kind = Literal["text", "date", "decimal", "int", "choice", "list", "words", "ints"]

# Labels in the billing team's words; any other field is labelled from its name.
LABELS: dict[str, str] = {
    "claim_type": "Claim type",
    "payer_id": "Payer",
    "patient": "Patient",
    "patient.member_id": "Member id",
    "patient.birth_date": "Birth date",
    "billing_provider": "Billing provider",
    "billing_provider.npi": "Billing provider NPI",
    "billing_provider.name": "Billing provider name",
    "billing_provider.tax_id": "Billing provider tax id",
    "rendering_provider": "Rendering provider",
    "rendering_provider.npi": "Rendering provider NPI",
    "rendering_provider.first_name": "Rendering provider first name",
    "rendering_provider.last_name": "Rendering provider last name",
    "referring_provider": "Referring provider",
    "referring_provider.npi": "Referring provider NPI",
    "referring_provider.first_name": "Referring provider first name",
    "referring_provider.last_name": "Referring provider last name",
    "service_date": "Date of service",
    "place_of_service": "Place of service",
    "diagnoses": "Diagnoses (ICD-10-CM, in pointer order)",
    "diagnoses[]": "Diagnosis",
    "lines": "Service lines",
    "prior_authorization": "Prior authorization number",
    "type_of_bill": "Type of bill",
    "lines[].procedure": "Procedure",
    "lines[].modifiers": "Modifiers",
    "lines[].units": "Units",
    "lines[].charge": "Charge ($)",
    "lines[].diagnosis_pointers": "Diagnosis pointers",
    "lines[].service_date": "Line date",
    "lines[].revenue_code": "Revenue code",
}
_WORDS = {"npi": "NPI", "ndc": "NDC", "clia": "CLIA", "zip": "ZIP", "line1": "line 1",
          "line2": "line 2"}


def label_for(path: str) -> str:
    if path in LABELS:
        return LABELS[path]
    parts = path.replace("[]", "").split(".")
    if len(parts) > 2:  # patient.address.zip: "Patient address ZIP"
        parts = [parts[0], *parts[-2:]]
    words = " ".join(parts[-2:] if len(parts) == 2 else parts).replace("_", " ").split()
    text = " ".join(_WORDS.get(w, w) for w in words)
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class FieldSpec:
    path: str
    kind: Kind
    required: bool  # required whenever its object is there (an optional object may be absent)
    top: str  # the top-level key of the document it lives under (what a correction replaces)
    optional_parent: str | None = None  # e.g. `rendering_provider`: blank altogether is "none"
    choices: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return label_for(self.path)

    @property
    def in_line(self) -> bool:
        return self.path.startswith("lines[]")

    @property
    def name(self) -> str:
        """The field's own name within its object (`member_id`, `modifiers`)."""
        return self.path.rsplit(".", 1)[-1]

    def at(self, line: int) -> str:
        """This field of one line: `lines[].units` -> `lines[2].units`."""
        return self.path.replace("[]", f"[{line}]", 1)


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """`X | None` -> (X, True)."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], len(args) < len(get_args(annotation))
    return annotation, False


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _kind(annotation: Any, *, top_level: bool) -> tuple[Kind, tuple[str, ...]]:
    if get_origin(annotation) is Literal:
        return "choice", tuple(str(a) for a in get_args(annotation))
    if get_origin(annotation) is list:
        (item,) = get_args(annotation)
        if item is int:
            return "ints", ()
        return ("list" if top_level else "words"), ()
    if annotation is date:
        return "date", ()
    if annotation is Decimal:
        return "decimal", ()
    if annotation is int:
        return "int", ()
    return "text", ()


def _required(info: FieldInfo) -> bool:
    if info.is_required():
        return True
    # A scalar with a real default (units 1, place of service 11) is still needed: a blank
    # there is a finding, not a silent default. Empty lists and None mean "none".
    default = info.get_default(call_default_factory=True)
    return default is not None and not isinstance(default, list)


def _walk(model: type[BaseModel], prefix: str, top: str | None,
          optional_parent: str | None) -> list[FieldSpec]:
    specs: list[FieldSpec] = []
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        annotation, nullable = _unwrap(info.annotation)
        owner = top or name
        if _is_model(annotation):
            parent = path if (nullable and optional_parent is None) else optional_parent
            specs.extend(_walk(annotation, f"{path}.", owner, parent))
            continue
        if get_origin(annotation) is list and _is_model(get_args(annotation)[0]):
            specs.extend(_walk(get_args(annotation)[0], f"{path}[].", owner, None))
            continue
        kind, choices = _kind(annotation, top_level=top is None)
        specs.append(FieldSpec(path=path, kind=kind, required=_required(info) and not nullable,
                               top=owner, optional_parent=optional_parent, choices=choices))
    return specs


def fields_of(model: type[BaseModel]) -> tuple[FieldSpec, ...]:
    return tuple(_walk(model, "", None, None))


@cache
def claim_fields() -> tuple[FieldSpec, ...]:
    """Every field of the claim document, in the schema's order."""
    return fields_of(ClaimDocument)


@cache
def field_paths() -> frozenset[str]:
    """Every path the correction map may name: each field, and each object holding fields."""
    paths: set[str] = set()
    for spec in claim_fields():
        parts = spec.path.split(".")
        for end in range(1, len(parts) + 1):
            paths.add(".".join(parts[:end]))
    paths.update(p.replace("[]", "") for p in list(paths) if p.endswith("[]"))
    return frozenset(paths)


def fields_under(path: str) -> list[FieldSpec]:
    """The fields a map path names: itself, or every field of the object it names."""
    return [s for s in claim_fields()
            if s.path == path or s.path.startswith(f"{path}.") or s.path.startswith(f"{path}[]")]


def line_fields() -> list[FieldSpec]:
    return [s for s in claim_fields() if s.in_line]
