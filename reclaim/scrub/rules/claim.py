"""Claim-level edits: required data, dates and filing limits, duplicates."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

from reclaim.claims.schemas import ClaimDocument
from reclaim.codes.icd10 import age_on
from reclaim.scrub.models import Issue, ScrubContext, error, warning
from reclaim.scrub.registry import rule


def service_dates(doc: ClaimDocument) -> Iterator[tuple[str, date]]:
    """The claim's date of service and each line's own date, with their paths."""
    yield "service_date", doc.service_date
    for i, line in enumerate(doc.lines):
        if line.service_date is not None:
            yield f"lines[{i}].service_date", line.service_date


@rule("required_fields")
def required_fields(doc: ClaimDocument, _ctx: ScrubContext) -> Iterator[Issue]:
    if not doc.diagnoses:
        yield error("diagnoses", "The claim has no diagnosis: add at least one ICD-10-CM code.")
    if doc.claim_type == "institutional":
        yield from _institutional_fields(doc)


def _institutional_fields(doc: ClaimDocument) -> Iterator[Issue]:
    bill = doc.type_of_bill
    if bill is None:
        yield error("type_of_bill", "An institutional claim needs a type of bill (e.g. 0131).")
    elif not (bill.isdigit() and len(bill) in (3, 4)):
        yield error("type_of_bill", f"Type of bill {bill!r} must be 3 or 4 digits (e.g. 0131).")
    elif bill.lstrip("0").startswith("11") and doc.admission_date is None:
        yield error(
            "admission_date", "An inpatient claim (type of bill 11x) needs the admission date."
        )
    if doc.admission_date and doc.discharge_date and doc.discharge_date < doc.admission_date:
        yield error(
            "discharge_date",
            f"The discharge date {doc.discharge_date} is before the admission date "
            f"{doc.admission_date}: correct one of them.",
        )
    for i, line in enumerate(doc.lines):
        code = line.revenue_code
        if code is None:
            yield error(f"lines[{i}].revenue_code", "Each institutional line needs a revenue code.")
        elif not (code.isdigit() and len(code) == 4):
            yield error(
                f"lines[{i}].revenue_code", f"Revenue code {code!r} must be 4 digits (e.g. 0450)."
            )


@rule("service_date")
def service_date_not_future(doc: ClaimDocument, ctx: ScrubContext) -> Iterator[Issue]:
    for path, day in service_dates(doc):
        if day > ctx.today:
            yield error(
                path,
                f"The date of service {day} is in the future: a claim can be sent only after "
                "the service was given.",
            )


@rule("timely_filing")
def timely_filing(doc: ClaimDocument, ctx: ScrubContext) -> Iterator[Issue]:
    path, first = min(service_dates(doc), key=lambda item: item[1])
    if first > ctx.today:
        return
    limit = ctx.payer.timely_filing_days
    age = (ctx.today - first).days
    if age > limit:
        yield error(
            path,
            f"{ctx.payer.name} accepts claims up to {limit} days after the service; the service on "
            f"{first} was {age} days ago, so the limit passed on {first + timedelta(days=limit)}. "
            "Send it only with proof of timely filing, or write it off.",
        )
    elif limit - age <= ctx.payer.filing_warning_days:
        yield warning(
            path,
            f"Only {limit - age} days are left to file this claim with {ctx.payer.name} "
            f"(limit {limit} days from {first}): send it now.",
        )


@rule("birth_date")
def birth_date(doc: ClaimDocument, _ctx: ScrubContext) -> Iterator[Issue]:
    born = doc.patient.birth_date
    if born > doc.service_date:
        yield error(
            "patient.birth_date",
            f"The patient's birth date {born} is after the date of service {doc.service_date}: "
            "correct the birth date or the date of service.",
        )
    elif age_on(born, doc.service_date) > 124:
        yield warning(
            "patient.birth_date",
            f"The birth date {born} makes the patient older than 124: check it.",
        )


@rule("duplicate_claim")
def duplicate_claim(doc: ClaimDocument, ctx: ScrubContext) -> Iterator[Issue]:
    if ctx.is_duplicate is not None and ctx.is_duplicate(doc):
        yield error(
            "service_date",
            "A claim for the same patient, provider, date of service and procedures was already "
            "submitted: do not send it twice. If this one corrects it, send it as a replacement "
            "of the original claim.",
        )
