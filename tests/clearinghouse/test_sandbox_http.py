"""SandboxClearinghouse over real HTTP: the sandbox payer's app served by uvicorn on a port, as
`reclaim up` serves it, and a server that fails, for the errors the worker's activities see."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

from reclaim.clearinghouse import ClearinghouseError, SandboxClearinghouse
from reclaim.sandbox_payer.app import create_payer_app
from reclaim.sandbox_payer.config import PayerConfig
from reclaim.x12.read_999 import read_999
from tests.ports import free_port
from tests.sandbox_payer.factories import claim837, file837


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """`app` on 127.0.0.1 until the block ends; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on"))
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(500):
            if server.started:
                break
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
def payer_app(tmp_path: Path) -> FastAPI:
    return create_payer_app(PayerConfig(data_dir=tmp_path, ack_delay=0, era_delay=0, seed=3,
                                        tick=0.02))


async def test_a_submission_is_acknowledged_and_its_files_fetched_once(payer_app: FastAPI) -> None:
    async with serving(payer_app) as url:
        clearinghouse = SandboxClearinghouse(url + "/")  # a trailing slash is fine
        try:
            receipt = await clearinghouse.submit(
                name="837-RC1-1.x12", x12=file837([claim837("RC1-1")], number=7))
            assert receipt.reference
            assert receipt.ack is not None
            [ack] = read_999(receipt.ack)
            assert ack.group_control_number == 7
            assert ack.group_status == "A"

            files: list[str] = []
            cursor = "0"
            for _ in range(300):  # the payer releases its 277CA and 835 on its next ticks
                batch = await clearinghouse.fetch(after=cursor)
                files += [f.name for f in batch]
                cursor = batch[-1].position if batch else cursor
                if len(files) >= 2:
                    break
                await asyncio.sleep(0.02)
            assert len(files) == 2, files
            assert await clearinghouse.fetch(after=cursor) == []
        finally:
            await clearinghouse.aclose()


async def test_a_refused_file_names_the_payers_reason(payer_app: FastAPI) -> None:
    async with serving(payer_app) as url:
        clearinghouse = SandboxClearinghouse(url)
        try:
            with pytest.raises(ClearinghouseError, match="refused the file: .*ISA"):
                await clearinghouse.submit(name="bad.x12", x12="NOT X12 AT ALL~")
        finally:
            await clearinghouse.aclose()


async def test_a_failing_clearinghouse_is_an_error_to_retry() -> None:
    broken = FastAPI()

    @broken.post("/837")
    def receive() -> PlainTextResponse:
        return PlainTextResponse("down for maintenance", status_code=503)

    @broken.get("/files")
    def files() -> PlainTextResponse:
        return PlainTextResponse("down for maintenance", status_code=502)

    async with serving(broken) as url:
        clearinghouse = SandboxClearinghouse(url)
        try:
            with pytest.raises(ClearinghouseError, match="answered 503"):
                await clearinghouse.submit(name="837.x12", x12="ISA*~")
            with pytest.raises(aiohttp.ClientResponseError) as failed:
                await clearinghouse.fetch(after="0")
            assert failed.value.status == 502
        finally:
            await clearinghouse.aclose()


async def test_a_closed_client_opens_again_and_an_unreachable_one_raises() -> None:
    clearinghouse = SandboxClearinghouse(f"http://127.0.0.1:{free_port()}", timeout_s=5)
    with pytest.raises(aiohttp.ClientConnectionError):
        await clearinghouse.fetch(after="0")
    await clearinghouse.aclose()
    with pytest.raises(aiohttp.ClientConnectionError):  # a new session after aclose
        await clearinghouse.fetch(after="0")
    await clearinghouse.aclose()
