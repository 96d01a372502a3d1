"""The clearinghouse inbox: fetch what the payer sent, ingest it exactly once, signal claims;
and the signals of a big file posted to the API, sent after the API has answered."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session
from temporalio import activity
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from contracts.messages import PollRequest, PollResult, SignalFileRequest, SignalFileResult
from contracts.names import signal_workflow_id
from reclaim.clearinghouse import Clearinghouse
from reclaim.config import Settings
from reclaim.db import session_scope
from reclaim.edi.ingest import ingest_file
from reclaim.edi.outbox import (
    COLLECT_SIGNALS,
    SignalCursor,
    deliver_signals,
    signal_file,
    signal_ingested,
    stale_answers,
    unsignalled_files,
)
from reclaim.models import ClearinghouseCursor, EdiFile, utcnow

log = logging.getLogger(__name__)
CURSOR = "clearinghouse"
RESIGNAL_TRIES = 3


LIVENESS_S = 5.0  # a quarter of EdiSignalWorkflow's 20 s heartbeat timeout


async def _keep_alive(details: list[Any]) -> None:
    """Heartbeat `details` (kept current by the activity) every LIVENESS_S until cancelled: the
    server hears from a worker that is alive but waiting; a dead worker's loop sends nothing."""
    while True:
        await asyncio.sleep(LIVENESS_S)
        activity.heartbeat(*details)


def page_details(cursor: SignalCursor | None) -> list[int] | None:
    """What signal_stored_file heartbeats once a page is delivered: the next page's cursor as
    a JSON list, None when every page is."""
    return None if cursor is None else [cursor[0], cursor[1]]


def resume_from(details: Sequence[Any]) -> SignalCursor | None:
    """The cursor an earlier attempt's last heartbeat left (page_details): (0, 0) when it left
    none (the first attempt, or one that died before its first page), None when it had sent
    every page."""
    if not details:
        return (0, 0)
    last = details[0]
    if last is None:
        return None
    if (isinstance(last, list | tuple) and len(last) == 2
            and all(type(n) is int and n >= 0 for n in last)):
        return (last[0], last[1])
    log.warning("heartbeat details are no page cursor; signalling the file from its start")
    return (0, 0)


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
        # Only this run moves the cursor (the schedule runs one poll at a time): it is read once.
        cursor = await asyncio.to_thread(self._cursor)
        while True:
            if time.monotonic() >= next_sweep:
                await self.drain_outbox()
                resignalled += await self.resignal_stale()
                next_sweep = time.monotonic() + self.settings.reconcile_every.total_seconds()
            batch = await self.clearinghouse.fetch(after=cursor)
            for inbound in batch:
                problem = await self.ingest(inbound.content, filename=inbound.name,
                                            position=inbound.position)
                files += 1
                failed += 0 if problem is None else 1
                await self.clearinghouse.done(inbound, ok=problem is None,
                                              reason=f"unreadable X12: {problem}")
                cursor = inbound.position if inbound.position.isdigit() else cursor
                activity.heartbeat(inbound.position)
            activity.heartbeat()
            if time.monotonic() >= deadline:
                return PollResult(files=files, failed=failed, resignalled=resignalled)
            if not batch:
                await asyncio.sleep(request.interval_seconds)

    async def ingest(self, content: str, *, filename: str,
                     position: str | None = None) -> str | None:
        """Store, read and signal one file, then move the cursor past `position` (with the file's
        signalled flag, in one transaction); the reason it could not be read, or None."""
        def store():  # type: ignore[no-untyped-def]
            with session_scope(self.engine) as session:
                return ingest_file(session=session, raw=content, source="clearinghouse",
                                   filename=filename, collect_signals=COLLECT_SIGNALS)

        def advance(session: Session) -> None:
            if position is not None:
                advance_cursor(session, position)

        result = await asyncio.to_thread(store)
        if result.error is not None:
            log.warning("clearinghouse file unreadable", extra={"file_id": result.file_id})
            await asyncio.to_thread(self._advance, position)
            return str(result.error.get("detail") or "unreadable")
        await signal_ingested(self.client, self.engine, result, also=advance)
        return None

    @activity.defn
    async def signal_stored_file(self, request: SignalFileRequest) -> SignalFileResult:
        # The last cursor heartbeated, sent again every LIVENESS_S by a task of its own: the
        # work below waits for the worker's database threads, which claims' activities share,
        # and on a busy worker that wait alone can outlast the heartbeat timeout.
        details: list[Any] = list(activity.info().heartbeat_details)
        ticker = asyncio.create_task(_keep_alive(details))
        try:
            return await self._signal_stored_file(request, details)
        finally:
            ticker.cancel()

    async def _signal_stored_file(self, request: SignalFileRequest,
                                  details: list[Any]) -> SignalFileResult:
        """Every signal of a file POST /api/v1/edi stored but did not signal (it held more than
        RECLAIM_EDI_INLINE_SIGNALS), a page at a time, heartbeating the next page's cursor once
        a page is delivered; then the file is marked signalled. Idempotent: a file already
        marked signalled returns at once, and a retry after a failure part-way resumes after the
        last page the failed attempt heartbeated (a page it was sending when it died is sent
        again: workflows ignore the events they already have)."""
        file_id = request.file_id

        def state() -> tuple[str, bool] | None:
            with session_scope(self.engine) as session:
                edi = session.get(EdiFile, file_id)
                return None if edi is None else (edi.status, edi.signalled)

        found = await asyncio.to_thread(state)
        if found is None:
            # Another install's file (this worker polls the wrong task queue): loud and final.
            log.error("EDI file not found in this worker's database; refusing the task",
                      extra={"file_id": file_id, "task_queue": activity.info().task_queue})
            raise ApplicationError(f"EDI file {file_id} not found in this worker's database",
                                   type="NotFound", non_retryable=True)
        if found[1]:
            return SignalFileResult(file_id=file_id, outcome="already_signalled")
        if found[0] != "processed":
            log.warning("asked to signal a file that holds no signals",
                        extra={"file_id": file_id})
            return SignalFileResult(file_id=file_id, outcome="nothing_to_signal")
        info = activity.info()
        after = resume_from(info.heartbeat_details)
        if after != (0, 0):
            log.info("resuming a file's signals after the pages an earlier attempt sent",
                     extra={"file_id": file_id, "attempt": info.attempt})
        def on_page(cursor: SignalCursor | None) -> None:
            details[:] = [page_details(cursor)]
            activity.heartbeat(*details)

        await signal_file(self.client, self.engine, file_id, after=after, on_page=on_page)
        return SignalFileResult(file_id=file_id, outcome="signalled")

    async def drain_outbox(self) -> int:
        """Signal the files read a while ago and never marked signalled (whoever stored them
        died before signalling: an API process, a CLI import), a page at a time; the number of
        files. A file whose EdiSignalWorkflow is still running is left to it."""
        grace = self.settings.reconcile_grace

        def find() -> list[int]:
            with session_scope(self.engine) as session:
                return unsignalled_files(session=session, grace=grace)

        def heartbeat(_next: SignalCursor | None) -> None:
            if activity.in_activity():
                activity.heartbeat()  # the poller's liveness only: it never resumes from these

        files = await asyncio.to_thread(find)
        signalled = 0
        for file_id in files:
            if await self._delivery_running(file_id):
                continue
            log.warning("file stored but its claims never confirmed signalled; signalling",
                        extra={"file_id": file_id})
            await signal_file(self.client, self.engine, file_id, on_page=heartbeat)
            signalled += 1
        return signalled

    async def _delivery_running(self, file_id: int) -> bool:
        """Whether the worker is (or will be) sending this file's signals: a big file's take
        longer than the sweep's grace, and sending them twice at once doubles the load."""
        handle = self.client.get_workflow_handle(signal_workflow_id(file_id))
        try:
            description = await handle.describe()
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return False
            raise
        return description.status == WorkflowExecutionStatus.RUNNING

    async def resignal_stale(self) -> int:
        """Signal again the claims still waiting on an answer that was stored a while ago
        (reclaim.edi.outbox); the number of claims. A claim that has not moved after
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

    def _advance(self, position: str | None) -> None:
        if position is not None:
            with session_scope(self.engine) as session:
                advance_cursor(session, position)


def advance_cursor(session: Session, position: str) -> None:
    """The clearinghouse cursor moved past `position` (never back); the caller commits."""
    if not position.isdigit():
        return  # a mailbox moves files out of the inbox instead of keeping a cursor
    row = session.get(ClearinghouseCursor, CURSOR) or ClearinghouseCursor(name=CURSOR)
    row.position = max(row.position, int(position))
    row.updated_at = utcnow()
    session.add(row)
