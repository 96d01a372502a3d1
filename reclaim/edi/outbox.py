"""The EDI signal outbox: what each claim's workflow is told of a stored payer file, and its
delivery.

Ingestion stores a file, then signals each claim's workflow, then marks the file signalled (the
flag is an outbox); a crash between those steps is retried by whoever ingested the file. Two
sweeps cover whatever slips past that (an API process killed after the store, a signal refused
by an overloaded server, a bug):

- `unsignalled_files`: files read more than `grace` ago and never marked signalled are signalled
  again, whoever ingested them;
- `stale_answers`: a claim still waiting on the payer for its current attempt while an answer
  for that attempt has been in the database longer than `grace` gets that answer signalled again.

Workflows ignore events they have already seen (same file and position), so a repeat costs one
workflow task and changes nothing.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from sqlalchemy import Engine, and_, bindparam, exists, or_, true
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from contracts.enums import AWAITING_ACK, AWAITING_PAYER
from contracts.messages import EdiEvent
from contracts.names import EDI_EVENT_SIGNAL, claim_workflow_id
from reclaim.db import session_scope
from reclaim.models import Claim, EdiFile, PayerResponse, Remittance, utcnow

log = logging.getLogger(__name__)

SIGNAL_PAGE = 500  # signals read from the database and sent at a time
# What a file's reading hands over with its result (ingest_file's collect_signals): a page.
COLLECT_SIGNALS = SIGNAL_PAGE


@dataclass
class ClaimSignal:
    claim_id: int
    event: EdiEvent


class IngestedFile(Protocol):
    """What signal_ingested needs of ingest_file's result (reclaim.edi.ingest.IngestResult)."""

    file_id: int
    signals: list[ClaimSignal]
    pending_signals: bool
    signals_collected: bool


# (0: 999/277CA answers, 1: 835 remittances; the position of the last signal given)
SignalCursor = tuple[int, int]

_EDI_FILES = EdiFile.__table__  # type: ignore[attr-defined]
_MARK_SIGNALLED = (_EDI_FILES.update()
                   .where(_EDI_FILES.c.id == bindparam("b_id"), _EDI_FILES.c.signalled.is_(False))
                   .values(signalled=True))


def mark_signalled(*, session: Session, file_id: int) -> None:
    """The file's signals are delivered (the outbox flag); the caller commits. A Core UPDATE:
    an EdiFile already loaded in this session does not see it."""
    session.connection().execute(_MARK_SIGNALLED, {"b_id": file_id})


def signals_for_file(*, session: Session, file_id: int,
                     file_type: str | None = None) -> list[ClaimSignal]:
    """Every signal of a file; with its type known, only the table that type fills is read."""
    signals: list[ClaimSignal] = []
    cursor: SignalCursor | None = (1, 0) if file_type == "835" else (0, 0)
    while cursor is not None:
        page, cursor = signal_page(session=session, file_id=file_id, after=cursor)
        signals += page
        if cursor == (1, 0) and file_type in ("999", "277CA"):
            break  # its answers are all read: a 999 or 277CA has no remittances
    return signals


def signal_page(
    *, session: Session, file_id: int, after: SignalCursor = (0, 0), limit: int | None = None
) -> tuple[list[ClaimSignal], SignalCursor | None]:
    """The file's next signals after `after` (at most `limit`, SIGNAL_PAGE by default, in file
    order: its 999/277CA answers, then its remittances), and the cursor for the next page, None
    after the last."""
    limit = limit or SIGNAL_PAGE
    signals: list[ClaimSignal] = []
    table, last = after
    if table == 0:
        responses = session.execute(
            sa_select(*RESPONSE_SIGNAL_COLUMNS)
            .where(col(PayerResponse.edi_file_id) == file_id,
                   col(PayerResponse.claim_id).is_not(None), col(PayerResponse.position) > last)
            .order_by(col(PayerResponse.position))
            .limit(limit)
        ).all()
        signals += [response_signal(*row) for row in responses]
        return signals, (0, responses[-1][1]) if len(responses) == limit else (1, 0)
    remits = session.execute(
        sa_select(*REMITTANCE_SIGNAL_COLUMNS)
        .where(col(Remittance.edi_file_id) == file_id, col(Remittance.claim_id).is_not(None),
               col(Remittance.position) > last)
        .order_by(col(Remittance.position))
        .limit(limit)
    ).all()
    signals += [remittance_signal(*row) for row in remits]
    return signals, (1, remits[-1][2]) if len(remits) == limit else None


# Only the columns a remittance's signal needs: the rows also carry each claim's JSON.
REMITTANCE_SIGNAL_COLUMNS = (col(Remittance.id), col(Remittance.edi_file_id),
                             col(Remittance.position), col(Remittance.claim_id),
                             col(Remittance.attempt), col(Remittance.payer_claim_control_number))


def remittance_signal(remittance_id: int, file_id: int, position: int, claim_id: int | None,
                      attempt: int | None, control_number: str | None) -> ClaimSignal:
    """The 835 event of one matched Remittance row (REMITTANCE_SIGNAL_COLUMNS, in order)."""
    assert claim_id is not None
    return ClaimSignal(claim_id, EdiEvent(
        file_id=file_id, position=position, kind="835", attempt=attempt or 0,
        remittance_id=remittance_id, payer_claim_control_number=control_number,
    ))


# Only the columns a 999/277CA answer's signal needs, in response_signal's order: as names (the
# keys of a row's dict, reclaim.edi.answers) and as columns.
SIGNAL_KEYS = ("edi_file_id", "position", "kind", "claim_id", "attempt", "accepted", "code",
               "message", "payer_claim_control_number")
RESPONSE_SIGNAL_COLUMNS = tuple(PayerResponse.__table__.c[key]  # type: ignore[attr-defined]
                                for key in SIGNAL_KEYS)


def response_signal(file_id: int, position: int, kind: str, claim_id: int | None,
                    attempt: int | None, accepted: bool | None, code: str | None,
                    message: str | None, control_number: str | None) -> ClaimSignal:
    """The 999 or 277CA event of one matched PayerResponse row (RESPONSE_SIGNAL_COLUMNS)."""
    assert claim_id is not None
    return ClaimSignal(claim_id, EdiEvent(
        file_id=file_id, position=position, kind=kind,
        attempt=attempt or 0, accepted=accepted, code=code, message=message,
        payer_claim_control_number=control_number,
    ))


# ------------------------------------------------------------------ the sweeps


def unsignalled_files(*, session: Session, grace: timedelta, limit: int = 20) -> list[int]:
    """Files read more than `grace` ago whose claims were never confirmed signalled, oldest
    first."""
    cutoff = utcnow() - grace
    return [file_id for file_id in session.exec(
        select(EdiFile.id)
        .where(col(EdiFile.status) == "processed", col(EdiFile.signalled).is_(False),
               col(EdiFile.received_at) < cutoff)
        .order_by(col(EdiFile.id))
        .limit(limit)
    ).all() if file_id is not None]


def stale_answers(*, session: Session, grace: timedelta, limit: int = 200,
                  exclude: Collection[int] = ()) -> list[ClaimSignal]:
    """Signals for claims that should have moved on an answer stored more than `grace` ago
    (the `exclude`d claims aside)."""
    cutoff = utcnow() - grace
    unposted_835 = exists().where(
        col(Remittance.claim_id) == Claim.id,
        col(Remittance.attempt) == Claim.attempts,
        col(Remittance.outcome).is_(None),
        col(Remittance.received_at) < cutoff,
    )
    unread_277 = exists().where(
        col(PayerResponse.claim_id) == Claim.id,
        col(PayerResponse.attempt) == Claim.attempts,
        col(PayerResponse.received_at) < cutoff,
        or_(col(PayerResponse.kind) == "277CA",
            and_(col(PayerResponse.kind) == "999", col(PayerResponse.accepted).is_(False))),
    )
    stuck = session.exec(
        select(Claim.id, Claim.attempts)
        .where(col(Claim.status).in_(AWAITING_PAYER), col(Claim.updated_at) < cutoff)
        .where(or_(unposted_835, and_(col(Claim.status).in_(AWAITING_ACK), unread_277)))
        .where(col(Claim.id).not_in(sorted(exclude)) if exclude else true())
        .order_by(col(Claim.updated_at))
        .limit(limit)
    ).all()
    signals: list[ClaimSignal] = []
    for claim_id, attempt in stuck:
        assert claim_id is not None
        signals += _answers(session, claim_id, attempt)
    return signals


def _answers(session: Session, claim_id: int, attempt: int) -> list[ClaimSignal]:
    """Every answer to this attempt, as ingestion signalled it (the keys match, so a workflow
    that has seen one ignores it)."""
    responses = session.execute(
        sa_select(*RESPONSE_SIGNAL_COLUMNS)
        .where(col(PayerResponse.claim_id) == claim_id, col(PayerResponse.attempt) == attempt)
        .order_by(col(PayerResponse.id))
    ).all()
    remits = session.execute(
        sa_select(*REMITTANCE_SIGNAL_COLUMNS)
        .where(col(Remittance.claim_id) == claim_id, col(Remittance.attempt) == attempt)
        .order_by(col(Remittance.id))
    ).all()
    return ([response_signal(*row) for row in responses]
            + [remittance_signal(*row) for row in remits])


# ------------------------------------------------------------------ delivery


async def deliver_signals(client: Client, signals: list[ClaimSignal], *, limit: int = 32,
                          on_signal: Callable[[], None] | None = None) -> int:
    """Signal each claim's workflow, claims side by side but each claim's answers in the order
    given (a 277CA before its 835, a reversal before the corrected payment); a claim whose
    workflow is gone is logged, not fatal. `on_signal` runs after each signal sent (an
    activity's liveness heartbeat)."""
    gate = asyncio.Semaphore(limit)
    delivered = 0
    by_claim: dict[int, list[ClaimSignal]] = {}
    for signal in signals:
        by_claim.setdefault(signal.claim_id, []).append(signal)

    async def one_claim(claim_id: int, answers: list[ClaimSignal]) -> None:
        nonlocal delivered
        async with gate:
            handle = client.get_workflow_handle(claim_workflow_id(claim_id))
            for signal in answers:
                try:
                    await handle.signal(EDI_EVENT_SIGNAL, signal.event)
                    delivered += 1
                    if on_signal is not None:
                        on_signal()
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
    once none is left: only the marking remains), for an activity to heartbeat; while a page is
    being sent it also runs after each signal with the page's own cursor (progress on a busy
    server, where a page can take longer than a heartbeat timeout: the SDK throttles the
    heartbeats themselves). `after`, such a cursor from an earlier attempt, skips the pages it
    delivered (None: all of them)."""
    def page(start: SignalCursor) -> tuple[list[ClaimSignal], SignalCursor | None]:
        with session_scope(engine) as session:
            return signal_page(session=session, file_id=file_id, after=start)

    def mark() -> None:
        with session_scope(engine) as session:
            mark_signalled(session=session, file_id=file_id)

    cursor: SignalCursor | None = after
    while cursor is not None:
        current = cursor
        signals, cursor = await asyncio.to_thread(page, current)
        if signals:
            await deliver_signals(client, signals, on_signal=None if on_page is None
                                  else functools.partial(on_page, current))
        if on_page is not None:
            on_page(cursor)
    await asyncio.to_thread(mark)


async def signal_ingested(client: Client, engine: Engine, result: IngestedFile, *,
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
