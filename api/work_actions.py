"""Completing a work item through its workflow: what POST /api/v1/work-items/{id}/complete and
the claim page's correction form both do."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from contracts.enums import CORRECTING_QUEUES
from contracts.messages import CompleteRequest, WorkItemResult
from contracts.names import COMPLETE_UPDATE
from reclaim import audit
from reclaim.claims.service import (
    CorrectionError,
    corrected_document,
    nothing_changed,
    unchanged_since,
)
from reclaim.models import Claim, User, WorkItem
from reclaim.work.items import may_work

# Actions that send the claim to a payer again, and the items that ask for a corrected claim:
# such a completion is refused when the claim is the one last sent. (A follow-up's resend of a
# claim the payer never received is not a correction.)
RESENDING = ("resubmit", "redirect")
CORRECTING_KINDS = ("correction", "denial")


class CompleteBody(BaseModel):
    action: str
    note: str | None = None
    corrections: dict[str, Any] | None = None
    payer_id: str | None = None


async def complete_work_item(item_id: int, body: CompleteBody, *, engine: Engine,
                             client: Client, user: User) -> dict[str, Any]:
    """The item's workflow validates and records the completion; refusals are HTTP errors whose
    detail carries the error and the reasons."""

    def load() -> WorkItem | None:
        with Session(engine, expire_on_commit=False) as session:
            return session.get(WorkItem, item_id)

    item = await run_in_threadpool(load)
    if item is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"work item {item_id} not found")
    if not may_work(user, item.queue):
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            detail=f"your role ({user.role}) cannot complete {item.queue} items")
    if item.status != "open" or item.workflow_id is None:
        raise HTTPException(status.HTTP_409_CONFLICT,
                            detail={"error": f"work item {item_id} is {item.status}",
                                    "reasons": []})
    if (item.queue in CORRECTING_QUEUES and item.kind in CORRECTING_KINDS
            and body.action in RESENDING):
        attempt = await run_in_threadpool(unchanged_attempt, engine, item.claim_id, body)
        if attempt is not None:
            message = nothing_changed(attempt)
            raise HTTPException(status.HTTP_409_CONFLICT, detail={
                "error": message,
                "reasons": [{"rule": "unchanged", "field": "", "severity": "error",
                             "message": message}],
            })
    result = await _update_workflow(client, item.workflow_id, body, user)
    await run_in_threadpool(audit.record_engine, engine, user=user.username,
                            action=f"complete_{body.action}", claim_id=item.claim_id)
    return {"work_item_id": item_id, "action": result.action, "status": "done"}


def unchanged_attempt(engine: Engine, claim_id: int, body: CompleteBody) -> int | None:
    """The attempt this completion would send again unchanged, if it would."""
    corrections = dict(body.corrections or {})
    if body.action == "redirect" and body.payer_id:
        corrections["payer_id"] = body.payer_id
    with Session(engine) as session:
        claim = session.get(Claim, claim_id)
        if claim is None:
            return None
        try:
            document = corrected_document(claim.document, corrections)
        except CorrectionError:
            return None  # the workflow's check names what is wrong with it
        return unchanged_since(session=session, claim_id=claim_id, document=document)


async def _update_workflow(client: Client, workflow_id: str, body: CompleteBody,
                           user: User) -> WorkItemResult:
    handle = client.get_workflow_handle(workflow_id)
    try:
        result: WorkItemResult = await handle.execute_update(
            COMPLETE_UPDATE,
            CompleteRequest(**body.model_dump(), user=user.username, role=user.role),
            result_type=WorkItemResult,
        )
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        reasons: list[Any] = []
        message = str(cause) if cause else str(exc)
        if isinstance(cause, ApplicationError):
            message = cause.message
            reasons = list(cause.details[0]) if cause.details else []
        raise HTTPException(status.HTTP_409_CONFLICT,
                            detail={"error": message, "reasons": reasons}) from exc
    except RPCError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT,
                            detail={"error": f"work item is no longer open: {exc.message}",
                                    "reasons": []}) from exc
    return result
