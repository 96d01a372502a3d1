"""What the API and the pages show of a stored payer file: an 835's remittances with a page of
their claims, and the remittances that matched no claim."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from reclaim.models import EdiFile, Remittance
from reclaim.x12.read_835 import RemittanceRead

CLAIM_VIEW = ("patient_control_number", "status_code", "charge", "paid", "patient_responsibility",
              "payer_claim_control_number", "adjustments", "remarks", "lines")
CLAIMS_PAGE = 200  # claims GET /api/v1/edi/{id} shows of an 835 unless asked for more


def header_view(remittance: RemittanceRead) -> dict[str, Any]:
    header = remittance.header
    assert header is not None
    return {
        "payer": {"name": header.payer_name, "id": header.payer_id},
        "payee": {"name": header.payee_name, "npi": header.payee_npi},
        "payment": header.payment.model_dump(mode="json"),
        "provider_adjustments": [p.model_dump(mode="json") for p in header.provider_adjustments],
        "claim_count": remittance.claim_count,
    }


def _claim_view(payment: dict[str, Any], claim_id: int | None) -> dict[str, Any]:
    """`payment`: the claim as its Remittance row stores it (ClaimPayment as JSON)."""
    view = {name: payment[name] for name in CLAIM_VIEW}
    view["matched_claim_id"] = claim_id
    return view


def remittance_view(session: Session, edi: EdiFile, *, offset: int = 0,
                    limit: int = CLAIMS_PAGE) -> dict[str, Any]:
    """A stored 835 as GET /api/v1/edi/{id} shows it: each remittance's header (payer, payee,
    payment, provider adjustments, claim_count) with the claims at file positions offset + 1 to
    offset + limit, read from the Remittance rows, and `claims_total`. Several remittances in
    one file: the first at the top, every one under `remittances`."""
    assert edi.id is not None
    parsed = edi.parsed or {}
    several = parsed.get("remittances")
    headers: list[dict[str, Any]] = several if several is not None else [parsed]
    # Files stored before claim_count kept every claim in `parsed`: they are counted there.
    counts = [h.get("claim_count", len(h.get("claims", []))) for h in headers]
    rows = session.execute(
        sa_select(col(Remittance.position), col(Remittance.claim_id), col(Remittance.data))
        .where(col(Remittance.edi_file_id) == edi.id, col(Remittance.position) > offset,
               col(Remittance.position) <= offset + limit)
        .order_by(col(Remittance.position))
    ).all()
    shown = []
    start = 1
    for header, count in zip(headers, counts, strict=True):
        view = {key: value for key, value in header.items() if key != "claims"}
        view["claim_count"] = count
        view["claims"] = [_claim_view(data, claim_id) for position, claim_id, data in rows
                          if start <= position < start + count]
        shown.append(view)
        start += count
    body = dict(shown[0])
    if several is not None:
        body["remittances"] = shown
    body.update(claims_total=sum(counts), claims_offset=offset, claims_limit=limit)
    return body


def list_unmatched(*, session: Session, limit: int = 100) -> list[Remittance]:
    return list(
        session.exec(
            select(Remittance)
            .where(col(Remittance.claim_id).is_(None))
            .order_by(col(Remittance.id).desc())
            .limit(limit)
        ).all()
    )
