"""Request body limits: 413 before a body larger than its route allows is read into memory.

JSON bodies (claim documents, corrections, users) are small; the EDI upload and the Temporal
UI's codec calls are allowed more. Starlette's limiter does the counting (declared
Content-Length and streamed bytes alike); this picks the limit by path.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import Path, Query
from starlette.middleware.body_limit import RequestBodyLimitResponder
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

JSON_BODY_LIMIT = 1024 * 1024
CODEC_BODY_LIMIT = 16 * 1024 * 1024
# A payer file (999, 277CA, 835) posted to the API or uploaded on the payer files page.
MAX_EDI_BYTES = 50 * 1024 * 1024


class RequestSizeLimits:
    """Pure ASGI middleware: the first matching path prefix's limit, else `default`.

    A body over the limit is answered with `too_large`: a styled page that states the limit for
    the pages, a JSON problem under /api/. A declared Content-Length over the limit is refused
    before the app sees the request (the body is read and dropped, up to DRAIN_LIMIT, so the
    browser that is still sending it gets the answer, not a reset connection); a streamed one
    is stopped by Starlette's limiter as it goes, and its plain 413 replaced by ours."""

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
        limit = self.limit_for(scope["path"])
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await _drain(receive)
            await too_large(scope, limit, sent=declared)(scope, receive, send)
            return
        replaced = False

        async def send_ours(message: Message) -> None:
            nonlocal replaced
            if message["type"] == "http.response.start" and message["status"] == 413 \
                    and _plain_text(message):
                replaced = True
                await too_large(scope, limit)(scope, receive, send)
                return
            if not replaced:
                await send(message)

        responder = RequestBodyLimitResponder(self.app, limit)
        await responder(scope, receive, send_ours)


# How much of a refused body is read (and dropped) before answering; past it the connection is
# answered at once, whatever the client makes of it.
DRAIN_LIMIT = 256 * 1024 * 1024


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers") or []:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _drain(receive: Receive) -> None:
    read = 0
    while read <= DRAIN_LIMIT:
        message = await receive()
        if message["type"] != "http.request":
            return
        read += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


def _plain_text(message: Message) -> bool:
    return any(name == b"content-type" and value.startswith(b"text/plain")
               for name, value in message.get("headers") or [])


def size_words(size: int) -> str:
    """1048576 -> "1 MiB", 52494336 -> "50.1 MiB"."""
    for unit, factor in (("GiB", 1024 ** 3), ("MiB", 1024 ** 2), ("KiB", 1024)):
        if size >= factor:
            value = size / factor
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{size} bytes"


def too_large(scope: Scope, limit: int | None, *, sent: int | None = None) -> Response:
    """413 that says what the limit is: HTML for a browser's page, a JSON problem otherwise."""
    limit_text = size_words(limit) if limit else "the limit"
    what = "file" if scope["path"].startswith(("/files", "/api/v1/edi")) else "request"
    size = f" ({size_words(sent)})" if sent else ""
    detail = (f"The {what}{size} is larger than the {limit_text} this page accepts." if what ==
              "file" else f"The {what}{size} is larger than the {limit_text} accepted here.")
    accept = dict(scope.get("headers") or []).get(b"accept", b"").decode("latin-1")
    if scope["path"].startswith("/api/") or "text/html" not in accept:
        return JSONResponse(status_code=413, media_type="application/problem+json", content={
            "type": "about:blank", "title": "Content Too Large", "status": 413,
            "error": "too large", "detail": detail, "limit_bytes": limit})
    from starlette.requests import Request

    from api.pages.render import render

    hint = ("Split the file into smaller ones (a payer's portal can usually download a day or "
            "a check at a time), or send it through the clearinghouse mailbox."
            if what == "file" else "Send less at once.")
    return render(Request(scope), "pages/too_large.html",
                  {"title": "Too large", "detail": detail, "hint": hint,
                   "limit": limit_text, "back": "/files" if what == "file" else None},
                  status_code=413)


# An escaped NUL in JSON text (\u0000), not preceded by an escaping backslash.
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


class RejectNulBytes:
    """Pure ASGI middleware: a NUL in the path, a query parameter, a JSON body or a page's form
    post is a 422 naming where. No route wants one, and PostgreSQL refuses NUL in text: it
    would surface as a 500 from the first query that used the value
    (`GET /api/v1/claims?assignee=%00`), or, in a note that travels through a workflow to an
    activity, as an activity failing on every retry. (EDI
    uploads are not JSON: their NULs are replaced when the raw file is stored.)"""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        bad = _nul_field(scope)
        kind = _body_kind(scope)
        if bad is None and kind is not None:
            messages: list[Message] = []
            while True:
                message = await receive()
                messages.append(message)
                if message["type"] != "http.request" or not message.get("more_body", False):
                    break
            body = b"".join(m.get("body", b"") for m in messages)
            if kind == "json" and _JSON_NUL.search(body):
                bad = _nul_path(body)
            elif kind == "form" and (b"%00" in body or b"\x00" in body):
                bad = _nul_in_pairs(body.decode("latin-1"), "body")

            async def replay() -> Message:
                return messages.pop(0) if messages else await receive()

            receive = replay
        if bad is not None:
            await _nul_response(bad)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _nul_path(body: bytes) -> str:
    """Where in the JSON document the first NUL is, as validation errors name fields
    (`patient.first_name`, `lines[0].procedure`); `body` when it cannot be told."""
    try:
        document = json.loads(body)
    except ValueError:
        return "body"
    pending: list[tuple[str, Any]] = [("", document)]
    while pending:
        path, value = pending.pop(0)
        if isinstance(value, str):
            if "\x00" in value:
                return path or "body"
        elif isinstance(value, dict):
            for key, item in value.items():
                child = f"{path}.{key}" if path else str(key)
                if "\x00" in str(key):
                    return child.replace("\x00", "\\0")
                pending.append((child, item))
        elif isinstance(value, list):
            pending += [(f"{path}[{i}]", item) for i, item in enumerate(value)]
    return "body"


def _nul_response(field: str) -> JSONResponse:
    return JSONResponse(status_code=422, content={
        "error": "invalid request",
        "fields": [{"field": field, "message": "contains a NUL byte", "type": "nul_byte"}],
        "detail": f"{field}: contains a NUL byte",
    })


def _body_kind(scope: Scope) -> str | None:
    """"json" or "form" (a page's url-encoded form post) for the bodies checked for NUL; other
    bodies (X12, multipart uploads) may carry any byte."""
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            value = value.lower()
            if b"json" in value:
                return "json"
            if value.startswith(b"application/x-www-form-urlencoded"):
                return "form"
            return None
    return None


def _nul_in_pairs(encoded: str, where: str) -> str | None:
    """The first field of url-encoded pairs whose name or value holds a NUL."""
    for name, value in parse_qsl(encoded, keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return name.replace("\x00", "\\0") or where
    return None


def _nul_field(scope: Scope) -> str | None:
    if "\x00" in scope.get("path", ""):
        return "path"
    query = scope.get("query_string", b"").decode("latin-1")
    if "%00" not in query and "\x00" not in query:
        return None
    return _nul_in_pairs(query, "query")


def default_limits() -> dict[str, int]:
    # The payer files page's upload: the file and a little multipart framing around it.
    return {"/api/v1/edi": MAX_EDI_BYTES, "/files": MAX_EDI_BYTES + 64 * 1024,
            "/api/v1/codec": CODEC_BODY_LIMIT}


# Row ids are 32-bit on PostgreSQL (and 64-bit on SQLite): a larger one in a path or a filter is
# a 422 at the door, not an overflow in the driver.
MAX_ROW_ID = 2_147_483_647
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
OptionalRowId = Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)]
