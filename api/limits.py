"""Request body limits: 413 before a body larger than its route allows is read into memory.

JSON bodies (claim documents, corrections, users) are small; the EDI upload and the Temporal
UI's codec calls are allowed more. Starlette's limiter does the counting (declared
Content-Length and streamed bytes alike); this picks the limit by path.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from starlette.middleware.body_limit import RequestBodyLimitResponder
from starlette.types import ASGIApp, Receive, Scope, Send

JSON_BODY_LIMIT = 1024 * 1024
CODEC_BODY_LIMIT = 16 * 1024 * 1024


class RequestSizeLimits:
    """Pure ASGI middleware: the first matching path prefix's limit, else `default`."""

    def __init__(self, app: ASGIApp, *, default: int = JSON_BODY_LIMIT,
                 by_prefix: dict[str, int] | None = None) -> None:
        self.app = app
        self.default = default
        self.by_prefix = sorted((by_prefix or {}).items(), key=lambda kv: -len(kv[0]))

    def limit_for(self, path: str) -> int:
        return next((limit for prefix, limit in self.by_prefix if path.startswith(prefix)),
                    self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        responder = RequestBodyLimitResponder(self.app, self.limit_for(scope["path"]))
        await responder(scope, receive, send)


def default_limits() -> dict[str, int]:
    from api.routes.edi import MAX_EDI_BYTES

    return {"/api/v1/edi": MAX_EDI_BYTES, "/api/v1/codec": CODEC_BODY_LIMIT}


# Row ids are 32-bit on PostgreSQL (and 64-bit on SQLite): a larger one in a path or a filter is
# a 422 at the door, not an overflow in the driver.
MAX_ROW_ID = 2_147_483_647
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
OptionalRowId = Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)]
