"""The work queue: a person's open items (a manager's: everyone's), taking an item, assigning
one."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import or_
from sqlmodel import Session, col, select
from starlette.datastructures import FormData

from api.deps import SessionDep
from api.pages.render import (
    PageForbidden,
    PageManager,
    PageUser,
    checked_form,
    is_htmx,
    is_manager,
    plain_words,
    render,
    safe_next,
)
from contracts.enums import QUEUE_ACTIONS
from reclaim import audit
from reclaim.models import Claim, User, WorkItem, utcnow
from reclaim.work.items import QUEUE_ROLE, assign, may_work

router = APIRouter(include_in_schema=False)


def item_row(item: WorkItem, first: str, last: str, payer: str) -> dict[str, Any]:
    view = {
        "id": item.id, "claim_id": item.claim_id, "queue": item.queue, "kind": item.kind,
        "title": item.title, "detail": item.detail, "assignee": item.assignee,
        "due_at": item.due_at, "created_at": item.created_at, "data": item.data,
        "overdue": item.due_at is not None and item.due_at < utcnow(),
        "patient": f"{first} {last}", "payer": payer,
    }
    view["plain"] = plain_words(view)
    return view


def work_rows(session: Session, *, user: User, queue: str | None, assignee: str | None,
              overdue: bool, scope: str) -> list[dict[str, Any]]:
    query = (
        select(WorkItem, Claim.patient_first_name, Claim.patient_last_name, Claim.payer_id)
        .join(Claim, col(Claim.id) == WorkItem.claim_id)
        .where(WorkItem.status == "open")
    )
    if is_manager(user):
        if queue:
            query = query.where(WorkItem.queue == queue)
        if assignee:
            query = query.where(WorkItem.assignee == assignee)
    else:
        queues: list[str] = [q for q in QUEUE_ACTIONS if may_work(user, q)]
        if queue in queues:
            queues = [queue]
        query = query.where(col(WorkItem.queue).in_(queues))
        if scope != "queue":  # my queue: mine and nobody's
            query = query.where(
                or_(col(WorkItem.assignee) == user.username, col(WorkItem.assignee).is_(None)))
    if overdue:
        query = query.where(col(WorkItem.due_at) < utcnow())
    query = query.order_by(col(WorkItem.due_at).asc().nulls_last(), col(WorkItem.id)).limit(200)
    return [item_row(item, first, last, payer) for item, first, last, payer in
            session.exec(query).all()]


def _assignable(session: Session) -> list[User]:
    roles = list(QUEUE_ROLE.values())
    return list(session.exec(
        select(User).where(col(User.active).is_(True), col(User.role).in_(roles))
        .order_by(User.username)).all())


def work_context(request: Request, session: Session, user: User) -> dict[str, Any]:
    params = request.query_params
    queue = params.get("queue") or None
    assignee = params.get("assignee") or None
    overdue = params.get("overdue") in ("1", "true", "on")
    scope = params.get("scope") or "mine"
    rows = work_rows(session, user=user, queue=queue, assignee=assignee, overdue=overdue,
                     scope=scope)
    people = _assignable(session) if is_manager(user) else []
    assignees = {q: [u.username for u in people if may_work(u, q) and u.role != "admin"]
                 for q in QUEUE_ACTIONS}
    return {
        "rows": rows, "queue": queue, "assignee": assignee, "overdue": overdue, "scope": scope,
        "queues": [q for q in QUEUE_ACTIONS if may_work(user, q)], "assignees": assignees,
        "people": [u.username for u in people], "query": params,
        "query_string": str(request.url.query),
    }


@router.get("/work", response_class=HTMLResponse)
def work_page(request: Request, session: SessionDep, user: PageUser) -> HTMLResponse:
    return render(request, "pages/work.html", work_context(request, session, user))


@router.get("/partials/work", response_class=HTMLResponse)
def work_partial(request: Request, session: SessionDep, user: PageUser) -> HTMLResponse:
    return render(request, "pages/_work_table.html", work_context(request, session, user))


def open_item_for(session: Session, item_id: int) -> WorkItem:
    item = session.get(WorkItem, item_id)
    if item is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"work item {item_id} not found")
    if item.status != "open":
        raise HTTPException(status.HTTP_409_CONFLICT,
                            detail=f"work item {item_id} is already {item.status}")
    return item


def _back_to_work(request: Request, session: Session, user: User, form: FormData) -> Response:
    back = safe_next(str(form.get("next") or "/work"))
    if is_htmx(request) and back.startswith("/work"):
        request.scope["query_string"] = back.partition("?")[2].encode()
        return render(request, "pages/_work_table.html", work_context(request, session, user))
    return RedirectResponse(back, status_code=status.HTTP_303_SEE_OTHER)


@router.post("/work-items/{item_id}/take")
async def take_item(item_id: int, request: Request, session: SessionDep,
                    user: PageUser) -> Response:
    form = await checked_form(request)
    item = open_item_for(session, item_id)
    if not may_work(user, item.queue):
        raise PageForbidden(f"The {item.queue} queue is not yours.")
    assign(session=session, item=item, username=user.username)
    audit.record(session=session, user=user.username, action="take_item", claim_id=item.claim_id)
    session.flush()
    return _back_to_work(request, session, user, form)


@router.post("/work-items/{item_id}/assign")
async def assign_item(item_id: int, request: Request, session: SessionDep,
                      user: PageManager) -> Response:
    form = await checked_form(request)
    item = open_item_for(session, item_id)
    username = str(form.get("username") or "").strip() or None
    if username is not None:
        target = session.exec(select(User).where(User.username == username)).first()
        if target is None or not target.active or not may_work(target, item.queue):
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                                detail=f"{username} cannot work the {item.queue} queue")
    assign(session=session, item=item, username=username)
    audit.record(session=session, user=user.username, action="assign_item",
                 claim_id=item.claim_id, detail=f"to {username or 'nobody'}")
    session.flush()
    return _back_to_work(request, session, user, form)
