"""The denial facts on the claim (reclaim/denials/facts.py) are derived from the denial and
remittance rows, whatever order those arrive in and however often the refresh runs."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Engine
from sqlmodel import Session

from reclaim.denials.facts import refresh_denial_facts
from reclaim.models import Claim
from tests.factories import add_claim, add_denial, add_remittance

FIRST = datetime(2026, 2, 1, 9, tzinfo=UTC)


def facts(session: Session, claim_id: int) -> tuple[object, ...]:
    claim = session.get(Claim, claim_id)
    assert claim is not None
    session.refresh(claim)
    at = claim.denied_at.replace(tzinfo=None) if claim.denied_at else None
    return at, claim.recovered_amount, claim.overturned


def test_facts_follow_the_rows_and_a_second_refresh_changes_nothing(db: Engine) -> None:
    with Session(db) as s:
        never = add_claim(s)
        add_remittance(s, never, paid="100")
        claim = add_claim(s)
        denied = add_remittance(s, claim, paid="0", status_code="4")
        assert claim.id is not None
        assert never.id is not None
        assert facts(s, claim.id) == (None, None, None)  # a zero payment is not yet a denial
        add_denial(s, claim, denied, created_at=FIRST)
        assert facts(s, claim.id) == (FIRST.replace(tzinfo=None), Decimal("0.00"), False)
        add_remittance(s, claim, paid="0", attempt=2, status_code="4")  # denied again
        assert facts(s, claim.id)[1:] == (Decimal("0.00"), False)
        add_remittance(s, claim, paid="80.00", attempt=3)
        after = facts(s, claim.id)
        assert after == (FIRST.replace(tzinfo=None), Decimal("80.00"), True)
        refresh_denial_facts(s, [claim.id, claim.id, never.id])
        assert facts(s, claim.id) == after
        assert facts(s, never.id) == (None, None, None)


def test_only_remittances_after_the_first_denied_one_count(db: Engine) -> None:
    # The paid replacement can be stored before the first denial's row is written (the denial
    # is recorded when the workflow posts the remittance): it still counts, being later than
    # the denied remittance. A payment from before the denied remittance never does.
    with Session(db) as s:
        claim = add_claim(s)
        earlier = add_remittance(s, claim, paid="0", status_code="4")
        add_remittance(s, claim, paid="50.00", attempt=2)
        assert claim.id is not None
        add_denial(s, claim, earlier, created_at=FIRST)
        assert facts(s, claim.id)[1:] == (Decimal("50.00"), True)
        before = add_claim(s)
        paid_first = add_remittance(s, before, paid="70.00")
        denied_later = add_remittance(s, before, paid="0", attempt=2, status_code="4")
        add_denial(s, before, denied_later, created_at=FIRST)
        assert before.id is not None
        assert paid_first.id is not None
        assert facts(s, before.id)[1:] == (Decimal("0.00"), False)
