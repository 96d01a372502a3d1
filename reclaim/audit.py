"""Who viewed or changed which claim, and when: append-only (PHI access is audited)."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from reclaim.models import AuditEntry


def record(*, session: Session, user: str, action: str, claim_id: int | None = None,
           detail: str = "") -> None:
    session.add(AuditEntry(username=user, action=action, claim_id=claim_id, detail=detail[:500]))


def record_engine(engine: Engine, *, user: str, action: str, claim_id: int | None = None,
                  detail: str = "") -> None:
    with Session(engine) as session:
        record(session=session, user=user, action=action, claim_id=claim_id, detail=detail)
        session.commit()


def entries(*, session: Session, claim_id: int | None = None, user: str | None = None,
            limit: int = 200) -> list[AuditEntry]:
    query = select(AuditEntry)
    if claim_id is not None:
        query = query.where(AuditEntry.claim_id == claim_id)
    if user:
        query = query.where(AuditEntry.username == user)
    return list(session.exec(query.order_by(col(AuditEntry.id).desc()).limit(limit)).all())
