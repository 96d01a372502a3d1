"""999 and 277CA posting: each answer stored as a PayerResponse row, matched to the submission
(a 999: our 837's GS06, from the partner it went to) or the claim (a 277CA: our CLM01) it
answers, and a warning on the file for each answer that matches none."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session

from reclaim.codes.claim_status import status_words
from reclaim.edi.matching import attempts_by_claim, match_pcn
from reclaim.edi.outbox import SIGNAL_KEYS, ClaimSignal, response_signal
from reclaim.models import EdiFile, PayerResponse, Submission
from reclaim.x12.models import Ack999, ClaimStatus277, ReadWarning, Status277CA
from reclaim.x12.read_277ca import read_277ca
from reclaim.x12.read_999 import read_999
from reclaim.x12.reader import first_envelope

# Warnings a file gets for answers that match nothing, at most (then a count of the rest).
UNMATCHED_WARNINGS = 20

# Built once: a statement built per call is also cache-keyed per call (b_*: the WHERE clause's).
_SUBMISSIONS = Submission.__table__  # type: ignore[attr-defined]
_INSERT_ANSWERS = PayerResponse.__table__.insert()  # type: ignore[attr-defined]
_SENT_SUBMISSION = sa_select(
    _SUBMISSIONS.c.id, _SUBMISSIONS.c.claim_id, _SUBMISSIONS.c.attempt, _SUBMISSIONS.c.x12,
).where(_SUBMISSIONS.c.id == bindparam("b_id"))
_SUBMISSION_STATUS = _SUBMISSIONS.update().where(_SUBMISSIONS.c.id == bindparam("b_id"))


def _answer(file_id: int, position: int, kind: str, *, claim_id: int | None,
            submission_id: int | None = None, attempt: int | None, accepted: bool,
            code: str | None, message: str | None,
            payer_claim_control_number: str | None = None) -> dict[str, Any]:
    """One PayerResponse row, every column named (an executemany takes rows of one shape)."""
    return {"edi_file_id": file_id, "position": position, "kind": kind, "claim_id": claim_id,
            "submission_id": submission_id, "attempt": attempt, "accepted": accepted,
            "code": code, "message": message,
            "payer_claim_control_number": payer_claim_control_number}


def _store_answers(session: Session, signals: list[ClaimSignal],
                   rows: list[dict[str, Any]]) -> None:
    """Store a 999's or 277CA's answers in one Core executemany; each matched one's signal is
    made from the same values, so a small file's signals need no reading back (in the file's
    order, as signal_page's)."""
    if not rows:
        return
    session.connection().execute(_INSERT_ANSWERS, rows)
    signals.extend(response_signal(*(row[key] for key in SIGNAL_KEYS))
                   for row in rows if row["claim_id"] is not None)


def _store_999(session: Session, edi: EdiFile, acks: list[Ack999],
               signals: list[ClaimSignal]) -> None:
    """A 999 answers the submission its AK1-02 names (our 837's GS06) only when it comes back
    from the partner that 837 went to and is addressed to us (`_partner_mismatch`); otherwise it
    is stored unmatched, with a warning on the file saying which envelope ids differ (or, when
    AK1-02 names no submission, that it answers none of ours)."""
    assert edi.id is not None
    rows: list[dict[str, Any]] = []
    unmatched: list[ReadWarning] = []
    connection = session.connection()
    for position, ack in enumerate(acks, start=1):
        found = connection.execute(_SENT_SUBMISSION, {"b_id": ack.group_control_number}).first()
        submission = SentSubmission(*found) if found is not None else None
        if submission is None:
            unmatched.append(ReadWarning(
                segment_index=ack.ak1_index, segment_id="AK1",
                message=(f"999 for group {ack.group_control_number} (AK1-02) answers no 837 "
                         "Reclaim sent: AK1-02 must be the GS06 of one of ours; stored "
                         "unmatched")))
        else:
            mismatch = _partner_mismatch(ack, submission)
            if mismatch is not None:
                unmatched.append(mismatch)
                submission = None
        errors = [e for t in ack.transactions for e in t.errors]
        accepted = ack.group_status in ("A", "E")
        rows.append(_answer(
            edi.id, position, "999",
            claim_id=submission.claim_id if submission else None,
            submission_id=submission.id if submission else None,
            attempt=submission.attempt if submission else None,
            accepted=accepted,
            code=ack.group_status,
            message=(errors[0].message or errors[0].code)[:255] if errors else None,
        ))
        if submission is None:
            edi.unmatched += 1
        else:
            edi.matched += 1
            connection.execute(_SUBMISSION_STATUS, {
                "b_id": submission.id, "status": "acknowledged" if accepted else "rejected"})
    _store_answers(session, signals, rows)
    _warn(edi, unmatched)


def _warn(edi: EdiFile, warnings: list[ReadWarning]) -> None:
    """Add warnings to the file's, the first UNMATCHED_WARNINGS of them and a count of the rest
    (a file of another submitter's answers would otherwise carry one per claim). A new list:
    the JSON column only sees an assignment, and an autoflush may have run."""
    if not warnings:
        return
    kept = [w.model_dump() for w in warnings[:UNMATCHED_WARNINGS]]
    if len(warnings) > UNMATCHED_WARNINGS:
        kept.append(ReadWarning(message=f"and {len(warnings) - UNMATCHED_WARNINGS} more answers "
                                        "not matched, not listed").model_dump())
    edi.warnings = [*(edi.warnings or []), *kept]


class SentSubmission(NamedTuple):
    """What a 999 is checked and matched against (_SENT_SUBMISSION's columns): not the whole
    Submission row, whose claim document a 999 does not need."""

    id: int
    claim_id: int
    attempt: int
    x12: str


def _same_id(got: str | None, wanted: str) -> bool:
    return (got or "").strip().upper() == wanted.strip().upper()


def _partner_mismatch(ack: Ack999, submission: SentSubmission) -> ReadWarning | None:
    """Why the 999 does not answer the submission's 837, None when it does: its sender
    (ISA05/ISA06, and GS02 when present) must be that 837's receiver and its receiver
    (ISA07/ISA08, GS03 when present) that 837's sender, trimmed and case-insensitive. The
    qualifier is part of an id (ZZ:RECLAIM and 01:RECLAIM are different parties), and the
    sandbox payer, like a real partner, answers with the 837's envelope turned round."""
    got, sent = ack.envelope, first_envelope(submission.x12)
    if sent is None:
        return ReadWarning(
            segment_index=ack.ak1_index, segment_id="AK1",
            message=(f"999 for group {ack.group_control_number} not matched to submission "
                     f"{submission.id}: that submission has no 837 it could answer"))
    checks = [
        ("ISA05", got.sender_qualifier, sent.receiver_qualifier, "our 837's ISA07"),
        ("ISA06", got.sender_id, sent.receiver_id, "our 837's ISA08"),
        ("ISA07", got.receiver_qualifier, sent.sender_qualifier, "our 837's ISA05"),
        ("ISA08", got.receiver_id, sent.sender_id, "our 837's ISA06"),
        ("GS02", got.application_sender, sent.application_receiver or sent.receiver_id,
         "our 837's GS03"),
        ("GS03", got.application_receiver, sent.application_sender or sent.sender_id,
         "our 837's GS02"),
    ]
    wrong = [(element, value, wanted, where) for element, value, wanted, where in checks
             if not (element.startswith("GS") and not value) and not _same_id(value, wanted)]
    if not wrong:
        return None
    in_isa = wrong[0][0].startswith("ISA")
    return ReadWarning(
        segment_index=ack.interchange_index if in_isa else ack.group_index,
        segment_id="ISA" if in_isa else "GS",
        message=(f"999 for group {ack.group_control_number} not matched to submission "
                 f"{submission.id}: the envelope does not answer that 837 ("
                 + "; ".join(f"{element} {(value or '').strip()!r} is not "
                             f"{wanted.strip()!r}, {where}"
                             for element, value, wanted, where in wrong) + ")"),
    )


def _store_277ca(session: Session, edi: EdiFile, statuses: list[Status277CA],
                 signals: list[ClaimSignal]) -> None:
    assert edi.id is not None
    rows: list[dict[str, Any]] = []
    attempts = attempts_by_claim(session, [i.patient_control_number for s in statuses
                                            for i in s.claims])
    items = (item for status in statuses for item in status.claims)
    unmatched: list[ReadWarning] = []
    for position, item in enumerate(items, start=1):
        claim_id, attempt = match_pcn(attempts, item.patient_control_number)
        if claim_id is None:
            unmatched.append(ReadWarning(
                segment_index=item.trn_index, segment_id="TRN",
                message=(f"277CA status for patient control number "
                         f"{item.patient_control_number!r} (TRN02) matches no claim Reclaim "
                         "sent: TRN02 must be the CLM01 of one of ours; stored unmatched")))
        rows.append(_answer(
            edi.id, position, "277CA",
            claim_id=claim_id,
            attempt=attempt,
            accepted=item.action == "accepted",
            # STC01 as sent: category:status, and the entity it names when there is one
            # (A7:562:85, the billing provider's NPI): the correction map routes by all three.
            code=":".join(p for p in (item.status_category, item.status_code, item.entity_code)
                          if p),
            message=(item.message or _status_words(item))[:255] or None,
            payer_claim_control_number=item.payer_claim_control_number,
        ))
        if claim_id is None:
            edi.unmatched += 1
        else:
            edi.matched += 1
    _store_answers(session, signals, rows)
    _warn(edi, unmatched)


def _status_words(item: ClaimStatus277) -> str:
    """What STC01 means, in our words (reclaim.codes.claim_status), when the payer sent no text."""
    try:
        return status_words(item.status_category, item.status_code, item.entity_code)
    except ValueError:
        return ""


# A 999's and a 277CA's reader, the key EdiFile.parsed keeps their answers under, and the store
# of their PayerResponse rows.
ANSWER_FILES: dict[str, tuple[Callable[[str], Any], str, Callable[..., None]]] = {
    "999": (read_999, "acknowledgments", _store_999),
    "277CA": (read_277ca, "statuses", _store_277ca),
}
