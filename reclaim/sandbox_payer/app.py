"""`reclaim payer`: the sandbox clearinghouse + payer as a FastAPI service.

POST /837 answers with a 999 at once; a background task releases the 277CA and 835 files when
their delay has passed, batched per payer and payee, and GET /files hands them out by `seq`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Literal

from fastapi import FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from reclaim.sandbox_payer.config import PayerConfig
from reclaim.sandbox_payer.service import PayerService, Receipt
from reclaim.sandbox_payer.store import Submission
from reclaim.x12.common import X12Error

log = logging.getLogger("reclaim.sandbox_payer")
MAX_FILES_PAGE = 1000


class FileOut(BaseModel):
    seq: int
    file_id: str
    type: Literal["277CA", "835"]
    name: str
    content: str
    created_at: datetime


class FilesPage(BaseModel):
    files: list[FileOut]
    last_seq: int  # the seq to pass as `after` next time


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    pending: int
    ack_delay: float
    era_delay: float


def create_payer_app(config: PayerConfig) -> FastAPI:
    service = PayerService(config)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(_release_forever(service))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            service.close()

    app = FastAPI(title="Reclaim sandbox payer", lifespan=lifespan)
    app.state.service = service
    _routes(app, service)
    return app


async def _release_forever(service: PayerService) -> None:
    while True:
        try:
            await asyncio.to_thread(service.release_due)
        except Exception:
            # A file that fails to build stays pending; log it and keep serving the others.
            log.exception("sandbox payer: releasing due files failed")
        await asyncio.sleep(service.config.tick)


def _routes(app: FastAPI, service: PayerService) -> None:
    @app.post("/837", response_model=Receipt)
    async def receive_837(request: Request) -> Receipt | JSONResponse:
        body = await request.body()
        if not body.strip():
            return JSONResponse(
                status_code=400,
                content={
                    "error": "empty body: send the 837 file as the request body",
                    "segment_index": None,
                    "segment_id": None,
                },
            )
        try:
            return await run_in_threadpool(service.receive, body)
        except X12Error as exc:
            return JSONResponse(
                status_code=400,
                content={
                    "error": str(exc),
                    "segment_index": exc.segment_index,
                    "segment_id": exc.segment_id,
                },
            )

    @app.get("/files", response_model=FilesPage)
    def files(
        after: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_FILES_PAGE)] = 100,
    ) -> FilesPage:
        released = service.store.released_files(after=after, limit=limit)
        page = [FileOut.model_validate(f.model_dump()) for f in released]
        return FilesPage(files=page, last_seq=page[-1].seq if page else after)

    @app.get("/submissions", response_model=list[Submission])
    def submissions(pcn: str | None = None) -> list[Submission]:
        return service.submissions(patient_control_number=pcn)

    @app.get("/healthz", response_model=Health)
    def healthz() -> Health:
        return Health(
            pending=service.store.pending_count(),
            ack_delay=service.config.ack_delay,
            era_delay=service.config.era_delay,
        )


def serve(config: PayerConfig, *, host: str = "127.0.0.1", port: int = 8001) -> None:
    """Run the payer until interrupted (what `reclaim payer` calls)."""
    import uvicorn

    uvicorn.run(create_payer_app(config), host=host, port=port, log_level="info")
