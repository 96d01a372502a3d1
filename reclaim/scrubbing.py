"""The scrubber wired to the database: code edits from the NCCI/MUE tables, duplicates from the
claims already submitted."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from reclaim.codes.ncci import SqlCodeEdits
from reclaim.models import Claim
from reclaim.schemas import ClaimDocument
from reclaim.scrub import ScrubContext, scrub
from reclaim.scrub.payers import load_payer_rules
from workflows.types import Finding, ScrubOutcome

SUBMITTED = ("submitted", "accepted", "resubmitted", "paid", "partially_paid", "denied",
             "appealing", "patient_responsibility")


def scrub_document(
    *, session: Session, document: ClaimDocument, claim_id: int | None = None,
    today: date | None = None,
) -> ScrubOutcome:
    def is_duplicate(doc: ClaimDocument) -> bool:
        query = select(Claim.document).where(
            Claim.member_id == doc.patient.member_id,
            Claim.billing_npi == doc.billing_provider.npi,
            Claim.service_date == doc.service_date,
            col(Claim.status).in_(SUBMITTED),
        )
        if claim_id is not None:
            query = query.where(Claim.id != claim_id)
        wanted = _codes(doc.model_dump(mode="json"))
        return any(_codes(other) == wanted for other in session.exec(query.limit(50)).all())

    context = ScrubContext(
        payer=load_payer_rules(document.payer_id),
        today=today or date.today(),
        edits=SqlCodeEdits(session),
        is_duplicate=is_duplicate,
    )
    findings = scrub(document, ctx=context)
    return ScrubOutcome(
        errors=[Finding.model_validate(f.model_dump()) for f in findings
                if f.severity == "error"],
        warnings=[Finding.model_validate(f.model_dump()) for f in findings
                  if f.severity == "warning"],
    )


def scrub_claim(*, session: Session, claim: Claim) -> ScrubOutcome:
    document = ClaimDocument.model_validate(claim.document)
    return scrub_document(session=session, document=document, claim_id=claim.id)


def _codes(document: Mapping[str, Any]) -> list[tuple[str, tuple[str, ...]]]:
    lines: list[Mapping[str, Any]] = document.get("lines") or []
    return sorted(
        (str(line["procedure"]), tuple(line.get("modifiers") or []))
        for line in lines
    )
