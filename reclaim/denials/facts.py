"""The denial facts kept on each claim (`denied_at`, `recovered_amount`, `overturned`), so the
denial KPIs read one covering index instead of joining every denial to every remittance.

They are recomputed, never incremented: `refresh_denial_facts` derives them again from the
claim's denial and remittance rows, so running it twice, late, or after a retried activity
gives the same answer. It runs wherever those rows change: posting a remittance (which records
the denials) and storing an 835's remittances."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Update, and_, bindparam, exists, func, select, update
from sqlmodel import Session, col

from reclaim.models import Claim, Denial, Remittance

CHUNK = 500


def _facts_update() -> Update:
    first_remittance = (
        select(func.min(Denial.remittance_id)).where(col(Denial.claim_id) == col(Claim.id))
        .correlate(Claim)  # two levels down: the claim being updated, not a claim of its own
        .scalar_subquery()
    )
    later = and_(col(Remittance.claim_id) == col(Claim.id),
                 col(Remittance.id) > first_remittance)
    return (
        update(Claim)
        .where(exists().where(col(Denial.claim_id) == col(Claim.id)))
        .values(
            denied_at=select(func.min(Denial.created_at))
            .where(col(Denial.claim_id) == col(Claim.id)).scalar_subquery(),
            recovered_amount=select(func.coalesce(func.sum(Remittance.paid), 0))
            .where(later).scalar_subquery(),
            overturned=exists().where(later, col(Remittance.paid) > 0),
        )
        .execution_options(synchronize_session=False)
    )


# Built once, the claims' ids included as an expanding parameter: it runs for every remittance
# posted (a statement built per call is cache-keyed per call).
_FACTS_UPDATE = _facts_update().where(col(Claim.id).in_(bindparam("b_ids", expanding=True)))


def refresh_denial_facts(session: Session, claim_ids: Iterable[int]) -> None:
    """Derive the denial facts of these claims again from their rows (claims never denied keep
    nulls). Flushes the session first so rows added in it are counted."""
    ids = sorted({int(i) for i in claim_ids})
    if not ids:
        return
    session.flush()
    for start in range(0, len(ids), CHUNK):
        session.execute(_FACTS_UPDATE, {"b_ids": ids[start:start + CHUNK]})
    for claim in session.identity_map.values():
        if isinstance(claim, Claim) and claim.id in ids:
            session.expire(claim, ["denied_at", "recovered_amount", "overturned"])
