"""The real stack as `make run` starts it (`reclaim up`), on free ports and a database of its
own."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import fresh_database_url
from tests.ports import free_port

ADMIN_TOKEN = "e2e-admin-token-0123456789"


@dataclass
class RunningStack:
    process: subprocess.Popen[bytes]
    api: str
    payer: str
    smtp_port: int
    data_dir: Path
    env: dict[str, str]
    ports: dict[str, int]

    def client(self, token: str = ADMIN_TOKEN) -> httpx.Client:
        return httpx.Client(base_url=self.api, timeout=30,
                            headers={"Authorization": f"Bearer {token}"})

    def wait_claim(self, claim_id: int, *statuses: str, timeout: float = 90) -> dict:  # type: ignore[type-arg]
        deadline = time.monotonic() + timeout
        body: dict = {}  # type: ignore[type-arg]
        with self.client() as http:
            while time.monotonic() < deadline:
                body = http.get(f"/api/v1/claims/{claim_id}").json()
                if body.get("status") in statuses:
                    return body
                time.sleep(0.3)
        raise AssertionError(f"claim {claim_id} stayed {body.get('status')}; wanted {statuses}")

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")
                         for p in sorted((self.data_dir / "logs").glob("*.log")))


def start_stack(tmp_path: Path, *, demo: bool = False, extra: dict[str, str] | None = None,
                database_url: str | None = None, args: tuple[str, ...] = (),
                ports: dict[str, int] | None = None) -> RunningStack:
    ports = ports or {name: free_port() for name in ("api", "payer", "smtp", "temporal", "ui")}
    env = dict(os.environ)
    env.update({
        "RECLAIM_DATA_DIR": str(tmp_path / "var"),
        "RECLAIM_DATABASE_URL": database_url or fresh_database_url(tmp_path),
        "RECLAIM_API_PORT": str(ports["api"]),
        "RECLAIM_PAYER_URL": f"http://127.0.0.1:{ports['payer']}",
        "RECLAIM_SMTP_PORT": str(ports["smtp"]),
        "RECLAIM_TEMPORAL_PORT": str(ports["temporal"]),
        "RECLAIM_TEMPORAL_UI_PORT": str(ports["ui"]),
        "RECLAIM_PAYER_ACK_DELAY": "0.3",
        "RECLAIM_PAYER_ERA_DELAY": "0.6",
        "RECLAIM_CLEARINGHOUSE_POLL_SECONDS": "0.2",
        "RECLAIM_ADMIN_TOKEN": ADMIN_TOKEN,
        "RECLAIM_DEMO": "1" if demo else "0",
    })
    env.pop("RECLAIM_TEMPORAL_ADDRESS", None)
    env.pop("RECLAIM_SMTP_HOST", None)
    env.update(extra or {})
    out = (tmp_path / "up.out").open("ab")
    process = subprocess.Popen([sys.executable, "-m", "cli", "up", *args], env=env,
                               stdout=out, stderr=subprocess.STDOUT, cwd=Path.cwd())
    stack = RunningStack(process, f"http://127.0.0.1:{ports['api']}",
                         f"http://127.0.0.1:{ports['payer']}", ports["smtp"],
                         tmp_path / "var", env, ports)
    deadline = time.monotonic() + 90
    seen = (tmp_path / "up.out").read_text(errors="replace").count("Reclaim is running")
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError("reclaim up exited:\n" + (tmp_path / "up.out").read_text())
        if (tmp_path / "up.out").read_text(errors="replace").count("Reclaim is running") > seen:
            return stack
        time.sleep(0.3)
    stop_stack(stack)
    raise AssertionError("reclaim up did not start:\n" + (tmp_path / "up.out").read_text())


def stop_stack(stack: RunningStack) -> int:
    if stack.process.poll() is None:
        stack.process.send_signal(signal.SIGINT)
        try:
            return stack.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            stack.process.kill()
    return stack.process.wait()


def listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def running_stack(tmp_path: Path) -> Iterator[RunningStack]:
    stack = start_stack(tmp_path)
    try:
        yield stack
    finally:
        stop_stack(stack)
