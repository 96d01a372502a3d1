"""One error shape for the API: {"error": ..., "detail": ...}; validation errors name the field."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

log = logging.getLogger(__name__)


def field_path(loc: tuple[object, ...] | list[object]) -> str:
    """('body', 'lines', 0, 'charge') -> 'lines[0].charge'"""
    parts = [p for p in loc if p not in ("body", "query", "path")]
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        if not request.url.path.startswith("/api/") and "text/html" in request.headers.get(
                "accept", ""):
            return _validation_page(request, exc)
        fields = [
            {"field": field_path(e.get("loc", ())), "message": e.get("msg", "invalid"),
             "type": e.get("type")}
            for e in exc.errors()
        ]
        return JSONResponse(
            status_code=422,
            content={"error": "invalid request", "fields": fields,
                     "detail": "; ".join(f"{f['field']}: {f['message']}" for f in fields)},
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"path": request.url.path})
        return JSONResponse(status_code=500, content={"error": "internal error",
                                                      "detail": type(exc).__name__})


def _validation_page(request: Request, exc: RequestValidationError) -> Response:
    """A page's form or address that does not validate: the fields in plain words, as a page."""
    from api.pages.render import render
    from reclaim.claims.plain_errors import plain_errors

    errors = plain_errors(exc.errors())
    return render(request, "pages/error.html", {
        "title": "Not accepted", "message": "Please check what you entered.",
        "field_errors": errors}, status_code=422)
