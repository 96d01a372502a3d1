"""The clearinghouse inbox: fetch what the payer sent, ingest it exactly once, signal claims."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter

from pydantic import BaseModel
from sqlalchemy import Engine
from temporalio import activity
from temporalio.client import Client

from reclaim.clearinghouse import Clearinghouse
from reclaim.config import Settings
from reclaim.db import session_scope
from reclaim.ingest import ingest_file
from reclaim.models import ClearinghouseCursor, utcnow
from reclaim.reconcile import stale_answers, unsignalled_files
from reclaim.temporal import deliver_signals, signal_file

log = logging.getLogger(__name__)
CURSOR = "clearinghouse"
RESIGNAL_TRIES = 3


class PollRequest(BaseModel):
    run_seconds: float = 55.0
    interval_seconds: float = 1.0


class PollResult(BaseModel):
    files: int
    failed: int
    resignalled: int = 0


class EdiActivities:
    def __init__(self, *, engine: Engine, settings: Settings, clearinghouse: Clearinghouse,
                 client: Client) -> None:
        self.engine = engine
        self.settings = settings
        self.clearinghouse = clearinghouse
        self.client = client
        # Claims the sweep has signalled again, and how often, in this worker's life.
        self._resignalled: Counter[int] = Counter()

    @activity.defn
    async def poll_clearinghouse(self, request: PollRequest) -> PollResult:
        """Polls for `run_seconds`, heartbeating; a worker that dies mid-way loses nothing: the
        cursor moves only after a file is stored and its claims are signalled."""
        deadline = time.monotonic() + request.run_seconds
        files = failed = resignalled = 0
        next_sweep = time.monotonic()
        while True:
            if time.monotonic() >= next_sweep:
                await self.drain_outbox()
                resignalled += await self.resignal_stale()
                next_sweep = time.monotonic() + self.settings.reconcile_every.total_seconds()
            batch = await self.clearinghouse.fetch(after=await asyncio.to_thread(self._cursor))
            for inbound in batch:
                problem = await self.ingest(inbound.content, filename=inbound.name)
                files += 1
                failed += 0 if problem is None else 1
                await self.clearinghouse.done(inbound, ok=problem is None,
                                              reason=f"unreadable X12: {problem}")
                await asyncio.to_thread(self._advance, inbound.position)
                activity.heartbeat(inbound.position)
            activity.heartbeat()
            if time.monotonic() >= deadline:
                return PollResult(files=files, failed=failed, resignalled=resignalled)
            if not batch:
                await asyncio.sleep(request.interval_seconds)

    async def ingest(self, content: str, *, filename: str) -> str | None:
        """Store, read and signal one file; the reason it could not be read, or None."""
        def store():  # type: ignore[no-untyped-def]
            with session_scope(self.engine) as session:
                return ingest_file(session=session, raw=content, source="clearinghouse",
                                   filename=filename, collect_signals=False)

        result = await asyncio.to_thread(store)
        if result.error is not None:
            log.warning("clearinghouse file unreadable", extra={"file_id": result.file_id})
            return str(result.error.get("detail") or "unreadable")
        if result.pending_signals:
            await signal_file(self.client, self.engine, result.file_id)
        return None

    async def drain_outbox(self) -> int:
        """Signal the files read a while ago and never marked signalled (whoever stored them
        died before signalling: an API process, a CLI import), a page at a time; the number of
        files."""
        grace = self.settings.reconcile_grace

        def find() -> list[int]:
            with session_scope(self.engine) as session:
                return unsignalled_files(session=session, grace=grace)

        heartbeat = activity.heartbeat if activity.in_activity() else None
        files = await asyncio.to_thread(find)
        for file_id in files:
            log.warning("file stored but its claims never confirmed signalled; signalling",
                        extra={"file_id": file_id})
            await signal_file(self.client, self.engine, file_id, on_page=heartbeat)
        return len(files)

    async def resignal_stale(self) -> int:
        """Signal again the claims still waiting on an answer that was stored a while ago
        (reclaim.reconcile); the number of claims. A claim that has not moved after
        RESIGNAL_TRIES repeats has something else wrong with it: it is reported once, then left
        to the people who watch the error log."""
        given_up = {c for c, n in self._resignalled.items() if n >= RESIGNAL_TRIES}

        def find():  # type: ignore[no-untyped-def]
            with session_scope(self.engine) as session:
                return stale_answers(session=session, grace=self.settings.reconcile_grace,
                                     exclude=given_up)

        signals = await asyncio.to_thread(find)
        if not signals:
            return 0
        claims = sorted({s.claim_id for s in signals})
        log.warning("payer answers stored but not acted on; signalling again",
                    extra={"count": len(claims)})
        await deliver_signals(self.client, signals)
        for claim_id in claims:
            self._resignalled[claim_id] += 1
            if self._resignalled[claim_id] == RESIGNAL_TRIES:
                log.error("claim still waits on stored payer answers after signalling them "
                          "again; look at its workflow", extra={"claim_id": claim_id})
        return len(claims)

    def _cursor(self) -> str:
        with session_scope(self.engine) as session:
            row = session.get(ClearinghouseCursor, CURSOR)
            return str(row.position) if row else "0"

    def _advance(self, position: str) -> None:
        if not position.isdigit():
            return  # a mailbox moves files out of the inbox instead of keeping a cursor
        with session_scope(self.engine) as session:
            row = session.get(ClearinghouseCursor, CURSOR) or ClearinghouseCursor(name=CURSOR)
            row.position = max(row.position, int(position))
            row.updated_at = utcnow()
            session.add(row)
