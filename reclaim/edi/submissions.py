"""Build the 837 for one claim attempt — once: a retried activity re-sends the same bytes."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from reclaim.claims.schemas import ClaimDocument
from reclaim.claims.service import patient_control_number
from reclaim.config import Settings
from reclaim.db import conflict_insert
from reclaim.models import Claim, Submission, utcnow
from reclaim.x12.models import Batch837, Claim837, Envelope, Party
from reclaim.x12.write_837 import write_837


@dataclass(frozen=True)
class TradingPartners:
    """Who an 837 is from (its submitter) and to (the clearinghouse): RECLAIM_SUBMITTER_ID,
    RECLAIM_RECEIVER_ID and their names (reclaim.config)."""

    submitter_id: str
    submitter_name: str
    receiver_id: str
    receiver_name: str

    @classmethod
    def of(cls, settings: Settings) -> TradingPartners:
        return cls(submitter_id=settings.submitter_id, submitter_name=settings.submitter_name,
                   receiver_id=settings.receiver_id, receiver_name=settings.receiver_name)


_SUBMISSIONS = Submission.__table__  # type: ignore[attr-defined]
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
    partners: TradingPartners,
) -> Submission:
    """The attempt's submission, its 837 written in the same transaction as its row: a worker
    killed halfway leaves neither. No savepoint: on SQLite (pysqlite's own transaction handling)
    releasing the outermost savepoint commits, which once left a row without its 837."""
    existing = get_submission(session=session, claim_id=claim_id, attempt=attempt)
    if existing is not None and existing.x12:
        return existing
    claim = session.get(Claim, claim_id)
    if claim is None:
        raise LookupError(f"claim {claim_id} not found")
    if existing is None:
        document = claim.document
        if frequency_code == "1" and document.get("frequency_code") in ("7", "8"):
            # Brought in (an 837 import) as a replacement or void of a claim the payer holds:
            # its first submission stays one.
            frequency_code = document["frequency_code"]
            original_reference = document.get("payer_claim_control_number")
        submission = _insert(session, claim, attempt, frequency_code, original_reference)
        if submission.x12:
            return submission  # another worker's, built at the same moment
    else:
        # Left without its 837 by a build that stopped halfway before the fix above; never
        # sent (there was nothing to send), so it is finished here as it would have been.
        submission = existing
    # The submission id is unique and increasing: it is the ISA13 and GS06 control number,
    # so a 999 (AK1-02) names the submission it acknowledges.
    assert submission.id is not None
    batch = Batch837(
        envelope=Envelope(
            sender_id=partners.submitter_id,
            receiver_id=partners.receiver_id,
            interchange_control_number=submission.id,
            group_control_number=submission.id,
            transaction_control_number="0001",
            created=utcnow(),
        ),
        submitter=Party(name=partners.submitter_name, id=partners.submitter_id),
        receiver=Party(name=partners.receiver_name, id=partners.receiver_id),
        payer_name=payer_name,
        claims=[
            Claim837(
                document=ClaimDocument.model_validate(submission.document),
                patient_control_number=submission.patient_control_number,
                frequency_code=submission.frequency_code,
                payer_claim_control_number=submission.original_reference,
            )
        ],
    )
    submission.x12 = write_837(batch)
    claim.attempts = max(claim.attempts, attempt)
    session.add(submission)
    session.add(claim)
    return submission


def _insert(session: Session, claim: Claim, attempt: int, frequency_code: str,
            original_reference: str | None) -> Submission:
    """The attempt's new row, without its 837 yet; or, when another worker inserted it at the
    same moment (a retry while the first try still runs), theirs, once they have committed:
    the INSERT waits for them and then inserts nothing."""
    assert claim.id is not None
    row = Submission(
        claim_id=claim.id,
        attempt=attempt,
        patient_control_number=patient_control_number(claim.id, attempt),
        frequency_code=frequency_code,
        original_reference=original_reference,
        transaction_type=("837I" if claim.document.get("claim_type") == "institutional"
                          else "837P"),
        document=claim.document,
    )
    new_id = session.execute(
        conflict_insert(session, Submission)
        .values(row.model_dump(exclude={"id"}))
        .on_conflict_do_nothing(index_elements=["claim_id", "attempt"])
        .returning(_SUBMISSIONS.c.id)
    ).scalar_one_or_none()
    if new_id is None:
        found = get_submission(session=session, claim_id=claim.id, attempt=attempt)
        assert found is not None
        return found
    return session.get_one(Submission, new_id)


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
