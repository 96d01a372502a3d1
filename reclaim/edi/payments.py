"""835 posting: each claim payment stored as a Remittance row, matched to its claim, CLAIM_CHUNK
at a time as the file is read, so memory does not grow with the file's claim count."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col

from reclaim.denials.facts import refresh_denial_facts
from reclaim.edi.matching import attempts_by_claim, match_pcn, matches_by_lines
from reclaim.edi.views import header_view
from reclaim.models import EdiFile, Remittance
from reclaim.x12.models import Payment
from reclaim.x12.read_835 import ClaimRead, RemittanceRead, Stream835

# An 835 is stored this many claims at a time: one lookup of their claims, one bulk insert, then
# they are dropped.
CLAIM_CHUNK = 500

_INSERT_REMITTANCES = Remittance.__table__.insert()  # type: ignore[attr-defined]


def store_835(session: Session, edi: EdiFile, stream: Stream835) -> None:
    """Claims are matched and inserted CLAIM_CHUNK at a time as the file is read; the file keeps
    only each remittance's header (GET /api/v1/edi/{id} reads the claims from their rows)."""
    assert edi.id is not None
    counts = _Counts()
    chunk: list[tuple[Payment, ClaimRead]] = []
    for remittance, claim in stream:
        assert remittance.header is not None
        chunk.append((remittance.header.payment, claim))
        if len(chunk) >= CLAIM_CHUNK:
            _store_claims(session, edi.id, chunk, counts)
            chunk = []
    if chunk:
        _store_claims(session, edi.id, chunk, counts)
    edi.matched += counts.matched
    edi.unmatched += counts.unmatched
    _settle_payments(session, edi.id, stream.remittances)
    # Each remittance carries the file-level warnings too: those are stated once.
    unique = {(w.segment_index, w.segment_id, w.message): w for r in stream.remittances
              if r.header for w in r.header.warnings}
    edi.warnings = [w.model_dump() for w in unique.values()]
    # DESIGN.md: GET /api/v1/edi/{id} of an 835 shows payer, payment, PLB and claims at the top.
    views = [header_view(r) for r in stream.remittances]
    if not views:
        edi.parsed = {"claim_count": 0}
    elif len(views) == 1:
        edi.parsed = views[0]
    else:
        edi.parsed = {**views[0], "remittances": views}
    # Claims refused on their own (malformed segments): the file's answer lists them.
    edi.parsed["refused_claims"] = [c for r in stream.remittances for c in r.refused]


@dataclass
class _Counts:
    matched: int = 0
    unmatched: int = 0
    position: int = 0  # of the last claim stored


def _store_claims(session: Session, file_id: int, chunk: list[tuple[Payment, ClaimRead]],
                  counts: _Counts) -> None:
    attempts = attempts_by_claim(session, [claim.patient_control_number for _, claim in chunk])
    by_pcn = [match_pcn(attempts, claim.patient_control_number) for _, claim in chunk]
    # The payer mangled these claims' control numbers: matched by their lines, all at once.
    stray = [i for i, (claim_id, _) in enumerate(by_pcn) if claim_id is None]
    for i, found in zip(stray, matches_by_lines(session, [chunk[i][1] for i in stray]),
                        strict=True):
        by_pcn[i] = found
    rows: list[dict[str, Any]] = []
    for (payment, claim), (claim_id, attempt) in zip(chunk, by_pcn, strict=True):
        counts.position += 1
        rows.append(
            dict(
                edi_file_id=file_id,
                position=counts.position,
                claim_id=claim_id,
                attempt=attempt,
                patient_control_number=claim.patient_control_number[:38],
                status_code=claim.status_code,
                charge=claim.charge,
                paid=claim.paid,
                patient_responsibility=claim.patient_responsibility,
                payer_claim_control_number=claim.payer_claim_control_number,
                payment_date=payment.date,
                trace_number=payment.trace_number,
                data=claim.data,
            )
        )
        if claim_id is None:
            counts.unmatched += 1
        else:
            counts.matched += 1
    # A Core bulk insert: ORM objects (or the ORM's bulk path) cost more than reading the file.
    session.connection().execute(_INSERT_REMITTANCES, rows)
    # A remittance after a claim's first denial is money recovered (a no-op for the rest).
    refresh_denial_facts(session, (row["claim_id"] for row in rows if row["claim_id"]))


def _settle_payments(session: Session, file_id: int,
                     remittances: list[RemittanceRead]) -> None:
    """A payer that sends BPR again after its claims changes the payment they were stored with
    (the last BPR holds, as it always has): those rows are brought to it."""
    start = 1
    for remittance in remittances:
        used, final = remittance.preview, remittance.header
        assert final is not None
        if remittance.claim_count and used is not None and (
                (used.date, used.trace_number) != (final.payment.date, final.payment.trace_number)):
            session.execute(
                update(Remittance)
                .where(col(Remittance.edi_file_id) == file_id, col(Remittance.position) >= start,
                       col(Remittance.position) < start + remittance.claim_count)
                .values(payment_date=final.payment.date, trace_number=final.payment.trace_number)
                .execution_options(synchronize_session=False)
            )
        start += remittance.claim_count
