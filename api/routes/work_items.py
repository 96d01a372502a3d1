"""Work items: list, read, take, reassign, complete (a workflow update the item validates)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlmodel import Session, select
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from api.deps import ClientDep, Reader, SessionDep
from api.limits import OptionalRowId, RowId
from contracts.messages import CompleteRequest, WorkItemResult
from contracts.names import COMPLETE_UPDATE
from reclaim import audit
from reclaim.claims.views import work_item_view
from reclaim.models import User, WorkItem
from reclaim.work.items import QUEUE_ROLE, assign, list_work_items

router = APIRouter(prefix="/api/v1", tags=["work items"])


class CompleteBody(BaseModel):
    action: str
    note: str | None = None
    corrections: dict[str, Any] | None = None
    payer_id: str | None = None


class AssignBody(BaseModel):
    username: str | None = None


def may_work(user: User, queue: str) -> bool:
    return user.role in ("admin", "manager") or QUEUE_ROLE.get(queue) == user.role or (
        queue == "appeal" and user.role == "coder"
    )


@router.get("/work-items")
def get_work_items(
    session: SessionDep, _user: Reader, queue: str | None = None, assignee: str | None = None,
    status_: str | None = None, claim_id: OptionalRowId = None,
) -> dict[str, Any]:
    items = list_work_items(session=session, queue=queue, assignee=assignee,
                            status=status_ or "open", claim_id=claim_id)
    return {"items": [work_item_view(w) for w in items]}


@router.get("/work-items/{item_id}")
def get_work_item(item_id: RowId, session: SessionDep, _user: Reader) -> dict[str, Any]:
    item = session.get(WorkItem, item_id)
    if item is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"work item {item_id} not found")
    return work_item_view(item)


@router.post("/work-items/{item_id}/claim")
def claim_work_item(item_id: RowId, session: SessionDep, user: Reader) -> dict[str, Any]:
    item = _open_item(session, item_id)
    if not may_work(user, item.queue):
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            detail=f"the {item.queue} queue is not yours")
    assign(session=session, item=item, username=user.username)
    audit.record(session=session, user=user.username, action="take_item", claim_id=item.claim_id)
    return work_item_view(item)


@router.post("/work-items/{item_id}/assign")
def reassign_work_item(item_id: RowId, body: AssignBody, session: SessionDep,
                       user: Reader) -> dict[str, Any]:
    item = _open_item(session, item_id)
    if user.role not in ("manager", "admin") and item.assignee not in (None, user.username):
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            detail="only a manager or the assignee can reassign")
    if body.username is not None:
        target = session.exec(select(User).where(User.username == body.username)).first()
        if target is None or not may_work(target, item.queue):
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                                detail=f"{body.username} cannot work the {item.queue} queue")
    assign(session=session, item=item, username=body.username)
    audit.record(session=session, user=user.username, action="assign_item",
                 claim_id=item.claim_id, detail=f"to {body.username}")
    return work_item_view(item)


@router.post("/work-items/{item_id}/complete")
async def complete_work_item(
    item_id: RowId, body: CompleteBody, request: Request, client: ClientDep, user: Reader
) -> dict[str, Any]:
    engine = request.app.state.engine

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
    handle = client.get_workflow_handle(item.workflow_id)
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
    await run_in_threadpool(audit.record_engine, engine, user=user.username,
                            action=f"complete_{body.action}", claim_id=item.claim_id)
    return {"work_item_id": item_id, "action": result.action, "status": "done"}


def _open_item(session: Session, item_id: int) -> WorkItem:
    item = session.get(WorkItem, item_id)
    if item is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"work item {item_id} not found")
    if item.status != "open":
        raise HTTPException(status.HTTP_409_CONFLICT,
                            detail=f"work item {item_id} is {item.status}")
    return item
