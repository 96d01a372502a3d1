"""Payer files: the newest 999, 277CA and 835 files, the money no claim of ours is posted to,
and uploading a file a biller downloaded from a payer's portal. An 837 uploaded here (ST01 837)
is the practice's own claims: it is imported as POST /api/v1/claims/import imports it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session
from starlette.datastructures import UploadFile

from api.deps import SessionDep, get_client
from api.limits import OptionalRowId
from api.pages.render import checked_form, page_allow, render
from api.policy import PERMISSIONS
from reclaim import audit
from reclaim.models import ClaimImport, EdiFile, Remittance, User
from reclaim.x12.reader import first_type
from temporal_client import import_claims, receive_file

router = APIRouter(include_in_schema=False)

PageFiles = Annotated[User, Depends(page_allow("payer_files"))]
FILES_SHOWN = 100
_EDI = EdiFile.__table__.c  # type: ignore[attr-defined]
_REMITTANCES = Remittance.__table__.c  # type: ignore[attr-defined]
_FILE_COLUMNS = (_EDI.id, _EDI.type, _EDI.status, _EDI.source, _EDI.filename, _EDI.size,
                 _EDI.matched, _EDI.unmatched, _EDI.signalled, _EDI.received_at, _EDI.warnings,
                 _EDI.error)
_FILES = sa_select(*_FILE_COLUMNS).order_by(_EDI.id.desc()).limit(FILES_SHOWN)
_UNPOSTED = (sa_select(_REMITTANCES.id, _REMITTANCES.edi_file_id, _REMITTANCES.position,
                       _REMITTANCES.patient_control_number, _REMITTANCES.status_code,
                       _REMITTANCES.charge, _REMITTANCES.paid,
                       _REMITTANCES.payer_claim_control_number, _REMITTANCES.payment_date,
                       _REMITTANCES.trace_number, _REMITTANCES.received_at)
             .where(_REMITTANCES.claim_id.is_(None)).order_by(_REMITTANCES.id.desc())
             .limit(FILES_SHOWN))
_IMPORTS = ClaimImport.__table__.c  # type: ignore[attr-defined]
_IMPORT_COLUMNS = (_IMPORTS.id, _IMPORTS.file_type, _IMPORTS.filename, _IMPORTS.submitter,
                   _IMPORTS.accepted, _IMPORTS.refused, _IMPORTS.duplicates, _IMPORTS.username,
                   _IMPORTS.received_at, _IMPORTS.error)
_RECENT_IMPORTS = sa_select(*_IMPORT_COLUMNS).order_by(_IMPORTS.id.desc()).limit(20)
UNPOSTED_TOTAL = sa_select(func.count(), func.coalesce(func.sum(_REMITTANCES.paid), 0)).where(
    _REMITTANCES.claim_id.is_(None))


# CLP02, the claim status code of an 835 claim payment (X12 code list 1029).
CLAIM_PAYMENT_STATUS = {
    "1": "processed as primary", "2": "processed as secondary", "3": "processed as tertiary",
    "4": "denied", "19": "processed as primary, forwarded",
    "20": "processed as secondary, forwarded", "21": "processed as tertiary, forwarded",
    "22": "reversal of previous payment", "23": "not our claim, forwarded",
    "25": "predetermination pricing only",
}


def files_context(session: Session, *, received: int | None = None,
                  imported: int | None = None) -> dict[str, Any]:
    """The newest payer files (without their raw text), the 835 claims that matched no claim
    of ours (money received that nothing is posted to) and their total, and the file just
    received when there is one: three queries (four with that file) whatever the numbers."""
    files = session.execute(_FILES).all()
    unposted = session.execute(_UNPOSTED).all()
    count, total = session.execute(UNPOSTED_TOTAL).one()
    just = None
    if received is not None:
        just = session.execute(sa_select(*_FILE_COLUMNS).where(_EDI.id == received)).first()
    just_imported = None
    if imported is not None:
        row = session.get(ClaimImport, imported)
        just_imported = row.summary | {"id": row.id, "filename": row.filename} if row else None
    return {"files": files, "unposted": unposted, "unposted_count": count,
            "unposted_total": total, "received": just, "error": None,
            "claim_status": CLAIM_PAYMENT_STATUS, "imports": session.execute(_RECENT_IMPORTS).all(),
            "imported": just_imported}


@router.get("/files", response_class=HTMLResponse)
def files_page(request: Request, session: SessionDep, _user: PageFiles,
               received: OptionalRowId = None, again: bool = False,
               imported: OptionalRowId = None) -> HTMLResponse:
    context = files_context(session, received=received, imported=imported)
    context["again"] = again
    return render(request, "pages/files.html", context)


@router.post("/files", response_class=HTMLResponse)
async def files_upload(request: Request, user: PageFiles) -> Response:
    """A payer file a biller downloaded from a payer's portal, read as POST /api/v1/edi reads
    it; then the page again, saying what became of it (a redirect: a reload posts nothing)."""
    form = await checked_form(request)
    upload = form.get("file")
    raw = await upload.read() if isinstance(upload, UploadFile) else b""
    if not raw.strip():
        def empty() -> dict[str, Any]:
            with Session(request.app.state.engine) as session:
                return files_context(session)

        context = await run_in_threadpool(empty)
        context["error"] = "Choose a 999, 277CA or 835 file to upload: none was sent."
        return render(request, "pages/files.html", context, status_code=422)
    client = await get_client(request)
    engine = request.app.state.engine
    # The browser's name for the file, printable characters only (PostgreSQL refuses a NUL).
    named = upload.filename if isinstance(upload, UploadFile) else None
    filename = ("".join(ch for ch in named if ch.isprintable()).strip() or None) if named else None
    if first_type(raw) in ("837P", "837I"):
        return await _import(request, user, raw, filename)
    result, _signals = await receive_file(engine, client, request.app.state.settings, raw,
                                          source="upload", filename=filename)
    await run_in_threadpool(
        audit.record_engine, engine, user=user.username, action="upload_edi",
        detail=f"file {result.file_id} ({filename or 'unnamed'})")
    again = "&again=1" if result.duplicate else ""
    return RedirectResponse(f"/files?received={result.file_id}{again}",
                            status_code=status.HTTP_303_SEE_OTHER)


async def _import(request: Request, user: User, raw: bytes, filename: str | None) -> Response:
    """The practice's own 837: its claims imported (POST /api/v1/claims/import's permission)."""
    engine = request.app.state.engine
    if not PERMISSIONS["import_claims"].allows(user.role):
        def refused() -> dict[str, Any]:
            with Session(engine) as session:
                return files_context(session)

        context = await run_in_threadpool(refused)
        context["error"] = "This is an 837 (claims to submit): your role may not import claims."
        return render(request, "pages/files.html", context, status_code=403)
    client = await get_client(request)
    result = await import_claims(engine=engine, client=client,
                                 settings=request.app.state.settings, raw=raw,
                                 filename=filename, username=user.username)
    await run_in_threadpool(
        audit.record_engine, engine, user=user.username, action="import_claims",
        detail=f"import {result.import_id}: {len(result.accepted)} accepted, "
               f"{len(result.refused)} refused, {result.duplicates} duplicates")
    return RedirectResponse(f"/files?imported={result.import_id}",
                            status_code=status.HTTP_303_SEE_OTHER)
