"""The safety net under the EDI signals.

Ingestion stores a file, then signals each claim's workflow, then marks the file signalled (the
flag is an outbox); a crash between those steps is retried by whoever ingested the file. Two
sweeps cover whatever slips past that (an API process killed after the store, a signal refused
by an overloaded server, a bug):

- `unsignalled_files`: files read more than `grace` ago and never marked signalled are signalled
  again, whoever ingested them;
- `stale_answers`: a claim still waiting on the payer for its current attempt while an answer
  for that attempt has been in the database longer than `grace` gets that answer signalled again.

Workflows ignore events they have already seen (same file and position), so a repeat costs one
workflow task and changes nothing.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta

from sqlalchemy import and_, exists, or_, true
from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from contracts.enums import AWAITING_ACK, AWAITING_PAYER
from reclaim.edi.ingest import (
    REMITTANCE_SIGNAL_COLUMNS,
    RESPONSE_SIGNAL_COLUMNS,
    ClaimSignal,
    remittance_signal,
    response_signal,
)
from reclaim.models import Claim, EdiFile, PayerResponse, Remittance, utcnow


def unsignalled_files(*, session: Session, grace: timedelta, limit: int = 20) -> list[int]:
    """Files read more than `grace` ago whose claims were never confirmed signalled, oldest
    first."""
    cutoff = utcnow() - grace
    return [file_id for file_id in session.exec(
        select(EdiFile.id)
        .where(col(EdiFile.status) == "processed", col(EdiFile.signalled).is_(False),
               col(EdiFile.received_at) < cutoff)
        .order_by(col(EdiFile.id))
        .limit(limit)
    ).all() if file_id is not None]


def stale_answers(*, session: Session, grace: timedelta, limit: int = 200,
                  exclude: Collection[int] = ()) -> list[ClaimSignal]:
    """Signals for claims that should have moved on an answer stored more than `grace` ago
    (the `exclude`d claims aside)."""
    cutoff = utcnow() - grace
    unposted_835 = exists().where(
        col(Remittance.claim_id) == Claim.id,
        col(Remittance.attempt) == Claim.attempts,
        col(Remittance.outcome).is_(None),
        col(Remittance.received_at) < cutoff,
    )
    unread_277 = exists().where(
        col(PayerResponse.claim_id) == Claim.id,
        col(PayerResponse.attempt) == Claim.attempts,
        col(PayerResponse.received_at) < cutoff,
        or_(col(PayerResponse.kind) == "277CA",
            and_(col(PayerResponse.kind) == "999", col(PayerResponse.accepted).is_(False))),
    )
    stuck = session.exec(
        select(Claim.id, Claim.attempts)
        .where(col(Claim.status).in_(AWAITING_PAYER), col(Claim.updated_at) < cutoff)
        .where(or_(unposted_835, and_(col(Claim.status).in_(AWAITING_ACK), unread_277)))
        .where(col(Claim.id).not_in(sorted(exclude)) if exclude else true())
        .order_by(col(Claim.updated_at))
        .limit(limit)
    ).all()
    signals: list[ClaimSignal] = []
    for claim_id, attempt in stuck:
        assert claim_id is not None
        signals += _answers(session, claim_id, attempt)
    return signals


def _answers(session: Session, claim_id: int, attempt: int) -> list[ClaimSignal]:
    """Every answer to this attempt, as ingestion signalled it (the keys match, so a workflow
    that has seen one ignores it)."""
    responses = session.execute(
        sql_select(*RESPONSE_SIGNAL_COLUMNS)
        .where(col(PayerResponse.claim_id) == claim_id, col(PayerResponse.attempt) == attempt)
        .order_by(col(PayerResponse.id))
    ).all()
    remits = session.execute(
        sql_select(*REMITTANCE_SIGNAL_COLUMNS)
        .where(col(Remittance.claim_id) == claim_id, col(Remittance.attempt) == attempt)
        .order_by(col(Remittance.id))
    ).all()
    return ([response_signal(*row) for row in responses]
            + [remittance_signal(*row) for row in remits])
