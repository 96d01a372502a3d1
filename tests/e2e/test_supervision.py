"""`reclaim up` supervises: a worker killed with -9 is started again (after a back-off, with a
line saying so) and claims still get paid."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import RunningStack
from tests.support import claim_doc

pytestmark = pytest.mark.e2e


def worker_pids(parent: int) -> list[int]:
    """The `cli worker` processes `reclaim up` (pid `parent`) started."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == parent and args[-3:-1] == [b"cli", b"worker"]:
            found.append(int(entry.name))
    return found


def test_a_killed_worker_is_restarted_and_claims_still_get_paid(
        running_stack: RunningStack, tmp_path: Path) -> None:
    [first] = worker_pids(running_stack.process.pid)
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 30
    restarted: list[int] = []
    while time.monotonic() < deadline:
        restarted = [pid for pid in worker_pids(running_stack.process.pid) if pid != first]
        if restarted:
            break
        time.sleep(0.2)
    assert restarted, (tmp_path / "up.out").read_text()
    out = (tmp_path / "up.out").read_text()
    assert "worker exited with code -9; restarting in 1.0s" in out
    assert "worker restarted (pid " in out
    with running_stack.client() as http:
        created = http.post("/api/v1/claims", json=claim_doc())
        assert created.status_code == 201, created.text
    running_stack.wait_claim(created.json()["id"], "paid")
    assert running_stack.process.poll() is None
