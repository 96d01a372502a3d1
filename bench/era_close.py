"""What a biller waits for after posting a payer's 835: every claim in it closed.

Run by bench/era_ingest.py (`--close N`, its `close_*` figures), after its ingestion phases and on
the same dev server and database:

Set-up (not timed): N claims created and started as `POST /api/v1/claims` does, on a worker
from `build_worker` with the real activities; the clearinghouse is a mailbox folder nobody
answers, so each claim is scrubbed, its 837 sent, and its workflow waits for the payer. One warm
claim is taken through its 835 first: its history after the 835 signal is what the bare
workflows replay.

Timed, claims: from the start of `POST /api/v1/edi` of one 835 carrying all N claims (each
adjudicated by the sandbox payer's rules; a fresh process posts it, as in the ingestion phases;
more than RECLAIM_EDI_INLINE_SIGNALS signals, so the worker's EdiSignalWorkflow sends them) to
the last of the N claim workflows closed, by the server's close times.

Timed, bare: N workflows (ids `claim-<id>` beyond the claims', on a worker with the claim worker's
settings) waiting for one signal, then replaying the warm claim's commands after its 835 signal
with no-op bodies; from the start of `deliver_signals` (the code that signals claims) sending
their N signals to the last closed.

`close_ratio` = claims' seconds / bare seconds (target ≤ 1.5).
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Protocol

from common import BareWorkflow, StepLog, claim_document, say
from sqlalchemy import Engine, func, text
from sqlmodel import Session, col, select
from temporalio.client import Client
from throughput import bare_worker, script_of, seed_directory, start_claim

from contracts.messages import EdiEvent
from reclaim.clearinghouse import MailboxClearinghouse
from reclaim.config import Settings
from reclaim.edi.outbox import ClaimSignal, deliver_signals
from reclaim.models import Claim
from worker import build_worker, use_database_threads

START_CONCURRENCY = 64
POLL_S = 0.05
WAIT_S = 1800
BARE_FIRST_ID = 10**8
BARE_QUEUE = "era-close-bare"
# The bench's own blocking waits (the posting child, its database polls) run here: the worker's
# database threads are the loop's default executor, and a wait parked on one of them (SQLite
# has one) would hold up the very activities it waits for.
_OWN = ThreadPoolExecutor(2, thread_name_prefix="era-close-bench")


async def _off_loop(call: Any, *args: Any) -> Any:
    return await asyncio.get_running_loop().run_in_executor(_OWN, call, *args)


class Poster(Protocol):
    """Posts one 835 in a process of its own and reports `posted_at` (epoch seconds)."""

    def __call__(self, path: Path, warm: Path) -> dict[str, Any]: ...


class Builder(Protocol):
    def __call__(self, claims: list[tuple[int, str]], *, service_date: date,
                 control_number: int) -> str: ...


def _count(engine: Engine, ids: list[int], status: str) -> int:
    with Session(engine) as session:
        found = session.exec(select(func.count()).select_from(Claim).where(
            col(Claim.id).in_(ids), col(Claim.status) == status)).one()
    return int(found)


async def _until(check: Any, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not await _off_loop(check):
        if time.monotonic() > deadline:
            raise SystemExit(f"{what}: not reached within {WAIT_S} s")
        await asyncio.sleep(POLL_S)


def _bump_sequence(engine: Engine) -> None:
    """The ingestion phases inserted claims with explicit ids: move PostgreSQL's sequence past
    them so created claims get fresh ones (SQLite takes max(id) + 1 by itself)."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("SELECT setval(pg_get_serial_sequence('claim', 'id'), "
                              "(SELECT max(id) FROM claim))"))


async def _waiting_claims(engine: Engine, client: Client, settings: Settings, *,
                          indices: range, service_date: date) -> list[int]:
    gate = asyncio.Semaphore(START_CONCURRENCY)

    async def one(index: int) -> int:
        async with gate:
            return await start_claim(engine, client, settings,
                                     claim_document(index, service_date=service_date))

    ids = list(await asyncio.gather(*(one(i) for i in indices)))
    await _until(lambda: _count(engine, ids, "submitted") == len(ids),
                 f"{len(ids)} claims sent and waiting")
    return ids


async def _last_close(client: Client, workflow_type: str, ids: list[int],
                      since: float) -> float:
    """The latest close time (epoch s) of these `claim-<id>` workflows, from visibility once it
    lists them all."""
    wanted = {f"claim-{i}" for i in ids}
    deadline = time.monotonic() + WAIT_S
    while True:
        closes: dict[str, float] = {}
        async for execution in client.list_workflows(
                f"WorkflowType = '{workflow_type}' AND ExecutionStatus = 'Completed'"):
            if execution.id in wanted and execution.close_time is not None:
                closes[execution.id] = execution.close_time.timestamp()
        if len(closes) == len(wanted):
            last = max(closes.values())
            if last < since:
                raise SystemExit(f"{workflow_type}: closed before the clock started")
            return last
        if time.monotonic() > deadline:
            raise SystemExit(f"{workflow_type}: {len(closes)} of {len(wanted)} closed after "
                             f"{WAIT_S} s")
        await asyncio.sleep(0.5)


async def _bare(client: Client, log: StepLog, *, script: list[str], n: int) -> float:
    """N bare workflows waiting for their signal, then the seconds from the first signal sent
    to the last of them closed."""
    ids = list(range(BARE_FIRST_ID, BARE_FIRST_ID + n))
    gate = asyncio.Semaphore(START_CONCURRENCY)

    async def start(claim_id: int) -> None:
        async with gate:
            await client.start_workflow(BareWorkflow.run, script, id=f"claim-{claim_id}",
                                        task_queue=BARE_QUEUE, result_type=int)

    await asyncio.gather(*(start(i) for i in ids))
    # Step 0 is a no-op that reports it ran: then the workflow waits for its signal.
    await asyncio.gather(*(log.wait(f"claim-{i}", 0) for i in ids))
    signals = [ClaimSignal(claim_id=i, event=EdiEvent(file_id=1, position=p, kind="835",
                                                       attempt=1, remittance_id=p + 1))
               for p, i in enumerate(ids)]
    started = time.time()
    await deliver_signals(client, signals)
    last = await _last_close(client, "BenchBareWorkflow", ids, started)
    for i in ids:
        log.forget(f"claim-{i}")
    return last - started


async def close_phase(engine: Engine, client: Client, settings: Settings, *, n: int,
                      workdir: Path, post: Poster, build: Builder) -> dict[str, Any]:
    _bump_sequence(engine)
    seed_directory(engine)
    service_date = date.today() - timedelta(days=5)
    mailbox = MailboxClearinghouse(workdir / "mailbox")
    worker = build_worker(client, settings, engine=engine, clearinghouse=mailbox,
                          executor=use_database_threads(settings))
    log = StepLog(asyncio.get_running_loop())
    bare = bare_worker(worker, BARE_QUEUE, log)

    def member(index: int) -> str:
        return str(claim_document(index)["patient"]["member_id"])

    async with worker, bare:
        # The warm claim: its commands after the 835 give the bare workflows their shape.
        warm = await _waiting_claims(engine, client, settings, indices=range(n, n + 1),
                                     service_date=service_date)
        text_warm = build([(warm[0], member(n))], service_date=service_date,
                          control_number=900)
        path = workdir / "close-warm.x12"
        path.write_text(text_warm)
        stray = workdir / "close-stray.x12"  # the child's own warm-up: claims nobody has
        stray.write_text(build([(BARE_FIRST_ID - 1, "W999999999")],
                               service_date=service_date, control_number=901))
        await _off_loop(post, path, stray)
        await _until(lambda: _count(engine, warm, "paid") == 1, "the warm claim paid")
        await client.get_workflow_handle(f"claim-{warm[0]}").result()
        steps = await script_of(client, warm[0])
        after = steps[len(steps) - 1 - steps[::-1].index("signal") + 1:]
        say("a claim's commands after its 835: " + ", ".join(after))

        started = time.perf_counter()
        ids = await _waiting_claims(engine, client, settings, indices=range(n),
                                    service_date=service_date)
        setup_s = time.perf_counter() - started
        say(f"{n} claims sent and waiting for their 835 after {setup_s:.1f} s")
        body = build([(i, member(index)) for index, i in enumerate(ids)],
                     service_date=service_date, control_number=902)
        path = workdir / "close.x12"
        path.write_text(body)
        posted = await _off_loop(post, path, stray)
        last = await _last_close(client, "ClaimWorkflow", ids, posted["posted_at"])
        claims_s = last - posted["posted_at"]
        paid = await _off_loop(_count, engine, ids, "paid")
        if paid != n:
            raise SystemExit(f"{paid} of {n} claims paid after their 835")
        say(f"claims: POST of {n} to the last closed {claims_s:.2f} s "
            f"(POST answered after {posted['ingest_s']:.2f} s)")

        bare_s = await _bare(client, log, script=["local", "signal", *after], n=n)
        say(f"bare: {n} signals to the last closed {bare_s:.2f} s")
    return {"close_n": n, "close_s": round(claims_s, 3), "close_bare_s": round(bare_s, 3),
            "close_ratio": round(claims_s / bare_s, 3), "close_setup_s": round(setup_s, 1),
            "close_post_s": round(posted["ingest_s"], 3)}
