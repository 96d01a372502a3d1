"""A 999 answers our 837 only when it comes back from the partner the 837 went to and is
addressed to us: AK1-02 (our GS06, the submission id) alone is a number anyone's 999 can carry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert
from sqlmodel import Session, col, select

from reclaim.claims.schemas import ClaimDocument
from reclaim.claims.service import create_claim
from reclaim.db import session_scope
from reclaim.edi.ingest import IngestResult, ingest_file
from reclaim.models import Claim, EdiFile, PayerResponse, Submission
from reclaim.sandbox_payer.config import PayerConfig
from reclaim.sandbox_payer.service import PayerService
from reclaim.x12.read_999 import read_999
from reclaim.x12.reader import first_envelope
from reclaim.x12.write_payer import write_999
from tests.support import claim_doc, sent_submission

SAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "x12" / "999"


def submit(engine: Engine, *, submission_id: int | None = None) -> Submission:
    """A claim and its first 837, built as the workflow builds it (RECLAIM to SANDBOXCH) and
    sent; with `submission_id`, earlier submissions fill the ids below it first."""
    with session_scope(engine) as session:
        if submission_id is not None:
            filler = create_claim(session=session,
                                  document=ClaimDocument.model_validate(claim_doc()))
            session.flush()
            session.execute(insert(Submission), [dict(
                claim_id=filler.id, attempt=100 + n, patient_control_number=f"FILL{n}",
                document={}, x12="") for n in range(1, submission_id)])
        submission = sent_submission(session)
        assert submission_id is None or submission.id == submission_id
        session.expunge(submission)
    return submission


def sandbox_999(tmp_path: Path, submission: Submission) -> str:
    """The 999 the sandbox payer answers the submission's 837 with."""
    payer = PayerService(PayerConfig(data_dir=tmp_path, ack_delay=0, era_delay=0))
    try:
        return payer.receive(submission.x12.encode()).ack
    finally:
        payer.close()


def readdressed(ack_text: str, **envelope: Any) -> str:
    """The same 999 with some of its envelope ids changed."""
    [ack] = read_999(ack_text)
    return write_999(ack.model_copy(update={
        "envelope": ack.envelope.model_copy(update=envelope)}))


def ingest(engine: Engine, raw: str) -> IngestResult:
    with session_scope(engine) as session:
        return ingest_file(session=session, raw=raw, source="test")


def stored(engine: Engine, result: IngestResult) -> tuple[EdiFile, list[PayerResponse]]:
    with Session(engine) as session:
        edi = session.get(EdiFile, result.file_id)
        assert edi is not None
        rows = session.exec(select(PayerResponse).where(
            PayerResponse.edi_file_id == result.file_id)
            .order_by(col(PayerResponse.position))).all()
        return edi, list(rows)


def submission_status(engine: Engine, submission_id: int | None) -> str:
    with Session(engine) as session:
        found = session.get(Submission, submission_id)
        assert found is not None
        return found.status


def assert_unmatched(engine: Engine, result: IngestResult, submission: Submission,
                     read_warnings: int = 0) -> dict[str, Any]:
    """The 999 was stored, answering nothing, and the file has one warning more than reading it
    gave (after those): that warning."""
    edi, rows = stored(engine, result)
    assert (edi.status, edi.type, edi.matched, edi.unmatched) == ("processed", "999", 0, 1)
    assert [(r.kind, r.claim_id, r.submission_id, r.attempt) for r in rows] == [
        ("999", None, None, None)]
    assert result.signals == []
    assert result.signal_count == 0
    # The submission is still waiting for its answer.
    assert submission_status(engine, submission.id) == "sent"
    assert len(edi.warnings) == read_warnings + 1
    assert result.warnings == edi.warnings
    return edi.warnings[-1]


def test_the_public_imsweb_999_does_not_reject_our_submission_28(
        fresh_engine: Engine) -> None:
    submission = submit(fresh_engine, submission_id=28)
    raw = (SAMPLES / "imsweb-x12_999_rejected.txt").read_text()
    assert "AK1*HC*28*" in raw
    result = ingest(fresh_engine, raw)
    # Reading it warns once already: the sample has line breaks between segments.
    warning = assert_unmatched(fresh_engine, result, submission, read_warnings=1)
    assert (warning["segment_index"], warning["segment_id"]) == (1, "ISA")
    message = warning["message"]
    assert "submission 28" in message
    for part in ("ISA06 'EMEDNYBAT' is not 'SANDBOXCH'", "ISA08 'ETIN' is not 'RECLAIM'",
                 "GS02 'EMEDNY' is not 'SANDBOXCH'", "GS03 'ABCD' is not 'RECLAIM'"):
        assert part in message
    # Qualifiers agree (ZZ both ways): they are not named.
    assert "ISA05" not in message
    assert "ISA07" not in message
    with Session(fresh_engine) as session:
        claim = session.get(Claim, submission.claim_id)
        assert claim is not None
        assert claim.status == "submitted"


@pytest.mark.parametrize("change", [{}, {"sender_id": "sandboxch", "receiver_id": " reclaim",
                                         "application_sender": "SandboxCH",
                                         "application_receiver": "reclaim "}],
                         ids=["as sent", "other case and spaces"])
def test_a_999_from_the_partner_we_sent_the_837_to_still_matches(
        fresh_engine: Engine, tmp_path: Path, change: dict[str, str]) -> None:
    submission = submit(fresh_engine)
    ack_text = sandbox_999(tmp_path, submission)
    [ack] = read_999(ack_text)
    # The sandbox answers with our 837's envelope turned round.
    sent = first_envelope(submission.x12)
    assert sent is not None
    assert (ack.envelope.sender_id, ack.envelope.receiver_id) == (sent.receiver_id,
                                                                  sent.sender_id)
    assert ack.group_control_number == submission.id
    result = ingest(fresh_engine, readdressed(ack_text, **change) if change else ack_text)
    edi, rows = stored(fresh_engine, result)
    assert (edi.matched, edi.unmatched, edi.warnings) == (1, 0, [])
    accepted = ack.group_status in ("A", "E")
    assert [(r.claim_id, r.submission_id, r.attempt, r.accepted, r.code) for r in rows] == [
        (submission.claim_id, submission.id, 1, accepted, ack.group_status)]
    assert [(s.claim_id, s.event.kind, s.event.accepted) for s in result.signals] == [
        (submission.claim_id, "999", accepted)]
    assert submission_status(fresh_engine, submission.id) == (
        "acknowledged" if accepted else "rejected")


@pytest.mark.parametrize(
    ("change", "segment", "named"),
    [
        ({"receiver_id": "OTHERCLINIC", "application_receiver": "OTHERCLINIC"}, (1, "ISA"),
         ["ISA08 'OTHERCLINIC' is not 'RECLAIM'", "GS03 'OTHERCLINIC' is not 'RECLAIM'"]),
        ({"application_receiver": "OTHERCLINIC"}, (2, "GS"),
         ["GS03 'OTHERCLINIC' is not 'RECLAIM'"]),
        ({"receiver_qualifier": "01"}, (1, "ISA"), ["ISA07 '01' is not 'ZZ'"]),
        ({"sender_id": "OTHERCH", "application_sender": "OTHERCH"}, (1, "ISA"),
         ["ISA06 'OTHERCH' is not 'SANDBOXCH'", "GS02 'OTHERCH' is not 'SANDBOXCH'"]),
    ],
    ids=["another receiver", "another GS03 only", "another receiver qualifier",
         "another sender"],
)
def test_a_999_addressed_elsewhere_is_unmatched_saying_why(
        fresh_engine: Engine, tmp_path: Path, change: dict[str, str],
        segment: tuple[int, str], named: list[str]) -> None:
    submission = submit(fresh_engine)
    result = ingest(fresh_engine, readdressed(sandbox_999(tmp_path, submission), **change))
    warning = assert_unmatched(fresh_engine, result, submission)
    assert (warning["segment_index"], warning["segment_id"]) == segment
    message = warning["message"]
    assert f"not matched to submission {submission.id}" in message
    for part in named:
        assert part in message
    assert message.count(" is not ") == len(named)
