"""A claim attempt's 837 is built once, and its row never exists without it: a worker killed
(or an error raised) between inserting the row and writing the 837 must leave nothing, or the
retried activity would send an empty file forever. This happened on SQLite, where releasing a
savepoint outside a transaction commits."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, insert
from sqlmodel import Session, col, select

from reclaim.claims.schemas import ClaimDocument
from reclaim.claims.service import create_claim
from reclaim.config import Settings
from reclaim.db import session_scope
from reclaim.edi import submissions
from reclaim.edi.submissions import TradingPartners, build_submission, get_submission
from reclaim.models import Claim, Submission
from reclaim.x12.reader import X12Reader, first_envelope
from reclaim.x12.validate import validate_x12
from tests.support import claim_doc


def new_claim(engine: Engine) -> int:
    with session_scope(engine) as session:
        claim = create_claim(session=session, document=ClaimDocument.model_validate(claim_doc()))
        session.flush()
        assert claim.id is not None
        return claim.id


SANDBOX = TradingPartners.of(Settings())


def build(session: Session, claim_id: int, attempt: int = 1,
          partners: TradingPartners = SANDBOX) -> Submission:
    return build_submission(session=session, claim_id=claim_id, attempt=attempt,
                            frequency_code="1", original_reference=None,
                            payer_name="SANDBOX HEALTH PLAN", partners=partners)


def rows(engine: Engine, claim_id: int) -> list[Submission]:
    with Session(engine) as session:
        return list(session.exec(select(Submission).where(col(Submission.claim_id) == claim_id)))


def test_a_build_that_fails_before_its_837_is_written_leaves_no_row(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    claim_id = new_claim(engine)

    def killed(_batch: object) -> str:
        raise KeyboardInterrupt("the worker stops here")

    monkeypatch.setattr(submissions, "write_837", killed)
    def stopped_halfway() -> None:
        with session_scope(engine) as session:
            # A read first, as the activity reads the claim: no transaction is open after it.
            session.get(Claim, claim_id)
            build(session, claim_id)

    with pytest.raises(KeyboardInterrupt):
        stopped_halfway()
    assert rows(engine, claim_id) == []
    monkeypatch.undo()

    with session_scope(engine) as session:
        built = build(session, claim_id)
    [stored] = rows(engine, claim_id)
    assert (stored.id, stored.x12) == (built.id, built.x12)
    envelope = first_envelope(stored.x12)
    assert envelope is not None
    assert envelope.interchange_control_number == stored.id


def test_building_again_returns_the_same_bytes(engine: Engine) -> None:
    claim_id = new_claim(engine)
    with session_scope(engine) as session:
        first = build(session, claim_id)
    with session_scope(engine) as session:
        again = build(session, claim_id)
    assert (again.id, again.x12) == (first.id, first.x12)
    with Session(engine) as session:
        claim = session.get_one(Claim, claim_id)
        assert claim.attempts == 1


def test_a_row_left_without_its_837_is_finished_not_sent_empty(engine: Engine) -> None:
    """A database written before the fix may hold such a row: the next try writes its 837."""
    claim_id = new_claim(engine)
    with session_scope(engine) as session:
        document = session.get_one(Claim, claim_id).document
        session.execute(insert(Submission).values(
            claim_id=claim_id, attempt=1, patient_control_number=f"RC{claim_id}-1",
            frequency_code="1", transaction_type="837P", document=document, x12=""))
    with session_scope(engine) as session:
        built = build(session, claim_id)
    [stored] = rows(engine, claim_id)
    assert stored.id == built.id
    assert stored.x12.startswith("ISA*")
    assert f"CLM*RC{claim_id}-1*" in stored.x12


def test_a_row_another_worker_inserted_first_is_theirs(engine: Engine) -> None:
    """The INSERT that loses the race on (claim, attempt) inserts nothing and returns the
    winner's row, and the session it ran in can still commit."""
    claim_id = new_claim(engine)
    with session_scope(engine) as session:
        theirs = build(session, claim_id)
    with session_scope(engine) as session:
        claim = session.get_one(Claim, claim_id)
        mine = submissions._insert(session, claim, 1, "1", None)
        assert (mine.id, mine.x12) == (theirs.id, theirs.x12)
        claim.status = "submitted"
        session.add(claim)
    assert [s.id for s in rows(engine, claim_id)] == [theirs.id]
    with Session(engine) as session:
        assert session.get_one(Claim, claim_id).status == "submitted"
        assert get_submission(session=session, claim_id=claim_id, attempt=1) is not None


def test_the_837_is_from_and_to_the_configured_trading_partners(engine: Engine) -> None:
    settings = Settings(submitter_id="CLINIC0042", submitter_name="SPRINGFIELD BILLING",
                        receiver_id="CLEARHOUSE9", receiver_name="ACME CLEARINGHOUSE")
    claim_id = new_claim(engine)
    with session_scope(engine) as session:
        built = build(session, claim_id, partners=TradingPartners.of(settings))
    assert validate_x12(built.x12) == []
    parties = {}
    for transaction in X12Reader(built.x12).transactions():  # segments stream as it reads
        envelope = transaction.envelope
        assert (envelope.sender_id, envelope.receiver_id) == ("CLINIC0042", "CLEARHOUSE9")
        assert (envelope.application_sender, envelope.application_receiver) in (
            (None, None), ("CLINIC0042", "CLEARHOUSE9"))
        parties.update({segment.value(1): (segment.value(3), segment.value(9))
                        for segment in transaction.segments() if segment.id == "NM1"})
    assert parties["41"] == ("SPRINGFIELD BILLING", "CLINIC0042")
    assert parties["40"] == ("ACME CLEARINGHOUSE", "CLEARHOUSE9")


@pytest.mark.parametrize(("name", "value"), [
    ("submitter_id", "A"), ("submitter_id", "SIXTEEN-CHARS-ID"), ("receiver_id", "BAD*ID"),
    ("receiver_name", "ACME~CLEARING"), ("submitter_name", ""),
])
def test_a_trading_partner_id_x12_cannot_carry_is_refused_at_start(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name):
        Settings(**{name: value})


def test_an_imported_replacement_is_first_submitted_as_one(engine: Engine) -> None:
    document = ClaimDocument.model_validate(
        claim_doc(frequency_code="7", payer_claim_control_number="PAYER-123"))
    with session_scope(engine) as session:
        claim = create_claim(session=session, document=document)
        session.flush()
        assert claim.id is not None
        claim_id = claim.id
    with session_scope(engine) as session:
        built = build(session, claim_id)
    assert (built.frequency_code, built.original_reference) == ("7", "PAYER-123")
    assert ":B:7*" in built.x12
    assert "REF*F8*PAYER-123~" in built.x12
    assert validate_x12(built.x12) == []
