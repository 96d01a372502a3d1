"""Build the 837 for one claim attempt — once: a retried activity re-sends the same bytes."""

from __future__ import annotations

from sqlalchemy import bindparam
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from reclaim.claims import document_of, patient_control_number
from reclaim.models import Claim, Submission, utcnow
from reclaim.x12.models import Batch837, Claim837, Envelope, Party
from reclaim.x12.write_837 import write_837

SUBMITTER_ID = "RECLAIM"
RECEIVER_ID = "SANDBOXCH"


# Built once (a statement built per call is cache-keyed per call).
_BY_ATTEMPT = select(Submission).where(col(Submission.claim_id) == bindparam("b_claim_id"),
                                       col(Submission.attempt) == bindparam("b_attempt"))


def get_submission(*, session: Session, claim_id: int, attempt: int) -> Submission | None:
    return session.exec(_BY_ATTEMPT, params={"b_claim_id": claim_id, "b_attempt": attempt}).first()


def build_submission(
    *,
    session: Session,
    claim_id: int,
    attempt: int,
    frequency_code: str,
    original_reference: str | None,
    payer_name: str,
) -> Submission:
    existing = get_submission(session=session, claim_id=claim_id, attempt=attempt)
    if existing is not None:
        return existing
    claim = session.get(Claim, claim_id)
    if claim is None:
        raise LookupError(f"claim {claim_id} not found")
    document = document_of(claim)
    pcn = patient_control_number(claim_id, attempt)
    submission = Submission(
        claim_id=claim_id,
        attempt=attempt,
        patient_control_number=pcn,
        frequency_code=frequency_code,
        original_reference=original_reference,
        transaction_type="837I" if document.claim_type == "institutional" else "837P",
        document=claim.document,
    )
    try:
        with session.begin_nested():
            session.add(submission)
            session.flush()
    except IntegrityError:
        # Another worker built this attempt first; use theirs.
        found = get_submission(session=session, claim_id=claim_id, attempt=attempt)
        assert found is not None
        return found
    assert submission.id is not None
    # The submission id is unique and increasing: it is the ISA13 and GS06 control number,
    # so a 999 (AK1-02) names the submission it acknowledges.
    batch = Batch837(
        envelope=Envelope(
            sender_id=SUBMITTER_ID,
            receiver_id=RECEIVER_ID,
            interchange_control_number=submission.id,
            group_control_number=submission.id,
            transaction_control_number="0001",
            created=utcnow(),
        ),
        submitter=Party(name="RECLAIM BILLING", id=SUBMITTER_ID),
        receiver=Party(name="SANDBOX CLEARINGHOUSE", id=RECEIVER_ID),
        payer_name=payer_name,
        claims=[
            Claim837(
                document=document,
                patient_control_number=pcn,
                frequency_code=frequency_code,  # type: ignore[arg-type]
                payer_claim_control_number=original_reference,
            )
        ],
    )
    submission.x12 = write_837(batch)
    claim.attempts = max(claim.attempts, attempt)
    session.add(submission)
    session.add(claim)
    return submission


_SUBMISSIONS = Submission.__table__  # type: ignore[attr-defined]
# Built once (a statement built per call is cache-keyed per call); b_id is the WHERE's.
_MARK_SENT = _SUBMISSIONS.update().where(_SUBMISSIONS.c.id == bindparam("b_id"),
                                         _SUBMISSIONS.c.sent_at.is_(None))


def mark_sent(*, session: Session, submission_id: int, reference: str | None) -> bool:
    """Record the send; False when it was recorded before (a retried activity). One UPDATE
    that only an unsent submission matches: loading the row would read its 837 and document."""
    done = session.connection().execute(_MARK_SENT, {
        "b_id": submission_id, "status": "sent", "sent_at": utcnow(),
        "clearinghouse_ref": reference,
    })
    return bool(done.rowcount)
