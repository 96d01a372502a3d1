"""Work items: list, read, take, reassign, complete (a workflow update the item validates)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, status
from pydantic import BaseModel
from sqlmodel import Session, select

from api import work_actions
from api.deps import ClientDep, Reader, SessionDep
from api.limits import OptionalRowId, RowId
from api.work_actions import CompleteBody
from reclaim import audit
from reclaim.claims.views import work_item_view
from reclaim.models import User, WorkItem
from reclaim.work.items import assign, list_work_items, may_work

router = APIRouter(prefix="/api/v1", tags=["work items"])
SORT_KEYS = Literal["urgency", "sla", "due", "amount", "age", "claim", "code", "assignee"]
SORT_HELP = ("urgency: our SLA due date, then dollars at stake; or one column (age ascending "
             "is the newest first)")


class AssignBody(BaseModel):
    username: str | None = None


@router.get("/work-items")
def get_work_items(
    session: SessionDep, _user: Reader, queue: str | None = None, assignee: str | None = None,
    status_: Annotated[str | None, Query(alias="status")] = None,
    claim_id: OptionalRowId = None,
    code: Annotated[str | None, Query(max_length=40, description="reason code prefix: CO-16, A7")]
    = None,
    sort: Annotated[SORT_KEYS, Query(description=SORT_HELP)] = "urgency",
    dir: Annotated[Literal["asc", "desc"], Query()] = "asc",  # noqa: A002 - the URL's name
) -> dict[str, Any]:
    """Open items by default, most urgent first (our SLA, then dollars at stake), as /work."""
    items = list_work_items(session=session, queue=queue, assignee=assignee,
                            status=status_ or "open", claim_id=claim_id, code=code, sort=sort,
                            descending=dir == "desc")
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
    return await work_actions.complete_work_item(item_id, body, engine=request.app.state.engine,
                                                 client=client, user=user)


def _open_item(session: Session, item_id: int) -> WorkItem:
    item = session.get(WorkItem, item_id)
    if item is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"work item {item_id} not found")
    if item.status != "open":
        raise HTTPException(status.HTTP_409_CONFLICT,
                            detail=f"work item {item_id} is {item.status}")
    return item
