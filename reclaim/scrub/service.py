"""The scrubber wired to the database: code edits from the NCCI/MUE tables, duplicates from the
claims already submitted."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import bindparam, or_
from sqlmodel import Session, col, select

from contracts.enums import SUBMITTED_STATUSES, ClaimStatus
from contracts.messages import ScrubOutcome
from reclaim import payers
from reclaim.claims.schemas import ClaimDocument
from reclaim.codes.ncci import SqlCodeEdits
from reclaim.models import Claim, DirectoryProvider
from reclaim.scrub import ScrubContext, scrub
from reclaim.scrub.models import DirectoryEntry

# The claims already submitted for the same member, billing provider and date of service (a
# duplicate's candidates), built once: it runs for every claim scrubbed. Claim ids start at 1,
# so b_claim_id 0 excludes none.
_SAME_VISIT = select(Claim.document).where(
    col(Claim.member_id) == bindparam("b_member_id"),
    col(Claim.billing_npi) == bindparam("b_billing_npi"),
    col(Claim.service_date) == bindparam("b_service_date"),
    # Sent at least once: a denied claim being corrected (`needs_correction`) counts too.
    or_(col(Claim.status).in_(SUBMITTED_STATUSES),
        (col(Claim.status) == ClaimStatus.needs_correction) & (col(Claim.attempts) > 0)),
    col(Claim.id) != bindparam("b_claim_id"),
).limit(50)


def scrub_document(
    *, session: Session, document: ClaimDocument, claim_id: int | None = None,
    today: date | None = None,
) -> ScrubOutcome:
    def is_duplicate(doc: ClaimDocument) -> bool:
        others = session.exec(_SAME_VISIT, params={
            "b_member_id": doc.patient.member_id, "b_billing_npi": doc.billing_provider.npi,
            "b_service_date": doc.service_date, "b_claim_id": claim_id or 0,
        }).all()
        if not others:
            return False  # most claims: no other claim for the visit to compare codes with
        wanted = _codes(doc.model_dump(mode="json"))
        return any(_codes(other) == wanted for other in others)

    context = ScrubContext(
        directory=directory_lookup(session),
        payer=payers.scrub_rules(session=session, payer_id=document.payer_id),
        today=today or date.today(),
        edits=SqlCodeEdits(session),
        is_duplicate=is_duplicate,
    )
    findings = scrub(document, ctx=context)
    return ScrubOutcome(
        errors=[f for f in findings if f.severity == "error"],
        warnings=[f for f in findings if f.severity == "warning"],
    )


def directory_lookup(session: Session) -> Callable[[str], DirectoryEntry | None] | None:
    """The practice's directory for the `provider_directory` edit (None while it is empty)."""
    rows = session.exec(select(DirectoryProvider)).all()
    if not rows:
        return None
    entries = {
        r.npi: DirectoryEntry(npi=r.npi, name=r.name or f"{r.first_name} {r.last_name}",
                              billing_npi=r.billing_npi, active_from=r.active_from,
                              active_to=r.active_to)
        for r in rows
    }
    return entries.get


def scrub_claim(*, session: Session, claim: Claim) -> ScrubOutcome:
    document = ClaimDocument.model_validate(claim.document)
    return scrub_document(session=session, document=document, claim_id=claim.id)


def _codes(document: Mapping[str, Any]) -> list[tuple[str, tuple[str, ...]]]:
    lines: list[Mapping[str, Any]] = document.get("lines") or []
    return sorted(
        (str(line["procedure"]), tuple(line.get("modifiers") or []))
        for line in lines
    )
