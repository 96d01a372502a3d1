"""One big 835 through POST /api/v1/edi, against pyx12 alone tokenizing the same file.

    python bench/era_ingest.py [--n 10000] [--small 2500] [--db URL] [--inline-signals K]

Set-up (not timed): N claims waiting for their remittance (Claim rows `accepted`, attempt 1, and
their Submission rows), an 835 with one CLP per claim built as the sandbox payer builds it
(`adjudicate_claim` for each claim, batched into one remittance, `write_835`), an admin token,
and on an in-memory Temporal dev server one `claim-<id>` workflow per claim, started on a task
queue no worker polls: each signal is a real signal to an existing workflow (the server writes
it to the history), and no claim workflow is ever worked (bench/throughput.py measures that).
In this process a worker on the settings' task queue runs only the EdiSignalWorkflow and its
activity: a file with more than RECLAIM_EDI_INLINE_SIGNALS signals (500, or --inline-signals)
is answered 202 `"signals": "queued"` and signalled by it, as `reclaim worker` would.

Timed: the POST on `create_app()` through httpx's ASGI transport (store the raw file, read it,
match every claim, insert the remittances; signal every workflow and mark the file signalled
too when the file is at or under the threshold), and pyx12 reading the same text: `RawX12File`
iterating its segments (the `ratio` baseline) and `x12file.X12Reader` building each segment with
its elements (`ratio_x12reader`). Then `signalled_s`, from the POST's start until the file is
marked signalled (the posting process polls the database), and `signal_s`, the time spent
sending signals wherever they were sent (`deliver_signals` in the worker, or in the POST). The
same for a file of --small claims, to compare peak RSS growth.

Each POST runs in a fresh process of its own (this script with --post, on the same database and
dev server): the set-up above allocates and frees far more than ingestion does, and a POST in the
same process would grow into that freed memory and look flatter than it is. The child warms the
route up with a 5-claim 835 of the same claims, resets its RSS high-water mark, then posts the
file it has already read:
`rss_growth_mb` is the peak over the POST above the RSS just before it.

Prints figures, then one JSON line: {"bench": "era_ingest", "claims_per_s", "ratio",
"ratio_x12reader", "signalled_s", ...} with the ratios = POST time / pyx12 time.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pyx12.rawx12file
import pyx12.x12file
from common import (
    BILLING_NPI,
    emit,
    fresh_database,
    machine,
    say,
    start_dev_server,
    tree_cpu,
)
from era_close import close_phase
from sqlalchemy import Engine, insert
from temporalio.client import Client
from temporalio.worker import Worker

from activities.edi import EdiActivities
from api.app import create_app
from contracts.messages import ClaimInput
from reclaim.auth import create_user
from reclaim.claims.service import patient_control_number
from reclaim.clearinghouse import clearinghouse_from_setting
from reclaim.config import Settings
from reclaim.db import get_engine, session_scope
from reclaim.edi import outbox
from reclaim.edi.outbox import deliver_signals
from reclaim.models import Claim, EdiFile, Submission
from reclaim.sandbox_payer.adjudicate import adjudicate_claim
from reclaim.sandbox_payer.config import PACKAGED_RULES
from reclaim.sandbox_payer.rules import load_rules
from reclaim.sandbox_payer.service import payer_claim_number
from reclaim.x12.models import (
    ClaimPayment,
    Envelope,
    Payment,
    ReceivedClaim837,
    ReceivedLine837,
    Remittance835,
)
from reclaim.x12.read_835 import Stream835
from reclaim.x12.reader import first_type
from reclaim.x12.write_payer import write_835
from temporal_client import connect
from workflows.edi_signals import EdiSignalWorkflow

IDLE_QUEUE = "era-bench-no-worker"
START_CONCURRENCY = 64
INSERT_BATCH = 2000
CHARGE = Decimal("150.00")
UNKNOWN_CLAIM = 99_999_999  # a claim id no phase creates


# ---------------------------------------------------------------- memory


def rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux: 5 > /proc/self/clear_refs)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


# ---------------------------------------------------------------- set-up


def seed_claims(engine: Engine, *, count: int, first_id: int, service_date: date) -> list[int]:
    """Claims waiting for their 835 and the submission each was sent as, inserted in bulk."""
    now = datetime.now(UTC)
    ids = list(range(first_id, first_id + count))
    document = {"claim_type": "professional", "payer_id": "SANDBOX",
                "lines": [{"procedure": "99214", "modifiers": ["25"], "units": 1,
                           "charge": str(CHARGE), "diagnosis_pointers": [1, 2]}]}
    with session_scope(engine) as session:
        for start in range(0, count, INSERT_BATCH):
            chunk = ids[start:start + INSERT_BATCH]
            session.execute(insert(Claim), [{
                "id": claim_id, "status": "accepted", "claim_type": "professional",
                "payer_id": "SANDBOX", "patient_last_name": "Lee", "patient_first_name": "Ann",
                "member_id": f"W{claim_id:09d}", "billing_npi": BILLING_NPI,
                "service_date": service_date, "total_charge": CHARGE,
                "paid_amount": Decimal(0), "patient_responsibility": Decimal(0),
                "attempts": 1, "document": document, "findings": [],
                "workflow_id": f"claim-{claim_id}", "created_at": now, "updated_at": now,
            } for claim_id in chunk])
            session.execute(insert(Submission), [{
                "claim_id": claim_id, "attempt": 1,
                "patient_control_number": patient_control_number(claim_id, 1),
                "frequency_code": "1", "transaction_type": "837P", "x12": "",
                "document": document, "status": "acknowledged", "created_at": now,
                "sent_at": now,
            } for claim_id in chunk])
    return ids


def build_835(ids: list[int], *, service_date: date, control_number: int) -> str:
    """What the sandbox payer sends for these claims (member W<id>, as seed_claims gives them):
    each adjudicated by its rules (SANDBOX pays the fee schedule), batched into one remittance
    for one payee."""
    return build_835_for([(i, f"W{i:09d}") for i in ids], service_date=service_date,
                         control_number=control_number)


def build_835_for(claims: list[tuple[int, str]], *, service_date: date,
                  control_number: int) -> str:
    """build_835 for (claim id, member id) pairs."""
    rules = load_rules(PACKAGED_RULES)
    received = datetime.now(UTC)
    payments: list[ClaimPayment] = []
    for claim_id, member_id in claims:
        claim = ReceivedClaim837(
            claim_type="professional",
            patient_control_number=patient_control_number(claim_id, 1),
            total_charge=CHARGE, frequency_code="1", place_of_service="11",
            payer_id="SANDBOX", member_id=member_id, patient_first_name="ANN",
            patient_last_name="LEE", billing_npi=BILLING_NPI, rendering_npi="1245319599",
            service_date=service_date, diagnoses=["E119", "I10"],
            lines=[ReceivedLine837(procedure="99214", modifiers=["25"], charge=CHARGE,
                                   units=Decimal(1), service_date=service_date,
                                   diagnosis_pointers=[1, 2])],
        )
        result = adjudicate_claim(claim=claim, rules=rules, seed=0, received_on=received.date(),
                                  payer_claim_number=payer_claim_number("SANDBOX", received,
                                                                        claim_id))
        if result.payment is None:
            raise RuntimeError(f"the sandbox payer gave claim {claim_id} no remittance")
        payments.append(result.payment)
    payer = rules.payer("SANDBOX")
    if payer is None:
        raise RuntimeError("the packaged payer rules have no SANDBOX payer")
    total = sum((p.paid for p in payments), Decimal(0))
    envelope = Envelope(sender_id="SANDBOXPAYER", receiver_id="RECLAIM",
                        interchange_control_number=control_number,
                        group_control_number=control_number, created=received)
    return write_835(Remittance835(
        envelope=envelope,
        payer_name=payer.name,
        payer_id=payer.id,
        payee_name="SPRINGFIELD FAMILY MEDICINE",
        payee_npi=BILLING_NPI,
        payee_tax_id="371234567",
        production_date=received.date(),
        payment=Payment(amount=total, method="ACH" if total > 0 else "NON",
                        date=received.date(), trace_number=f"BENCH{control_number:09d}",
                        payer_identifier=f"1{payer.tax_id}"),
        claims=payments,
    ))


async def start_idle_workflows(client: Client, ids: list[int]) -> None:
    """`claim-<id>` executions that exist but are never worked: they take signals."""
    gate = asyncio.Semaphore(START_CONCURRENCY)

    async def one(claim_id: int) -> None:
        async with gate:
            await client.start_workflow("ClaimWorkflow", ClaimInput(claim_id=claim_id,
                                                                    search_attributes=False),
                                        id=f"claim-{claim_id}", task_queue=IDLE_QUEUE)

    await asyncio.gather(*(one(claim_id) for claim_id in ids))


# ---------------------------------------------------------------- timed


class SignalClock:
    """Times the deliver_signals calls of `signal_file` (otherwise untouched): the route's in
    the posting process, the delivery activity's in this one."""

    def __init__(self) -> None:
        self.seconds = 0.0

    async def __call__(self, client: Client, signals: list[Any], **kwargs: Any) -> int:
        started = time.perf_counter()
        try:
            return await deliver_signals(client, signals, **kwargs)
        finally:
            self.seconds += time.perf_counter() - started


def tokenize(text: str) -> tuple[float, int]:
    """pyx12 alone: RawX12File splitting the file into segments, nothing else."""
    started = time.perf_counter()
    segments = sum(1 for _ in pyx12.rawx12file.RawX12File(io.StringIO(text)))
    return time.perf_counter() - started, segments


def best(repeat: int, work: Any) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def read_ours(text: str) -> int:
    """Our reader as ingestion runs it: the first ST says 835, then one pass claim by claim."""
    first_type(text)
    return sum(1 for _ in Stream835(text))


def read_alone(text: str) -> dict[str, float]:
    """What else parses the file, for the breakdown: pyx12's own segment reader, and ours."""
    return {
        "pyx12_segments_s": best(2, lambda: sum(
            1 for _ in pyx12.x12file.X12Reader(io.StringIO(text)))),
        "read_s": best(2, lambda: read_ours(text)),
    }


# ---------------------------------------------------------------- the POST, in a child process

TOKEN_ENV = "RECLAIM_ERA_BENCH_TOKEN"
WARM_CLAIMS = 5
SIGNALLED_POLL_S = 0.01
SIGNALLED_WITHIN_S = 1800


def post_in_child(settings: Settings, address: str, token: str, path: Path,
                  warm: Path) -> dict[str, Any]:
    """This script with --post: a fresh process posts `warm` (untimed), then the file, waits
    for it to be marked signalled, and reports what the file took."""
    env = dict(os.environ, **{TOKEN_ENV: token})
    done = subprocess.run(
        [sys.executable, __file__, "--post", str(path), "--warm", str(warm),
         "--db", settings.resolved_database_url, "--temporal", address,
         "--data-dir", str(settings.data_dir),
         "--inline-signals", str(settings.edi_inline_signals)],
        env=env, capture_output=True, text=True, timeout=SIGNALLED_WITHIN_S + 600, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the POST process failed:\n{done.stdout[-2000:]}{done.stderr[-4000:]}")
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def bench_settings(data_dir: Path, database_url: str, inline_signals: int | None) -> Settings:
    settings = Settings(data_dir=data_dir, database_url=database_url,
                        payload_key="bench-payload-key", secret_key="bench-secret", demo=False)
    if inline_signals is None:
        return settings
    return settings.model_copy(update={"edi_inline_signals": inline_signals})


def is_signalled(engine: Engine, file_id: int) -> bool:
    with session_scope(engine) as session:
        edi = session.get(EdiFile, file_id)
        return edi is not None and edi.signalled


async def child_post(args: argparse.Namespace) -> dict[str, Any]:
    settings = bench_settings(Path(args.data_dir), args.db, args.inline_signals)
    client = await connect(settings, address=args.temporal)
    app = create_app(settings, client=client)
    body = Path(args.post).read_bytes()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=1800,
                                 headers={"Authorization": f"Bearer {os.environ[TOKEN_ENV]}"}
                                 ) as http:
        # A small 835 first, so what every first POST pays once (imports, compiled queries,
        # the client's first signals) is not counted against the file measured.
        warm = await http.post("/api/v1/edi", content=Path(args.warm).read_bytes(),
                               headers={"content-type": "application/edi-x12"})
        if warm.status_code != 202:
            raise SystemExit(f"POST /api/v1/edi answered {warm.status_code}: {warm.text[:500]}")
        clock = SignalClock()
        outbox.deliver_signals = clock  # type: ignore[assignment]
        gc.collect()
        reset = reset_peak()
        before = rss_kib("VmRSS")
        cpu = time.process_time()
        posted_at = time.time()
        started = time.perf_counter()
        response = await http.post("/api/v1/edi", content=body,
                                   headers={"content-type": "application/edi-x12"})
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu
        peak = rss_kib("VmHWM")
    if response.status_code != 202:
        raise SystemExit(f"POST /api/v1/edi answered {response.status_code}: "
                         f"{response.text[:500]}")
    answer = response.json()
    if answer["signals"] not in ("sent", "queued"):
        raise SystemExit(f"POST /api/v1/edi answered signals {answer['signals']!r}")
    # "sent": marked before the answer; "queued": the worker in the bench process marks it.
    engine = app.state.engine
    while not is_signalled(engine, answer["file_id"]):
        if answer["signals"] == "sent":
            raise SystemExit("the answer said sent but the file is not marked signalled")
        if time.perf_counter() - started > SIGNALLED_WITHIN_S:
            raise SystemExit(f"file {answer['file_id']} not signalled after "
                             f"{SIGNALLED_WITHIN_S} s")
        await asyncio.sleep(SIGNALLED_POLL_S)
    signalled = time.perf_counter() - started
    return {"ingest_s": elapsed, "signalled_s": signalled, "signal_s": clock.seconds,
            "posted_at": posted_at,
            "api_cpu_s": cpu, "answer": answer,
            "rss_before_kib": before, "rss_growth_kib": peak - before if reset else -1}


async def one_file(engine: Engine, client: Client, settings: Settings, token: str,
                   clock: SignalClock, *, count: int, first_id: int,
                   control_number: int) -> dict[str, Any]:
    service_date = date.today() - timedelta(days=10)
    ids = seed_claims(engine, count=count, first_id=first_id, service_date=service_date)
    text = build_835(ids, service_date=service_date, control_number=control_number)
    await start_idle_workflows(client, ids)
    tokenize_s = min(tokenize(text)[0] for _ in range(3))
    _, segments = tokenize(text)
    path = settings.data_dir / f"era-{count}.x12"
    path.write_text(text)
    warm = settings.data_dir / f"era-{count}-warm.x12"
    warm.write_text(build_835(ids[:WARM_CLAIMS], service_date=service_date,
                              control_number=control_number + 100))
    address = client.service_client.config.target_host
    server_cpu = tree_cpu().get("temporal", 0.0)
    clock.seconds = 0.0
    worker_cpu = time.process_time()
    # In a thread: this process's event loop runs the delivery worker meanwhile.
    posted = await asyncio.to_thread(post_in_child, settings, address, token, path, warm)
    worker_cpu = time.process_time() - worker_cpu
    server_cpu = tree_cpu().get("temporal", 0.0) - server_cpu
    signal_s = posted["signal_s"] + clock.seconds
    answer = posted["answer"]
    if answer["matched"] != count or answer["unmatched"]:
        raise SystemExit(f"matched {answer['matched']} and unmatched {answer['unmatched']} of "
                         f"{count} claims")
    parts = read_alone(text)
    ingest_s, growth = posted["ingest_s"], posted["rss_growth_kib"]
    say(f"{count} claims, {len(text) / 1e6:.1f} MB, {segments} segments: POST "
        f"{ingest_s:.2f} s (signals {answer['signals']}), signalled after "
        f"{posted['signalled_s']:.2f} s (sending signals {signal_s:.2f} s), tokenize "
        f"{tokenize_s:.3f} s, ratio {ingest_s / tokenize_s:.0f}; our reader alone "
        f"{parts['read_s']:.2f} s, pyx12 X12Reader {parts['pyx12_segments_s']:.2f} s "
        f"(ratio {ingest_s / parts['pyx12_segments_s']:.0f}); peak RSS growth "
        f"{growth / 1024:.1f} MiB over {posted['rss_before_kib'] / 1024:.0f} MiB; CPU: API "
        f"process {posted['api_cpu_s']:.2f} s over the POST, delivery worker "
        f"{worker_cpu:.2f} s, dev server {server_cpu:.2f} s")
    return {"claims": count, "bytes": len(text), "segments": segments, "ingest_s": ingest_s,
            "tokenize_s": tokenize_s, "signal_s": signal_s,
            "signalled_s": posted["signalled_s"], "signals": answer["signals"],
            "api_cpu_s": posted["api_cpu_s"], "worker_cpu_s": worker_cpu,
            "server_cpu_s": server_cpu, "rss_growth_mb": round(growth / 1024, 1), **parts}


async def pathological(settings: Settings, client: Client, token: str, *,
                       loops: int) -> dict[str, Any]:
    """One claim loop repeated `loops` times for a claim nobody has: every CLP unmatched."""
    service_date = date.today() - timedelta(days=10)
    stray = [(UNKNOWN_CLAIM, f"W{UNKNOWN_CLAIM:09d}")]
    text = build_835_for(stray * loops, service_date=service_date, control_number=3)
    path = settings.data_dir / "era-pathological.x12"
    path.write_text(text)
    warm = settings.data_dir / "era-pathological-warm.x12"
    warm.write_text(build_835_for(stray, service_date=service_date, control_number=4))
    address = client.service_client.config.target_host
    posted = await asyncio.to_thread(post_in_child, settings, address, token, path, warm)
    answer = posted["answer"]
    if answer["matched"] or answer["unmatched"] != loops:
        raise SystemExit(f"the pathological file: matched {answer['matched']}, unmatched "
                         f"{answer['unmatched']} of {loops}")
    say(f"pathological: one claim loop x {loops} ({len(text) / 1e6:.1f} MB), all unmatched: "
        f"answered in {posted['ingest_s']:.2f} s")
    return posted


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="reclaim-era-") as tmp:
        settings = bench_settings(Path(tmp), fresh_database(args.db, Path(tmp)),
                                  args.inline_signals)
        engine = get_engine(settings.resolved_database_url)
        with session_scope(engine) as session:
            _, token = create_user(session=session, username="era-bench", role="admin")
        env = await start_dev_server(settings)
        clock = SignalClock()
        outbox.deliver_signals = clock  # type: ignore[assignment]
        # The delivery worker alone: the claim workflows' queue (IDLE_QUEUE) stays unpolled.
        edi = EdiActivities(engine=engine, settings=settings, client=env.client,
                            clearinghouse=clearinghouse_from_setting(
                                settings.clearinghouse, payer_url=settings.payer_url))
        worker = Worker(env.client, task_queue=settings.task_queue,
                        workflows=[EdiSignalWorkflow], activities=[edi.signal_stored_file])
        try:
            async with worker:
                small = await one_file(engine, env.client, settings, token, clock,
                                       count=args.small, first_id=1, control_number=1)
                big = await one_file(engine, env.client, settings, token, clock,
                                     count=args.n, first_id=args.small + 1, control_number=2)
            strange = await pathological(settings, env.client, token, loops=args.loops)
            address = env.client.service_client.config.target_host

            def post(path: Path, warm: Path) -> dict[str, Any]:
                return post_in_child(settings, address, token, path, warm)

            closing = await close_phase(engine, env.client, settings, n=args.close,
                                        workdir=Path(tmp), post=post, build=build_835_for)
        finally:
            await env.shutdown()
    extra = args.n - args.small
    return {
        "bench": "era_ingest",
        "n": args.n,
        "claims_per_s": round(args.n / big["ingest_s"], 1),
        "ratio": round(big["ingest_s"] / big["tokenize_s"], 2),
        "ratio_x12reader": round(big["ingest_s"] / big["pyx12_segments_s"], 2),
        "ingest_s": round(big["ingest_s"], 4),
        "tokenize_s": round(big["tokenize_s"], 6),
        # How the POST answered ("sent" or "queued", by RECLAIM_EDI_INLINE_SIGNALS), when the
        # file was marked signalled (from the POST's start) and the time spent sending them.
        "signals": big["signals"],
        "inline_signals": settings.edi_inline_signals,
        "signalled_s": round(big["signalled_s"], 3),
        "signal_s": round(big["signal_s"], 3),
        # CPU seconds: the API process over the POST; the delivery worker's process and the dev
        # server from the warm-up POST until the file was signalled.
        "api_cpu_s": round(big["api_cpu_s"], 2),
        "worker_cpu_s": round(big["worker_cpu_s"], 2),
        "server_cpu_s": round(big["server_cpu_s"], 2),
        "read_s": round(big["read_s"], 3),
        "pyx12_segments_s": round(big["pyx12_segments_s"], 3),
        "file_mb": round(big["bytes"] / 1e6, 2),
        "segments": big["segments"],
        "rss_growth_mb": big["rss_growth_mb"],
        "small_n": args.small,
        "small_file_mb": round(small["bytes"] / 1e6, 2),
        "small_rss_growth_mb": small["rss_growth_mb"],
        # What each claim beyond the small file's adds to the peak (the file's text included).
        "rss_kib_per_extra_claim": (round((big["rss_growth_mb"] - small["rss_growth_mb"])
                                          * 1024 / extra, 2) if extra else None),
        "small_ratio": round(small["ingest_s"] / small["tokenize_s"], 2),
        # One claim loop repeated --loops times, matching no claim: the answer's time.
        "pathological_loops": args.loops,
        "pathological_s": round(strange["ingest_s"], 3),
        **closing,
        "database": settings.resolved_database_url.split(":", 1)[0],
        **machine(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="claims in the big 835")
    parser.add_argument("--small", type=int, default=2_500,
                        help="claims in the 835 compared for memory")
    parser.add_argument("--db", default=None, help="a PostgreSQL URL instead of SQLite")
    parser.add_argument("--inline-signals", type=int, default=None,
                        help="RECLAIM_EDI_INLINE_SIGNALS for the POST (default: the setting's)")
    parser.add_argument("--loops", type=int, default=20_000,
                        help="times the pathological file repeats its one unmatched claim")
    parser.add_argument("--close", type=int, default=1_000,
                        help="claims waiting for the 835 whose closing is timed")
    # The child process that posts one file (see the module's docstring).
    parser.add_argument("--post", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--warm", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--temporal", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if min(args.n, args.small, args.loops, args.close) < 1:
        parser.error("--n, --small, --loops and --close must be positive")
    if args.inline_signals is not None and args.inline_signals < 0:
        parser.error("--inline-signals cannot be negative")
    sys.dont_write_bytecode = False  # as in throughput.py: bytecode cached as by default
    if args.post:
        emit(asyncio.run(child_post(args)))
        return
    emit(asyncio.run(bench(args)))


if __name__ == "__main__":
    main()
