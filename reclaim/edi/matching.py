"""Which claim a payer's answer or payment is for: the patient control number we sent (CLM01),
or, when the payer mangled it, the member, the date of service and the procedures billed."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import bindparam, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from contracts.enums import AWAITING_REMITTANCE, ClaimStatus
from reclaim.claims.service import parse_patient_control_number
from reclaim.models import Claim
from reclaim.x12.read_835 import ClaimRead

LOOKUP_CHUNK = 500  # ids per IN (...) query, well under every driver's parameter limit
MAX_CANDIDATES = 20  # a member's open claims looked at for one payment, as the query's limit was

# Built once: a statement built per call is also cache-keyed per call (b_*: the WHERE clause's).
_CLAIMS = Claim.__table__  # type: ignore[attr-defined]
_ATTEMPTS = sa_select(_CLAIMS.c.id, _CLAIMS.c.attempts).where(
    _CLAIMS.c.id.in_(bindparam("b_ids", expanding=True)))


def attempts_by_claim(session: Session, pcns: list[str]) -> dict[int, int]:
    """Attempts of every claim the patient control numbers name, a few queries per file rather
    than one per claim (an 835 can carry thousands)."""
    ids = sorted({parsed[0] for pcn in pcns if (parsed := parse_patient_control_number(pcn))})
    found: dict[int, int] = {}
    for start in range(0, len(ids), LOOKUP_CHUNK):
        chunk = ids[start:start + LOOKUP_CHUNK]
        found.update((claim_id, attempts) for claim_id, attempts in
                     session.connection().execute(_ATTEMPTS, {"b_ids": chunk}))
    return found


def match_pcn(attempts: dict[int, int], pcn: str) -> tuple[int | None, int | None]:
    parsed = parse_patient_control_number(pcn)
    if parsed is None or parsed[0] not in attempts:
        return None, None
    claim_id, attempt = parsed
    return claim_id, attempt or attempts[claim_id]


def match_by_lines(session: Session, payment: ClaimRead) -> tuple[int | None, int | None]:
    """Fallback when the payer mangled the patient control number: the member, the date of
    service and the procedures billed, ignoring modifiers (payers drop them)."""
    return matches_by_lines(session, [payment])[0]


def _open_claims_of(session: Session, members: list[str]) -> dict[str, list[Claim]]:
    """The claims of these members still waiting for the payer, by member id: one query per
    LOOKUP_CHUNK members, however often a file repeats them."""
    found: dict[str, list[Claim]] = {}
    for start in range(0, len(members), LOOKUP_CHUNK):
        chunk = members[start:start + LOOKUP_CHUNK]
        query = select(Claim).where(
            col(Claim.member_id).in_(chunk),
            # A denied claim a person is correcting is `needs_correction` and was sent already.
            or_(col(Claim.status).in_(AWAITING_REMITTANCE),
                (col(Claim.status) == ClaimStatus.needs_correction) & (col(Claim.attempts) > 0)),
        ).order_by(col(Claim.id))
        for claim in session.exec(query).all():
            found.setdefault(claim.member_id, []).append(claim)
    return found


def matches_by_lines(session: Session,
                     payments: list[ClaimRead]) -> list[tuple[int | None, int | None]]:
    """match_by_lines for many payments at once (those of a file's chunk the patient control
    number did not match): a file repeating one unknown claim 20,000 times costs one query,
    not 20,000. A payment matches when exactly one candidate claim fits."""
    members = sorted({p.member_id for p in payments if p.member_id})
    by_member = _open_claims_of(session, members) if members else {}
    found: list[tuple[int | None, int | None]] = []
    for payment in payments:
        candidates = [claim for claim in by_member.get(payment.member_id or "", [])
                      if payment.service_date is None
                      or claim.service_date == payment.service_date]
        wanted = sorted(payment.procedures)
        fitting = []
        for claim in candidates[:MAX_CANDIDATES]:
            billed = sorted(line["procedure"] for line in claim.document.get("lines", []))
            if not wanted or billed == wanted:
                if Decimal(str(claim.total_charge)) == payment.charge or wanted:
                    fitting.append(claim)
        found.append((fitting[0].id, fitting[0].attempts) if len(fitting) == 1
                     else (None, None))
    return found
