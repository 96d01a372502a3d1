"""EDI files in: 999, 277CA and 835 (detected from ST01), stored raw whatever happens."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse
from sqlmodel import col, select

from api.deps import ClientDep, PayerFiles, SessionDep, SettingsDep
from api.limits import MAX_EDI_BYTES, MAX_ROW_ID, RowId
from reclaim.edi.views import CLAIMS_PAGE, list_unmatched, remittance_view
from reclaim.models import EdiFile
from temporal_client import receive_file

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1", tags=["edi"])


@router.post(
    "/edi",
    status_code=status.HTTP_202_ACCEPTED,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/edi-x12": {"schema": {"type": "string"}},
                        "text/plain": {"schema": {"type": "string"}}},
        }
    },
)
async def post_edi(request: Request, client: ClientDep, settings: SettingsDep,
                   _user: PayerFiles) -> JSONResponse:
    raw = await read_limited(request)
    if not raw.strip():
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            detail="empty body: POST the X12 file as the request body")
    result, signals = await receive_file(request.app.state.engine, client, settings, raw,
                                         source="api",
                                         filename=request.headers.get("x-filename"))
    if result.error is not None:
        # Unreadable: 400 when it is not X12 at all, 422 when an X12 file is malformed.
        code = 422 if _looks_like_x12(raw) else 400
        error = result.error
        return JSONResponse(status_code=code, content={
            "error": "the file cannot be read safely",
            "detail": error.get("detail"),
            "segment_index": error.get("segment_index"),
            "segment_id": error.get("segment_id"),
            "element": error.get("element"),
            "file_id": result.file_id,
            "stored": True,
        })
    return JSONResponse(status_code=202, content=result.as_dict() | signals)


def _looks_like_x12(raw: bytes) -> bool:
    return raw.lstrip(b"\xef\xbb\xbf \r\n\t").startswith(b"ISA")


async def read_limited(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_EDI_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE,
                            detail=f"files over {MAX_EDI_BYTES // (1024 * 1024)} MiB are refused")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_EDI_BYTES:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE,
                                detail="file too large")
        chunks.append(chunk)
    return b"".join(chunks)


@router.get("/edi")
def list_edi(session: SessionDep, _user: PayerFiles,
             limit: Annotated[int, Query(ge=1, le=500)] = 50) -> dict[str, Any]:
    files = session.exec(select(EdiFile).order_by(col(EdiFile.id).desc()).limit(limit))
    unmatched = list_unmatched(session=session)
    return {
        "files": [
            {"file_id": f.id, "type": f.type, "status": f.status, "source": f.source,
             "filename": f.filename, "size": f.size, "matched": f.matched,
             "unmatched": f.unmatched, "received_at": f.received_at}
            for f in files
        ],
        "unmatched_remittances": [
            {"id": r.id, "file_id": r.edi_file_id, "patient_control_number":
             r.patient_control_number, "charge": str(r.charge), "paid": str(r.paid),
             "status_code": r.status_code, "received_at": r.received_at}
            for r in unmatched
        ],
    }


@router.get("/edi/{file_id}")
def get_edi(file_id: RowId, session: SessionDep, _user: PayerFiles, raw: bool = False,
            offset: Annotated[int, Query(ge=0, le=MAX_ROW_ID)] = 0,
            limit: Annotated[int, Query(ge=1, le=1000)] = CLAIMS_PAGE) -> dict[str, Any]:
    """The file as read. An 835's claims are paged (`offset`, `limit`, by position in the
    file; `claims_total` says how many it has)."""
    edi = session.get(EdiFile, file_id)
    if edi is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"EDI file {file_id} not found")
    body: dict[str, Any] = {
        "file_id": edi.id,
        "type": edi.type,
        "status": edi.status,
        "source": edi.source,
        "filename": edi.filename,
        "received_at": edi.received_at,
        "matched": edi.matched,
        "unmatched": edi.unmatched,
        # Every claim's workflow has been sent the file's answers (after a 202 with "signals":
        # "queued" or "pending", this turns true once the worker or the sweep has sent them).
        "signalled": edi.signalled,
        "warnings": edi.warnings or [],
        "error": edi.error,
    }
    if edi.type == "835" and edi.parsed is not None:
        body.update(remittance_view(session, edi, offset=offset, limit=limit))
    else:
        body.update(edi.parsed or {})
    if raw:
        body["raw"] = edi.raw
    return body
