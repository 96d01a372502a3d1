"""The clearinghouse poller against the real sandbox payer (in process): each released file is
stored once, its claims are signalled in order, the file is marked signalled with the cursor moved
past it, and a second run starts from that cursor. The 999 a submission gets back is signalled
the same way."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.testing import ActivityEnvironment

from activities.claims import ClaimActivities
from activities.edi import CURSOR, EdiActivities
from contracts.messages import PollRequest, ScrubRequest, SubmitRequest
from reclaim.claims.schemas import ClaimDocument
from reclaim.claims.service import create_claim
from reclaim.config import Settings
from reclaim.db import session_scope
from reclaim.edi.ingest import ingest_file
from reclaim.edi.outbox import signal_ingested, signals_for_file
from reclaim.models import ClearinghouseCursor, EdiFile
from tests.fuzz.conftest import SignalRecorder
from tests.support import InProcessPayer, claim_doc


async def submitted_claims(engine: Engine, settings: Settings, payer: InProcessPayer,
                           client: SignalRecorder | None, count: int) -> list[int]:
    """`count` claims stored, scrubbed and submitted to the payer (each gets its 999 back)."""
    claims = ClaimActivities(engine=engine, settings=settings, clearinghouse=payer,
                             client=client)  # type: ignore[arg-type]
    env = ActivityEnvironment()
    ids = []
    for _ in range(count):
        with session_scope(engine) as session:
            claim = create_claim(session=session,
                                 document=ClaimDocument.model_validate(claim_doc()))
            assert claim.id is not None
        env.run(claims.scrub_claim, ScrubRequest(claim_id=claim.id, first_pass=True))
        await env.run(claims.submit_claim,
                      SubmitRequest(claim_id=claim.id, attempt=1, frequency_code="1"))
        ids.append(claim.id)
    return ids


def kinds(recorder: SignalRecorder) -> list[tuple[str, str]]:
    return [(s.workflow_id, s.arg.kind) for s in recorder.sent]


def files(engine: Engine) -> list[tuple[str | None, int, bool]]:
    with Session(engine) as session:
        rows = session.exec(select(EdiFile).order_by(EdiFile.id)).all()  # type: ignore[arg-type]
        return [(f.type, f.matched, f.signalled) for f in rows]


def cursor(engine: Engine) -> int | None:
    with Session(engine) as session:
        row = session.get(ClearinghouseCursor, CURSOR)
        return None if row is None else row.position


async def test_submissions_and_polls_signal_each_file_once_and_move_the_cursor(
    tmp_path: Path, fresh_engine: Engine, settings: Settings,
) -> None:
    payer = InProcessPayer(tmp_path / "payer")
    recorder = SignalRecorder()
    ids = await submitted_claims(fresh_engine, settings, payer, recorder, 2)
    # Each submission's 999 came back with it: stored, its claim signalled, marked signalled.
    assert kinds(recorder) == [(f"claim-{i}", "999") for i in ids]
    assert files(fresh_engine) == [("999", 1, True), ("999", 1, True)]

    payer.release()
    edi = EdiActivities(engine=fresh_engine, settings=settings, clearinghouse=payer,
                        client=recorder)  # type: ignore[arg-type]
    env = ActivityEnvironment()
    result = await env.run(edi.poll_clearinghouse,
                           PollRequest(run_seconds=0, interval_seconds=0.01))
    assert (result.files, result.failed) == (2, 0)
    # One 277CA and one 835 for both claims (the payer batches them), each claim's in order.
    assert files(fresh_engine)[2:] == [("277CA", 2, True), ("835", 2, True)]
    for claim_id in ids:
        mine = [kind for wf, kind in kinds(recorder) if wf == f"claim-{claim_id}"]
        assert mine == ["999", "277CA", "835"]
    released = payer.service.store.released_files(after=0, limit=10)
    assert cursor(fresh_engine) == released[-1].seq

    # The next run starts from the stored cursor: nothing is fetched or signalled again.
    sent = len(recorder.sent)
    again = await env.run(edi.poll_clearinghouse,
                          PollRequest(run_seconds=0, interval_seconds=0.01))
    assert (again.files, again.failed) == (0, 0)
    assert len(recorder.sent) == sent


async def test_a_file_with_more_signals_than_collected_is_paged_then_marked(
    tmp_path: Path, fresh_engine: Engine, settings: Settings,
) -> None:
    payer = InProcessPayer(tmp_path / "payer")
    recorder = SignalRecorder()
    ids = await submitted_claims(fresh_engine, settings, payer, None, 3)
    payer.release()
    released = payer.service.store.released_files(after=0, limit=10)
    # A 277CA's signals come from its reading, the same as reading them back (signal_page).
    status = next(f for f in released if f.name.startswith("277"))
    with session_scope(fresh_engine) as session:
        answers = ingest_file(session=session, raw=status.content, source="test",
                              collect_signals=3)
        assert answers.signals_collected
        assert [(s.claim_id, s.event.kind) for s in answers.signals] == [(i, "277CA") for i in ids]
        assert answers.signals == signals_for_file(session=session, file_id=answers.file_id)
    era = next(f for f in released if f.name.startswith("835"))
    with session_scope(fresh_engine) as session:
        # Three signals, more than the two this reading may collect: the caller pages them.
        result = ingest_file(session=session, raw=era.content, source="test",
                             collect_signals=2)
    assert (result.signal_count, result.signals_collected, result.signals) == (3, False, [])
    # At or under the limit, the reading hands them over (a repeat of an unsignalled file too).
    with session_scope(fresh_engine) as session:
        repeat = ingest_file(session=session, raw=era.content, source="test",
                             collect_signals=3)
    assert repeat.duplicate
    assert repeat.signals_collected
    assert [(s.claim_id, s.event.kind) for s in repeat.signals] == [(i, "835") for i in ids]

    seen: list[bool] = []

    def also(session: Session) -> None:  # runs once the signals are sent and marked
        stored = session.get(EdiFile, result.file_id)
        assert stored is not None
        seen.append(stored.signalled)

    await signal_ingested(recorder, fresh_engine, result, also=also)  # type: ignore[arg-type]
    assert kinds(recorder) == [(f"claim-{i}", "835") for i in ids]
    assert seen == [True]
    assert files(fresh_engine)[-1] == ("835", 3, True)
    with session_scope(fresh_engine) as session:
        again = ingest_file(session=session, raw=era.content, source="test",
                            collect_signals=3)
    assert again.duplicate
    assert not again.pending_signals
    assert not again.signals
