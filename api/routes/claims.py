"""Claims: create (starts the workflow), list, read, the 837 as sent, scrub without creating."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel
from sqlmodel import col, select
from temporalio.service import RPCError, RPCStatusCode

from api.deps import Biller, ClaimImporter, ClientDep, Manager, Reader, SessionDep, SettingsDep
from api.limits import RowId
from api.routes.edi import read_limited
from contracts.messages import AppealDecision, ScrubOutcome
from contracts.names import APPEAL_DECISION_SIGNAL, claim_workflow_id
from reclaim import audit
from reclaim.claims.filter import ClaimFilter, search_claims
from reclaim.claims.schemas import ClaimDocument
from reclaim.claims.service import get_claim
from reclaim.claims.views import claim_detail, claim_summary
from reclaim.models import Submission, utcnow
from reclaim.scrub import service as scrubbing
from temporal_client import create_and_start, import_claims

router = APIRouter(prefix="/api/v1", tags=["claims"])


class ClaimCreated(BaseModel):
    id: int
    status: str
    workflow_id: str


@router.post("/claims", status_code=status.HTTP_201_CREATED, response_model=ClaimCreated)
async def post_claim(
    document: ClaimDocument, request: Request, client: ClientDep, settings: SettingsDep,
    user: Biller,
) -> ClaimCreated:
    claim = await create_and_start(
        engine=request.app.state.engine, client=client, settings=settings, document=document
    )
    assert claim.id is not None
    assert claim.workflow_id is not None
    await run_in_threadpool(audit.record_engine, request.app.state.engine, user=user.username,
                            action="create", claim_id=claim.id)
    return ClaimCreated(id=claim.id, status=claim.status, workflow_id=claim.workflow_id)


@router.post(
    "/claims/import",
    status_code=status.HTTP_201_CREATED,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/edi-x12": {"schema": {"type": "string"}},
                        "text/plain": {"schema": {"type": "string"}}},
        }
    },
)
async def post_claims_import(request: Request, client: ClientDep, settings: SettingsDep,
                             user: ClaimImporter) -> JSONResponse:
    """An 837P or 837I from the practice's system: 201 with the claims `accepted` (each with
    its `claim_id`), those `refused` (segment number and reason) and the `duplicates`."""
    raw = await read_limited(request)
    if not raw.strip():
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            detail="empty body: POST the 837 file as the request body")
    engine = request.app.state.engine
    result = await import_claims(engine=engine, client=client, settings=settings, raw=raw,
                                 filename=request.headers.get("x-filename"),
                                 username=user.username)
    await run_in_threadpool(
        audit.record_engine, engine, user=user.username, action="import_claims",
        detail=f"import {result.import_id}: {len(result.accepted)} accepted, "
               f"{len(result.refused)} refused, {result.duplicates} duplicates")
    if result.error is not None:
        x12 = raw.lstrip(b"\xef\xbb\xbf \r\n\t").startswith(b"ISA")
        error = result.error
        return JSONResponse(status_code=422 if x12 else 400, content={
            "error": "the file cannot be read as an 837", "detail": error.get("detail"),
            "segment_index": error.get("segment_index"), "segment_id": error.get("segment_id"),
            "import_id": result.import_id})
    return JSONResponse(status_code=201, content=result.as_dict())


@router.get("/claims")
def get_claims(
    session: SessionDep,
    _user: Reader,
    status_: str | None = Query(default=None, alias="status"),
    payer: str | None = None,
    assignee: str | None = None,
    route: str | None = None,
    q: str | None = Query(default=None, max_length=80),
    min_age_days: int | None = Query(default=None, ge=0, le=36_500),
    page: int = Query(default=1, ge=1, le=100_000),
    page_size: int = Query(default=50, ge=1, le=500),
) -> dict[str, Any]:
    claim_filter = ClaimFilter(status=status_, payer=payer, assignee=assignee, route=route, q=q,
                               min_days_since_created=min_age_days)
    now = utcnow()
    rows, total = search_claims(session=session, claim_filter=claim_filter, today=now.date(),
                                now=now, page=page, page_size=page_size)
    return {"items": [claim_summary(c) for c in rows], "total": total, "page": page,
            "page_size": page_size}


@router.get("/claims/{claim_id}")
def get_claim_detail(claim_id: RowId, session: SessionDep, user: Reader) -> dict[str, Any]:
    claim = get_claim(session=session, claim_id=claim_id)
    if claim is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"claim {claim_id} not found")
    audit.record(session=session, user=user.username, action="view", claim_id=claim_id)
    return claim_detail(session=session, claim=claim)


@router.get("/claims/{claim_id}/x12", response_class=PlainTextResponse)
def get_claim_x12(claim_id: RowId, session: SessionDep, user: Reader) -> str:
    submission = session.exec(
        select(Submission)
        .where(Submission.claim_id == claim_id)
        .order_by(col(Submission.attempt).desc())
    ).first()
    if submission is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            detail=f"claim {claim_id} has no 837 yet")
    audit.record(session=session, user=user.username, action="view_x12", claim_id=claim_id)
    return submission.x12


@router.post("/claims/{claim_id}/appeal-decision", status_code=status.HTTP_202_ACCEPTED)
async def post_appeal_decision(
    claim_id: RowId, decision: AppealDecision, client: ClientDep, user: Manager
) -> dict[str, str]:
    handle = client.get_workflow_handle(claim_workflow_id(claim_id))
    decision = decision.model_copy(update={"user": user.username})
    try:
        await handle.signal(APPEAL_DECISION_SIGNAL, decision)
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            detail=f"claim {claim_id} has no running workflow") from exc
    return {"status": "recorded"}


@router.post("/scrub", response_model=ScrubOutcome)
def post_scrub(document: ClaimDocument, session: SessionDep, _user: Reader,
               claim_id: int | None = Query(
                   default=None, ge=1, le=2**31 - 1,
                   description="the claim this document corrects: it goes as a replacement "
                               "of that claim, which is then no duplicate of it"),
               ) -> ScrubOutcome:
    return scrubbing.scrub_document(session=session, document=document, claim_id=claim_id)
