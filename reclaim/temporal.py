"""Connecting to Temporal the same way everywhere: pydantic payloads, PHI encrypted by the codec."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client, TLSConfig
from temporalio.converter import DataConverter
from temporalio.runtime import Runtime
from temporalio.service import RPCError, RPCStatusCode

from reclaim.codec import KeyRing
from reclaim.codec import data_converter as codec_converter
from reclaim.config import Settings
from reclaim.db import session_scope
from reclaim.ingest import (
    SIGNAL_PAGE,
    ClaimSignal,
    IngestResult,
    SignalCursor,
    mark_signalled,
    signal_page,
)

log = logging.getLogger(__name__)


def data_converter(settings: Settings) -> DataConverter:
    """pydantic payloads, encrypted (failures too) with the RECLAIM_PAYLOAD_KEY key ring."""
    return codec_converter(KeyRing.from_setting(settings.payload_key))


async def connect(settings: Settings, *, address: str | None = None,
                  runtime: Runtime | None = None) -> Client:
    tls: TLSConfig | bool = False
    if settings.temporal_tls_cert and settings.temporal_tls_key:
        tls = TLSConfig(
            client_cert=settings.temporal_tls_cert.read_bytes(),
            client_private_key=settings.temporal_tls_key.read_bytes(),
        )
    elif settings.temporal_api_key:
        tls = True
    return await Client.connect(
        address or settings.resolved_temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
        tls=tls,
        api_key=settings.temporal_api_key,
        runtime=runtime,
    )


async def deliver_signals(client: Client, signals: list[ClaimSignal], *, limit: int = 32) -> int:
    """Signal each claim's workflow, claims side by side but each claim's answers in the order
    given (a 277CA before its 835, a reversal before the corrected payment); a claim whose
    workflow is gone is logged, not fatal."""
    gate = asyncio.Semaphore(limit)
    delivered = 0
    by_claim: dict[int, list[ClaimSignal]] = {}
    for signal in signals:
        by_claim.setdefault(signal.claim_id, []).append(signal)

    async def one_claim(claim_id: int, answers: list[ClaimSignal]) -> None:
        nonlocal delivered
        async with gate:
            handle = client.get_workflow_handle(f"claim-{claim_id}")
            for signal in answers:
                try:
                    await handle.signal("edi_event", signal.event)
                    delivered += 1
                except RPCError as exc:
                    if exc.status != RPCStatusCode.NOT_FOUND:
                        raise
                    log.warning(
                        "claim workflow not running; event kept in the database",
                        extra={"claim_id": claim_id, "edi_kind": signal.event.kind},
                    )
                    return

    await asyncio.gather(*(one_claim(c, answers) for c, answers in by_claim.items()))
    return delivered


async def signal_file(client: Client, engine: Engine, file_id: int, *,
                      after: SignalCursor | None = (0, 0),
                      on_page: Callable[[SignalCursor | None], None] | None = None) -> None:
    """Every signal of a stored file, read and sent a page at a time (a 10,000-claim 835 never
    holds its 10,000 signals at once), then the file marked signalled. The flag is the outbox:
    a failure part-way leaves the file to be signalled again, and workflows ignore an event
    they already have. `on_page` runs once a page is delivered, with the cursor of the next (None
    once none is left: only the marking remains), for an activity to heartbeat; `after`, such a
    cursor from an earlier attempt, skips the pages it delivered (None: all of them)."""
    def page(start: SignalCursor) -> tuple[list[ClaimSignal], SignalCursor | None]:
        with session_scope(engine) as session:
            return signal_page(session=session, file_id=file_id, after=start)

    def mark() -> None:
        with session_scope(engine) as session:
            mark_signalled(session=session, file_id=file_id)

    cursor: SignalCursor | None = after
    while cursor is not None:
        signals, cursor = await asyncio.to_thread(page, cursor)
        if signals:
            await deliver_signals(client, signals)
        if on_page is not None:
            on_page(cursor)
    await asyncio.to_thread(mark)


# What a file's reading hands over with its result (ingest_file's collect_signals): a page.
COLLECT_SIGNALS = SIGNAL_PAGE


async def signal_ingested(client: Client, engine: Engine, result: IngestResult, *,
                          also: Callable[[Session], None] | None = None) -> None:
    """The signals of a file just ingested: those its reading collected (a small file, read
    with collect_signals=COLLECT_SIGNALS) are sent and the file marked signalled, with `also`
    in the same transaction; a big file's are paged from the database (signal_file), and
    `also` runs after them."""
    def finish(mark: bool) -> None:
        with session_scope(engine) as session:
            if mark:
                mark_signalled(session=session, file_id=result.file_id)
            if also is not None:
                also(session)

    if result.pending_signals and result.signals_collected:
        await deliver_signals(client, result.signals)
        await asyncio.to_thread(finish, True)
        return
    if result.pending_signals:
        await signal_file(client, engine, result.file_id)
    if also is not None:
        await asyncio.to_thread(finish, False)
