"""Service-line edits: procedure codes, modifiers, diagnosis pointers, place of service, charges
and units.

The claim total is not a field of the document: it is computed as the sum of the lines
(`ClaimDocument.total_charge`), so "total = sum of lines" holds by construction and the edit here
is that every line carries a positive charge.
"""

from __future__ import annotations

from collections.abc import Iterator

from reclaim.claims.schemas import ClaimDocument, ServiceLine
from reclaim.codes import cpt, hcpcs, modifiers, pos
from reclaim.scrub.models import Issue, ScrubContext, error, warning
from reclaim.scrub.registry import rule

_EXCLUSIVE_PAIRS = (
    (frozenset({"LT", "RT"}), "bill both sides with 50 on one line, or each side on its own line"),
    (frozenset({"26", "TC"}), "bill the global service without either modifier"),
)


@rule("procedure_format")
def procedure_format(doc: ClaimDocument, ctx: ScrubContext) -> Iterator[Issue]:
    for i, line in enumerate(doc.lines):
        code = line.procedure
        if cpt.is_cpt(code):
            continue
        if not hcpcs.is_hcpcs(code):
            yield error(
                f"lines[{i}].procedure",
                f"{code!r} is not a CPT or HCPCS code: CPT codes have 5 characters (99214, 0001U, "
                "1234F, 0042T), HCPCS codes a letter A-V and 4 digits (J1100).",
            )
        elif ctx.hcpcs.knows(code) is False:
            yield error(
                f"lines[{i}].procedure",
                f"{code} is not in the installed HCPCS code list: check the code.",
            )


@rule("modifiers")
def modifier_validity(doc: ClaimDocument, ctx: ScrubContext) -> Iterator[Issue]:
    for i, line in enumerate(doc.lines):
        if line.modifiers or ctx.payer.modifier_rules:
            for message, severe in _modifier_problems(line, ctx):
                yield (error if severe else warning)(f"lines[{i}].modifiers", message)


def _modifier_problems(line: ServiceLine, ctx: ScrubContext) -> Iterator[tuple[str, bool]]:
    seen: set[str] = set()
    for code in line.modifiers:
        if not modifiers.is_well_formed(code):
            yield f"Modifier {code!r} must be 2 letters or digits (e.g. 25, LT).", True
        elif code in seen:
            yield f"Modifier {code} is listed twice on {line.procedure}: keep it once.", True
        elif code in ctx.payer.rejected_modifiers:
            reason = ctx.payer.rejected_modifiers[code]
            yield f"{ctx.payer.name} does not take modifier {code}: {reason}", True
        elif modifiers.lookup(code) is None:
            yield (
                f"Modifier {code} is unknown to Reclaim: check it is valid for {line.procedure}.",
                False,
            )
        elif code == "25" and not cpt.is_evaluation_and_management(line.procedure):
            yield (
                f"Modifier 25 belongs on the visit (E/M) code, not on {line.procedure}: move it "
                "to the visit line or remove it.",
                True,
            )
        seen.add(code)
    for pair, fix in _EXCLUSIVE_PAIRS:
        if pair <= seen:
            first, second = sorted(pair)
            yield f"Modifiers {first} and {second} cannot be on the same line: {fix}.", True
    for wanted in ctx.payer.modifier_rules:
        if wanted["procedure"] == line.procedure and wanted["modifier"] not in seen:
            wrong = sorted(seen.intersection(wanted.get("replaces", [])))
            fix = f"replace {' and '.join(wrong)} with it" if wrong else "add it"
            yield (
                f"{ctx.payer.name} wants modifier {wanted['modifier']} on {line.procedure}: {fix}.",
                True,
            )
    if "59" in seen and seen & modifiers.X_MODIFIERS:
        yield "Use 59 or an X modifier (XE, XP, XS, XU), not both: keep the X modifier.", False


@rule("diagnosis_pointers")
def diagnosis_pointers(doc: ClaimDocument, _ctx: ScrubContext) -> Iterator[Issue]:
    if doc.claim_type != "professional":
        return  # 837I lines carry no diagnosis pointers
    count = len(doc.diagnoses)
    for i, line in enumerate(doc.lines):
        path = f"lines[{i}].diagnosis_pointers"
        if not line.diagnosis_pointers:
            yield error(
                path, f"Line {i + 1} ({line.procedure}) points at no diagnosis: add a pointer."
            )
        bad = [p for p in line.diagnosis_pointers if not 1 <= p <= count]
        if bad and count:
            listed = "1 diagnosis" if count == 1 else f"{count} diagnoses"
            yield error(
                path,
                f"Line {i + 1} ({line.procedure}) points at diagnosis "
                f"{', '.join(map(str, bad))}, but the claim lists {listed}: use 1 to {count}.",
            )
        if len(set(line.diagnosis_pointers)) != len(line.diagnosis_pointers):
            yield error(
                path, f"Line {i + 1} ({line.procedure}) points at the same diagnosis twice."
            )


@rule("place_of_service")
def place_of_service(doc: ClaimDocument, _ctx: ScrubContext) -> Iterator[Issue]:
    if doc.claim_type != "professional":
        return  # 837I states the setting with the type of bill
    place = pos.lookup(doc.place_of_service)
    if place is None:
        yield error(
            "place_of_service",
            f"{doc.place_of_service!r} is not a place-of-service code: use the 2-digit code "
            "(11 office, 21 inpatient hospital, 22 outpatient hospital, 23 emergency room, "
            "02/10 telehealth).",
        )
        return
    for i, line in enumerate(doc.lines):
        limit = pos.rule_for(line.procedure)
        if limit is not None and place.code not in limit.allowed:
            yield error(
                f"lines[{i}].procedure",
                f"{line.procedure} is a {limit.label} code and cannot be billed at place of "
                f"service {place.code} ({place.label}): choose a code for the "
                "setting or correct the place of service.",
            )


@rule("charges")
def charges(doc: ClaimDocument, _ctx: ScrubContext) -> Iterator[Issue]:
    for i, line in enumerate(doc.lines):
        if cpt.category(line.procedure) == "II":
            # Quality-reporting (Category II) codes are billed at zero by convention.
            if line.charge < 0:
                yield error(
                    f"lines[{i}].charge", f"The charge of {line.procedure} cannot be negative."
                )
        elif line.charge <= 0:
            yield error(
                f"lines[{i}].charge",
                f"Line {i + 1} ({line.procedure}) has a charge of {line.charge}: enter the "
                "practice's fee, which must be more than zero.",
            )


@rule("units")
def units(doc: ClaimDocument, _ctx: ScrubContext) -> Iterator[Issue]:
    for i, line in enumerate(doc.lines):
        if line.units <= 0:
            yield error(
                f"lines[{i}].units",
                f"Line {i + 1} ({line.procedure}) has {line.units} units: enter more than zero.",
            )
