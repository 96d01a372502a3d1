"""A 999 or 277CA answer that matches nothing Reclaim sent is stored, and the file says so with a
warning naming the segment (AK1, TRN) where the number that matched nothing is: a biller looking
at an unmatched count needs to know which answer and why."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine, update
from sqlmodel import col

from reclaim.db import session_scope
from reclaim.edi.answers import UNMATCHED_WARNINGS
from reclaim.models import Submission
from reclaim.x12.models import ClaimStatus277, Envelope, Status277CA
from reclaim.x12.read_999 import read_999
from reclaim.x12.reader import X12Reader
from reclaim.x12.write_payer import write_277ca, write_999
from tests.api.test_edi_999_partner import ingest, sandbox_999, stored, submit

SAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "x12"


def segment_ids(text: str) -> dict[int, str]:
    """Each segment's id by its 1-based index, inside the transaction sets."""
    return {segment.index: segment.id for transaction in X12Reader(text).transactions()
            for segment in transaction.segments()}


def test_a_999_for_a_group_we_never_sent_warns_at_its_ak1(
        fresh_engine: Engine, tmp_path: Path) -> None:
    submission = submit(fresh_engine)
    assert submission.id is not None
    [ack] = read_999(sandbox_999(tmp_path, submission))
    stray = write_999(ack.model_copy(update={"group_control_number": submission.id + 500}))
    result = ingest(fresh_engine, stray)
    edi, rows = stored(fresh_engine, result)
    assert (edi.matched, edi.unmatched) == (0, 1)
    assert [(r.claim_id, r.submission_id) for r in rows] == [(None, None)]
    [warning] = edi.warnings
    assert result.warnings == edi.warnings
    assert warning["segment_id"] == "AK1"
    assert segment_ids(stray)[warning["segment_index"]] == "AK1"
    assert f"999 for group {submission.id + 500} (AK1-02) answers no 837" in warning["message"]

    # The same 999 for the group we did send matches, and warns of nothing.
    matched = ingest(fresh_engine, write_999(ack))
    edi, _ = stored(fresh_engine, matched)
    assert (edi.matched, edi.unmatched, edi.warnings) == (1, 0, [])


def status(pcn: str) -> ClaimStatus277:
    return ClaimStatus277(patient_control_number=pcn, status_category="A1", status_code="20",
                          action="accepted", total_charge=Decimal("150.00"),
                          effective_date=date(2026, 11, 4), member_id="W123456789",
                          service_date=date(2026, 11, 2))


def report(*pcns: str) -> str:
    return write_277ca(Status277CA(
        envelope=Envelope(sender_id="SANDBOXCH", receiver_id="RECLAIM",
                          interchange_control_number=7, group_control_number=7,
                          created=datetime(2026, 11, 4, 9, 0)),
        payer_name="Sandbox Health", payer_id="SANDBOX",
        provider_name="Springfield Family Medicine",
        provider_npi="1234567893", claims=[status(p) for p in pcns]))


def test_a_277ca_status_for_no_claim_of_ours_warns_at_its_trn(fresh_engine: Engine) -> None:
    submission = submit(fresh_engine)
    text = report("RC999999-1", submission.patient_control_number)
    result = ingest(fresh_engine, text)
    edi, rows = stored(fresh_engine, result)
    assert (edi.matched, edi.unmatched) == (1, 1)
    assert [r.claim_id for r in rows] == [None, submission.claim_id]
    [warning] = edi.warnings
    assert warning["segment_id"] == "TRN"
    assert segment_ids(text)[warning["segment_index"]] == "TRN"
    assert "'RC999999-1' (TRN02) matches no claim" in warning["message"]


def test_the_public_277ca_sample_is_unmatched_each_status_named(fresh_engine: Engine) -> None:
    """imsweb's sample answers another submitter's claims: every status warns, at its TRN."""
    text = (SAMPLES / "277CA" / "imsweb-x12_277CA_accepted.txt").read_text()
    result = ingest(fresh_engine, text)
    edi, rows = stored(fresh_engine, result)
    assert edi.matched == 0
    assert edi.unmatched == len(rows) >= 1
    unmatched = [w for w in edi.warnings if "matches no claim" in w["message"]]
    assert len(unmatched) == len(rows)
    ids = segment_ids(text)
    assert {ids[w["segment_index"]] for w in unmatched} == {"TRN"}


def test_a_file_of_answers_for_another_submitter_lists_a_few_and_counts_the_rest(
        fresh_engine: Engine) -> None:
    pcns = [f"OTHER{n}" for n in range(UNMATCHED_WARNINGS + 5)]
    result = ingest(fresh_engine, report(*pcns))
    edi, _ = stored(fresh_engine, result)
    assert (edi.matched, edi.unmatched) == (0, len(pcns))
    assert len(edi.warnings) == UNMATCHED_WARNINGS + 1
    assert all(w["segment_id"] == "TRN" for w in edi.warnings[:-1])
    assert "'OTHER0'" in edi.warnings[0]["message"]
    assert edi.warnings[-1]["message"] == "and 5 more answers not matched, not listed"


def test_a_999_for_a_submission_without_its_837_answers_nothing(
        fresh_engine: Engine, tmp_path: Path) -> None:
    """A row the old build left without its 837 was never sent: no 999 answers it."""
    submission = submit(fresh_engine)
    [ack] = read_999(sandbox_999(tmp_path, submission))
    with session_scope(fresh_engine) as session:
        session.execute(update(Submission).where(col(Submission.id) == submission.id)
                        .values(x12=""))
    result = ingest(fresh_engine, write_999(ack))
    edi, rows = stored(fresh_engine, result)
    assert (edi.matched, edi.unmatched) == (0, 1)
    [warning] = edi.warnings
    assert warning["segment_id"] == "AK1"
    assert f"submission {submission.id}: that submission has no 837" in warning["message"]


def test_a_file_of_several_999s_states_each_warning_once(fresh_engine: Engine) -> None:
    """pyx12's sample holds four 999s for groups we never sent, with line breaks between its
    segments: the file-level warning once, then one per AK1."""
    text = (SAMPLES / "999" / "pyx12-834_lui_id_5010.999.txt").read_text()
    result = ingest(fresh_engine, text)
    edi, rows = stored(fresh_engine, result)
    assert (edi.matched, edi.unmatched, len(rows)) == (0, 4, 4)
    assert [w["segment_id"] for w in edi.warnings] == [None, "AK1", "AK1", "AK1", "AK1"]
    assert edi.warnings[0]["message"] == "line breaks between segments ignored"
    assert len({w["segment_index"] for w in edi.warnings[1:]}) == 4
