"""The database unavailable for 30 s while a claim is being worked: activities fail and are
retried by Temporal, nothing is lost, and the payer gets exactly one 837.

PostgreSQL: every connection goes through a TCP proxy that the test cuts (open connections
dropped, new ones refused). SQLite: another process holds the file's write lock."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from temporalio.testing import WorkflowEnvironment

from reclaim.config import Settings
from reclaim.db import get_engine, session_scope
from reclaim.demo import seed_people
from temporal_client import data_converter
from tests.conftest import PG_PREFIX, TEST_SERVER, SmtpSink, fresh_database_url
from tests.support import claim_doc
from tests.workflows.conftest import running_stack

pytestmark = pytest.mark.e2e
OUTAGE_SECONDS = 30


class TcpProxy:
    """A TCP proxy on its own thread and event loop: the test's own database calls block the
    test's loop, so a proxy living there would deadlock with them."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.server: asyncio.AbstractServer | None = None
        self.port = 0
        self.links: set[asyncio.StreamWriter] = set()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def _call(self, coro):  # type: ignore[no-untyped-def]
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)

    def start(self) -> None:
        self._call(self._start())

    def cut(self) -> None:
        self._call(self._cut())

    def close(self) -> None:
        self.cut()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)

    async def _start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _cut(self) -> None:
        if self.server is not None:
            self.server.close()
        for writer in list(self.links):
            writer.close()
        self.links.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self.links |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def _outage_pg(proxy: TcpProxy) -> None:
    proxy.cut()
    await asyncio.sleep(OUTAGE_SECONDS)
    proxy.start()


def _hold_sqlite_lock(path: str, ready: threading.Event) -> None:
    conn = sqlite3.connect(path, timeout=60, isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    ready.set()
    threading.Event().wait(OUTAGE_SECONDS)
    conn.execute("ROLLBACK")
    conn.close()


@pytest.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    environment = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(TEST_SERVER),
        data_converter=data_converter(Settings(payload_key="test-payload-key")),
    )
    yield environment
    await environment.shutdown()


async def test_database_unavailable_for_30_seconds(env: WorkflowEnvironment, tmp_path: Path,
                                                    settings: Settings, smtp: SmtpSink) -> None:
    url = fresh_database_url(tmp_path)
    proxy = None
    if os.environ.get("RECLAIM_DATABASE_URL", "").startswith(PG_PREFIX):
        parts = urlsplit(url)
        proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
        proxy.start()
        netloc = parts.netloc.replace(f"{parts.hostname}:{parts.port or 5432}",
                                      f"127.0.0.1:{proxy.port}")
        url = urlunsplit(parts._replace(netloc=netloc))
    engine = get_engine(url)
    with session_scope(engine) as session:
        seed_people(session)
    async with running_stack(env, engine, settings.model_copy(update={"database_url": url}),
                             tmp_path, smtp) as stack:
        claim_id = await stack.post(claim_doc())
        if proxy is not None:
            outage = asyncio.create_task(_outage_pg(proxy))
        else:
            ready = threading.Event()
            locker = threading.Thread(target=_hold_sqlite_lock,
                                      args=(url.split("///", 1)[1], ready))
            locker.start()
            await asyncio.to_thread(ready.wait, 10)
            outage = asyncio.create_task(asyncio.to_thread(locker.join))
        await outage
        await stack.wait_status(claim_id, "submitted", timeout=90)
        await stack.pump()
        await stack.wait_status(claim_id, "paid", timeout=60)
        received = stack.payer.service.submissions(patient_control_number=f"RC{claim_id}-1")
        assert len(received) == 1
    engine.dispose()
    if proxy is not None:
        proxy.close()
