"""Validation errors in plain words, for the people filling in a form.

Pydantic says "List should have at least 1 item after validation, not 0" about `lines`; a coder
needs "Add at least one service line.". Each error keeps its field path (`lines[0].charge`) so
the form shows the message beside the field; only the wording changes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# What a field is called on the form.
LABELS: dict[str, str] = {
    "patient": "Patient", "first_name": "First name", "last_name": "Last name",
    "birth_date": "Birth date", "sex": "Sex", "member_id": "Member id",
    "address": "Address", "line1": "Street", "line2": "Street (second line)", "city": "City",
    "state": "State", "zip": "ZIP code",
    "billing_provider": "Billing provider", "rendering_provider": "Rendering provider",
    "referring_provider": "Referring provider", "ordering_provider": "Ordering provider",
    "npi": "NPI", "name": "Name", "tax_id": "Tax id",
    "payer_id": "Payer", "service_date": "Date of service", "place_of_service":
    "Place of service", "diagnoses": "Diagnoses", "lines": "Service lines",
    "procedure": "Procedure", "modifiers": "Modifiers", "units": "Units", "charge": "Charge",
    "diagnosis_pointers": "Diagnosis pointers", "revenue_code": "Revenue code",
    "ndc": "NDC", "prior_authorization": "Prior authorization number",
    "referral_number": "Referral number", "type_of_bill": "Type of bill",
    "admission_date": "Admission date", "discharge_date": "Discharge date",
    "claim_type": "Claim type", "username": "Username", "password": "Password",
    "role": "Role", "email": "Email",
}
# Objects whose fields are named with them (the patient's name is "First name" alone).
_OWNERS = ("billing_provider", "rendering_provider", "referring_provider", "ordering_provider",
           "address")
# What one entry of a list is called ("Add at least one service line").
ITEMS: dict[str, str] = {"lines": "service line", "diagnoses": "diagnosis",
                         "modifiers": "modifier", "diagnosis_pointers": "diagnosis pointer"}
PLURALS: dict[str, str] = {"lines": "service lines", "diagnoses": "diagnoses",
                           "modifiers": "modifiers", "diagnosis_pointers": "diagnosis pointers"}
# A hint of the expected shape, by field name.
FORMATS: dict[str, str] = {
    "npi": "10 digits", "tax_id": "9 digits", "zip": "5 or 9 digits", "state": "2 letters",
    "birth_date": "a date like 1960-04-02", "service_date": "a date like 2026-11-02",
    "admission_date": "a date like 2026-11-02", "discharge_date": "a date like 2026-11-02",
    "charge": "an amount like 150.00", "units": "a number like 1",
}


def _label(loc: Sequence[Any]) -> str:
    """('lines', 0, 'charge') -> "Line 1: charge"; ('patient', 'member_id') -> "Member id"."""
    parts = [p for p in loc if p not in ("body", "query", "path")]
    names = [p for p in parts if isinstance(p, str)]
    last = names[-1] if names else "value"
    label = LABELS.get(last, last.replace("_", " ").capitalize())
    owner = names[-2] if len(names) > 1 else None
    if owner in _OWNERS:  # "Billing provider NPI", "Patient address city"
        label = f"{LABELS[owner]} {label if label.isupper() else label.lower()}"
    for i, part in enumerate(parts):
        if isinstance(part, int) and i > 0 and isinstance(parts[i - 1], str):
            item = ITEMS.get(parts[i - 1], parts[i - 1].rstrip("s").replace("_", " "))
            if parts[i - 1] == last:  # the entry itself: "Diagnosis 2"
                return f"{item.capitalize()} {part + 1}"
            label = f"{item.capitalize()} {part + 1}: {label.lower()}"
    return label


def _field(loc: Sequence[Any]) -> str:
    """('body', 'lines', 0, 'charge') -> "lines[0].charge"."""
    out = ""
    for part in (p for p in loc if p not in ("body", "query", "path")):
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out or "form"


def plain_message(error: Mapping[str, Any]) -> str:
    """One pydantic error (`ValidationError.errors()` item) as a sentence."""
    loc = error.get("loc") or ()
    kind = str(error.get("type") or "")
    ctx = error.get("ctx") or {}
    label = _label(loc)
    names = [p for p in loc if isinstance(p, str)]
    last = names[-1] if names else ""
    shape = FORMATS.get(last)
    if kind == "missing":
        return f"{label} is required."
    if kind == "too_short":
        wanted = ctx.get("min_length", 1)
        item = ITEMS.get(last, "entry")
        return f"Add at least {'one' if wanted == 1 else wanted} {item}" + \
            ("." if wanted == 1 else "s.")
    if kind == "too_long":
        return f"{label}: at most {ctx.get('max_length')} {PLURALS.get(last, 'entries')}."
    if kind == "string_too_short":
        wanted = ctx.get("min_length", 1)
        return f"{label} is required." if wanted == 1 else \
            f"{label} needs at least {wanted} characters."
    if kind == "string_too_long":
        return f"{label} is too long: at most {ctx.get('max_length')} characters."
    if kind == "value_error":
        text = str(error.get("msg") or "").removeprefix("Value error, ")
        return f"{label}: {text[:1].lower()}{text[1:]}" + ("" if text.endswith(".") else ".")
    if kind == "string_pattern_mismatch":
        return f"{label} is not in the right form" + (f": {shape}." if shape else ".")
    if kind.startswith(("date_", "datetime_")):
        return f"{label} must be {shape or 'a date like 2026-11-02'}."
    if kind.startswith("decimal_"):
        if kind in ("decimal_max_places", "decimal_max_digits", "decimal_whole_digits"):
            return f"{label} has too many digits: write {shape or 'a number like 150.00'}."
        return f"{label} must be {shape or 'a number like 150.00'}."
    if kind.startswith(("int_", "float_")):
        return f"{label} must be a whole number." if kind.startswith("int_") else \
            f"{label} must be a number."
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        bound = next(iter(ctx.values()), "")
        words = {"greater_than": "more than", "greater_than_equal": "at least",
                 "less_than": "less than", "less_than_equal": "at most"}[kind]
        return f"{label} must be {words} {bound}."
    if kind in ("literal_error", "enum"):
        return f"{label} must be one of {ctx.get('expected', 'the listed choices')}."
    if kind.endswith("_type") and error.get("input") is None:
        return f"{label} is required."
    if kind in ("string_type", "list_type", "dict_type", "model_type", "model_attributes_type"):
        return f"{label} is not filled in the expected way."
    if kind == "extra_forbidden":
        return f"{label} is not a field of the claim."
    text = str(error.get("msg") or "is not valid")
    return f"{label}: {text[:1].lower()}{text[1:]}" + ("" if text.endswith(".") else ".")


def plain_errors(errors: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Pydantic's errors as `[{field, message}]`, in plain words, one per field and wording."""
    out: list[dict[str, str]] = []
    for error in errors:
        entry = {"field": _field(error.get("loc") or ()), "message": plain_message(error)}
        if entry not in out:
            out.append(entry)
    return out
