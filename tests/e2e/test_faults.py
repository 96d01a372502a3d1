"""Faults survived: a second `make run` resumes in-flight claims, a worker killed with -9 while
100 claims are in flight, and the Temporal server restarted in the middle. Every claim reaches
the state it would have reached, and the sandbox payer received exactly one 837 per claim and
attempt."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import RunningStack, free_port, listening, start_stack, stop_stack
from tests.support import claim_doc

pytestmark = pytest.mark.e2e
TEMPORAL = Path(sys.executable).with_name("temporal")


def post_claims(stack: RunningStack, count: int) -> list[int]:
    ids = []
    with stack.client() as http:
        for i in range(count):
            doc = claim_doc(service_date=(date.today() - timedelta(days=3 + i % 20)).isoformat())
            response = http.post("/api/v1/claims", json=doc)
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
    return ids


def wait_all(stack: RunningStack, ids: list[int], status: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    pending = set(ids)
    with stack.client() as http:
        while pending and time.monotonic() < deadline:
            # One list request a round, as a biller's screen would: a GET per claim would add
            # an audit row each, a write storm on SQLite that no real client makes.
            page = http.get("/api/v1/claims", params={"status": status, "page_size": 500})
            pending -= {item["id"] for item in page.json()["items"]}
            time.sleep(0.5)
        if pending:
            stuck = sorted(pending)[:3]
            details = [http.get(f"/api/v1/claims/{claim_id}").json() for claim_id in stuck]
            print("stuck claims:", details)
            print(describe(stack, stuck))
            print(stack.logs()[-20000:])
    assert not pending, f"{len(pending)} claims never became {status}: {sorted(pending)[:10]}"


def describe(stack: RunningStack, ids: list[int]) -> str:
    """What Temporal says of stuck claims: pending activities, timers, the history's tail."""
    address = stack.env.get("RECLAIM_TEMPORAL_ADDRESS") or f"127.0.0.1:{stack.ports['temporal']}"
    out = []
    for claim_id in ids:
        for args in (["describe"], ["show"]):
            run = subprocess.run([str(TEMPORAL), "workflow", *args, "--address", address,
                                  "-w", f"claim-{claim_id}"], capture_output=True, text=True,
                                 timeout=30)
            out.append(run.stdout[-6000:] + run.stderr[-2000:])
    return "\n".join(out)


def assert_one_submission_each(stack: RunningStack, ids: list[int]) -> None:
    received = httpx.get(f"{stack.payer}/submissions", timeout=30).json()
    rows = received["submissions"] if isinstance(received, dict) else received
    counts = Counter(row["patient_control_number"] for row in rows)
    for claim_id in ids:
        assert counts[f"RC{claim_id}-1"] == 1, (claim_id, counts[f"RC{claim_id}-1"])


def start_worker(stack: RunningStack, log: Path) -> subprocess.Popen[bytes]:
    env = dict(stack.env, RECLAIM_SMTP_HOST="127.0.0.1")
    return subprocess.Popen([sys.executable, "-m", "cli", "worker"], env=env,
                            stdout=log.open("ab"), stderr=subprocess.STDOUT)


def test_a_second_run_resumes_in_flight_claims(tmp_path: Path) -> None:
    slow = {"RECLAIM_PAYER_ERA_DELAY": "15"}
    stack = start_stack(tmp_path, extra=slow)
    url = stack.env["RECLAIM_DATABASE_URL"]
    ids = post_claims(stack, 3)
    for claim_id in ids:
        stack.wait_claim(claim_id, "accepted")
    assert all(listening(port) for name, port in stack.ports.items() if name != "ui")
    # Ctrl-C: once `reclaim up` has exited, no part of it is left listening.
    assert stop_stack(stack) == 0
    assert [name for name, port in stack.ports.items() if listening(port)] == []
    stack = start_stack(tmp_path, extra=slow, database_url=url, ports=stack.ports)
    try:
        wait_all(stack, ids, "paid", timeout=90)
        assert_one_submission_each(stack, ids)
    finally:
        stop_stack(stack)


def test_kill_9_the_worker_with_100_claims_in_flight(tmp_path: Path) -> None:
    stack = start_stack(tmp_path, args=("--skip", "worker"),
                        extra={"RECLAIM_PAYER_ACK_DELAY": "1", "RECLAIM_PAYER_ERA_DELAY": "3"})
    worker = start_worker(stack, tmp_path / "worker.log")
    try:
        ids = post_claims(stack, 100)
        time.sleep(2)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
        time.sleep(2)
        worker = start_worker(stack, tmp_path / "worker.log")
        # Activities the kill interrupted wait out their start-to-close timeout (45 s to submit).
        wait_all(stack, ids, "paid", timeout=240)
        assert_one_submission_each(stack, ids)
    finally:
        worker.kill()
        stop_stack(stack)


def test_the_temporal_server_restarted_in_the_middle(tmp_path: Path) -> None:
    port = free_port()
    db = tmp_path / "temporal.db"
    command = [str(TEMPORAL), "server", "start-dev", "--headless", "--db-filename", str(db),
               "--ip", "127.0.0.1", "--port", str(port), "--log-level", "error",
               "--search-attribute", "ClaimStatus=Keyword", "--search-attribute",
               "PayerId=Keyword", "--search-attribute", "DenialRoute=Keyword",
               "--search-attribute", "AssignedTo=Keyword"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(3)
    stack = start_stack(tmp_path, args=("--skip", "temporal"),
                        extra={"RECLAIM_TEMPORAL_ADDRESS": f"127.0.0.1:{port}",
                               # a Temporal of its own is a shared deployment: own secrets
                               "RECLAIM_PAYLOAD_KEY": "fault test payload passphrase, long enough",
                               "RECLAIM_METRICS_TOKEN": "fault-test-metrics-token",
                               "RECLAIM_PAYER_ACK_DELAY": "1", "RECLAIM_PAYER_ERA_DELAY": "4"})
    try:
        ids = post_claims(stack, 20)
        time.sleep(1)
        server.terminate()
        server.wait(timeout=30)
        time.sleep(3)
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_all(stack, ids, "paid")
        assert_one_submission_each(stack, ids)
    finally:
        stop_stack(stack)
        server.terminate()
        server.wait(timeout=30)
