"""The Temporal codec server protocol, so the Temporal UI can show decrypted payloads.

The UI's browser POSTs `{"payloads": [...]}` (the `Payloads` protobuf in proto3 JSON, bytes as
base64) to `<endpoint>/decode` or `<endpoint>/encode` with `Content-Type: application/json`
and `X-Namespace`, and reads the same shape back. That request is cross-origin, so the browser
sends a CORS preflight first; only the configured UI origin is answered. Decoded payloads carry
PHI, so the POST routes sit behind the caller's authentication dependency.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads

from reclaim.codec import EncryptionCodec, KeyRing, PayloadDecryptionError, UnknownKeyError

CODEC_PREFIX = "/api/v1/codec"
MAX_BODY_BYTES = 8 * 1024 * 1024
ALLOWED_METHODS = "POST"
ALLOWED_HEADERS = "Content-Type, X-Namespace, Authorization"
PREFLIGHT_MAX_AGE = "600"

Transform = Callable[[Sequence[Payload]], Awaitable[list[Payload]]]


def normalize_origin(origin: str) -> str:
    """`scheme://host[:port]` exactly as a browser sends it in the Origin header."""
    value = origin.strip().rstrip("/")
    scheme, sep, rest = value.partition("://")
    if scheme not in ("http", "https") or not sep or not rest or "/" in rest:
        raise ValueError(
            f"codec allowed origin {origin!r} must look like http(s)://host[:port], "
            "with no path (for example http://localhost:8080)"
        )
    return value


def cors_headers(origin: str) -> dict[str, str]:
    return {
        "Access-Control-Allow-Origin": origin,
        # The UI sends the Reclaim session cookie when TEMPORAL_CODEC_INCLUDE_CREDENTIALS=true.
        "Access-Control-Allow-Credentials": "true",
        "Vary": "Origin",
    }


def _refused(origin: str) -> JSONResponse:
    return JSONResponse(
        {"detail": f"origin {origin!r} is not allowed to use the codec endpoint"},
        status_code=403,
        headers={"Vary": "Origin"},
    )


def _codec_route_class(allowed_origin: str) -> type[APIRoute]:
    class CodecRoute(APIRoute):
        """Refuses foreign origins before auth runs and adds CORS headers to every answer."""

        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def with_cors(request: Request) -> Response:
                origin = request.headers.get("origin")
                if origin is not None and origin != allowed_origin:
                    return _refused(origin)
                headers = cors_headers(allowed_origin) if origin is not None else {}
                try:
                    response = await handler(request)
                except HTTPException as exc:
                    # Keep the app's own error handler; it copies exc.headers to the answer.
                    exc.headers = {**(exc.headers or {}), **headers}
                    raise
                response.headers.update(headers)
                return response

            return with_cors

    return CodecRoute


async def _read_body(request: Request, *, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(status_code=413, detail=f"codec request is over {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise HTTPException(status_code=413, detail=f"codec request is over {limit} bytes")
    return bytes(body)


def parse_payloads(body: bytes) -> list[Payload]:
    try:
        message = json_format.Parse(body, Payloads())
    except (json_format.ParseError, ValueError) as exc:
        raise HTTPException(
            status_code=400,
            detail=f"body is not a Payloads message in proto3 JSON: {exc}",
        ) from exc
    return list(message.payloads)


def payloads_json(payloads: Sequence[Payload]) -> dict[str, Any]:
    return {"payloads": [json_format.MessageToDict(payload) for payload in payloads]}


def _codec_endpoint(
    transform: Transform, *, max_body_bytes: int
) -> Callable[[Request], Awaitable[JSONResponse]]:
    async def endpoint(request: Request) -> JSONResponse:
        content_type = request.headers.get("content-type", "")
        if content_type.split(";", 1)[0].strip().lower() != "application/json":
            raise HTTPException(status_code=415, detail="codec requests must be application/json")
        payloads = parse_payloads(await _read_body(request, limit=max_body_bytes))
        try:
            result = await transform(payloads)
        except (UnknownKeyError, PayloadDecryptionError) as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from exc
        return JSONResponse(payloads_json(result))

    return endpoint


def _preflight() -> Callable[[Request], Awaitable[Response]]:
    async def preflight(request: Request) -> Response:
        if request.headers.get("origin") is None:
            return Response(status_code=204, headers={"Allow": "POST, OPTIONS"})
        requested = request.headers.get("access-control-request-method", "").upper()
        if requested != "POST":
            raise HTTPException(
                status_code=403, detail=f"CORS method {requested or '(none)'!r} is not allowed"
            )
        headers = {
            "Access-Control-Allow-Methods": ALLOWED_METHODS,
            "Access-Control-Allow-Headers": ALLOWED_HEADERS,
            "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
        }
        return Response(status_code=204, headers=headers)

    return preflight


def codec_router(
    keyring: KeyRing,
    *,
    allowed_origin: str,
    auth_dependency: Callable[..., Any] | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> APIRouter:
    """POST /api/v1/codec/encode and /decode (+ their CORS preflights) for the Temporal UI."""
    origin = normalize_origin(allowed_origin)
    codec = EncryptionCodec(keyring)
    router = APIRouter(prefix=CODEC_PREFIX, tags=["codec"], route_class=_codec_route_class(origin))
    dependencies = [Depends(auth_dependency)] if auth_dependency is not None else []
    actions: dict[str, Transform] = {"encode": codec.encode, "decode": codec.decode}
    for action, transform in actions.items():
        router.add_api_route(
            f"/{action}",
            _codec_endpoint(transform, max_body_bytes=max_body_bytes),
            methods=["POST"],
            dependencies=dependencies,
            name=f"codec_{action}",
            summary=f"Temporal codec server: {action} payloads",
        )
        # The browser sends no credentials on a preflight, so it must not require auth.
        router.add_api_route(
            f"/{action}",
            _preflight(),
            methods=["OPTIONS"],
            name=f"codec_{action}_preflight",
            include_in_schema=False,
        )
    return router
