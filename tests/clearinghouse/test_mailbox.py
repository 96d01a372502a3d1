"""The directory mailbox (RECLAIM_CLEARINGHOUSE=mailbox:PATH): 837s land in outbox/ whole, inbox
files are ingested exactly once and moved to processed/ or failed/ with the reason."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, func, select
from temporalio.testing import ActivityEnvironment

from activities.edi import EdiActivities
from contracts.messages import PollRequest
from reclaim.clearinghouse import MailboxClearinghouse, clearinghouse_from_setting
from reclaim.config import Settings
from reclaim.models import EdiFile
from tests.fuzz.conftest import SignalRecorder

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "x12"


async def test_submit_writes_the_837_whole_and_once(tmp_path: Path) -> None:
    box = clearinghouse_from_setting(f"mailbox:{tmp_path}", payer_url="unused")
    assert isinstance(box, MailboxClearinghouse)
    receipt = await box.submit(name="837-RC1-1.x12", x12="ISA*...~")
    assert receipt.ack is None
    assert receipt.reference == "837-RC1-1.x12"
    await box.submit(name="837-RC1-1.x12", x12="something else")  # a retried activity
    assert (tmp_path / "outbox" / "837-RC1-1.x12").read_text() == "ISA*...~"
    assert not list((tmp_path / "outbox").glob("*.part"))


async def test_inbox_files_are_processed_exactly_once(tmp_path: Path, fresh_engine: Engine,
                                                      settings: Settings) -> None:
    box = MailboxClearinghouse(tmp_path)
    good = (FIXTURES / "835" / "pyx12-835_mult_loops.txt").read_bytes()
    (tmp_path / "inbox" / "era-1.835").write_bytes(good)
    (tmp_path / "inbox" / "garbage.835").write_bytes(b"ISA*this is not a file")
    (tmp_path / "inbox" / "half.835.part").write_bytes(good[:100])  # still being written
    recorder = SignalRecorder()
    activities = EdiActivities(engine=fresh_engine, settings=settings, clearinghouse=box,
                               client=recorder)  # type: ignore[arg-type]
    env = ActivityEnvironment()
    result = await env.run(activities.poll_clearinghouse,
                           PollRequest(run_seconds=0, interval_seconds=0.01))
    assert (result.files, result.failed) == (2, 1)
    assert sorted(p.name for p in (tmp_path / "processed").iterdir()) == ["era-1.835"]
    failed = sorted(p.name for p in (tmp_path / "failed").iterdir())
    assert failed == ["garbage.835", "garbage.835.reason.txt"]
    assert "unreadable" in (tmp_path / "failed" / "garbage.835.reason.txt").read_text()
    assert [p.name for p in (tmp_path / "inbox").iterdir()] == ["half.835.part"]

    # The same file dropped again is a duplicate: nothing new stored.
    (tmp_path / "inbox" / "era-1-again.835").write_bytes(good)
    again = await env.run(activities.poll_clearinghouse,
                          PollRequest(run_seconds=0, interval_seconds=0.01))
    assert again.files == 1
    with Session(fresh_engine) as session:
        assert session.exec(select(func.count()).select_from(EdiFile)).one() == 2
