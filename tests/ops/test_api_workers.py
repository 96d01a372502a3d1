"""`reclaim api --workers N`: N processes serve one port, each with this install's settings."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import fresh_database_url
from tests.ports import free_port

pytestmark = pytest.mark.e2e


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        found += [int(c) for c in task.read_text().split()]
    return found


def test_two_api_processes_answer_on_one_port_with_the_install_s_task_queue(
        tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECLAIM_")}
    env.update({"RECLAIM_DATA_DIR": str(tmp_path / "var"),
                "RECLAIM_DATABASE_URL": fresh_database_url(tmp_path),
                "RECLAIM_API_PORT": str(port), "RECLAIM_METRICS_TOKEN": "t" * 20,
                "RECLAIM_DEMO": "0"})
    (tmp_path / "var").mkdir()
    log = tmp_path / "api.log"
    process = subprocess.Popen([sys.executable, "-m", "cli", "api", "--workers", "2"], env=env,
                               stdout=log.open("wb"), stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        serving: list[int] = []
        while time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()
            serving = [c for c in children(process.pid)
                       if "spawn_main" in Path(f"/proc/{c}/cmdline").read_text()]
            try:
                if len(serving) == 2 and httpx.get(f"http://127.0.0.1:{port}/healthz",
                                                   timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        else:
            raise AssertionError(f"two API processes did not answer:\n{log.read_text()}")
        # Every process builds its app with the queue `reclaim api` resolved for this install
        # (var/install_id), not the bare default a plain environment would give it.
        queue = (tmp_path / "var" / "install-id").read_text().strip()
        for child in serving:
            environ = Path(f"/proc/{child}/environ").read_bytes().split(b"\0")
            named = [e for e in environ if e.startswith(b"RECLAIM_TASK_QUEUE=")]
            assert named, environ
            assert queue in named[0].decode()
        for _ in range(6):
            assert httpx.get(f"http://127.0.0.1:{port}/login", timeout=5).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=20)
