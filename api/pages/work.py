"""The work queue: a person's open items (a manager's: everyone's) sorted by urgency, filtered
and sorted by the address bar, taken or assigned one at a time or in bulk, exported as CSV.
The rows come from reclaim.work.queue."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, col, select
from starlette.datastructures import FormData

from api.deps import SessionDep
from api.limits import MAX_ROW_ID
from api.pages.render import (
    PageForbidden,
    PageManager,
    PageUser,
    checked_form,
    is_htmx,
    is_manager,
    render,
    safe_next,
)
from contracts.enums import QUEUE_ACTIONS, ClaimStatus
from reclaim import audit
from reclaim.models import User, WorkItem, utcnow
from reclaim.work.items import QUEUE_ROLE, assign, may_work
from reclaim.work.queue import (
    EXPORT_ROWS,
    PAGE_ROWS,
    SORTS,
    WorkFilter,
    open_items,
    to_csv,
    visible_queues,
)

router = APIRouter(include_in_schema=False)
# The kinds of work item (WorkItem.kind), for the filter.
KINDS = ("denial", "correction", "appeal", "follow_up", "deadline", "approval", "attempt_cap")


def _assignable(session: Session) -> list[User]:
    roles = list(QUEUE_ROLE.values())
    return list(session.exec(
        select(User).where(col(User.active).is_(True), col(User.role).in_(roles))
        .order_by(User.username)).all())


def _sort_links(flt: WorkFilter) -> dict[str, dict[str, str]]:
    """For each sortable column: its link (the other direction when it is the current sort) and
    its aria-sort."""
    links = {}
    for key in SORTS:
        current = flt.sort == key
        descending = not flt.descending if current else key in ("amount", "age")
        query = urlencode(flt.params(sort=None if key == "urgency" else key,
                                     dir="desc" if descending else None))
        links[key] = {
            "href": "/work" + (f"?{query}" if query else ""),
            "aria": ("descending" if flt.descending else "ascending") if current else "none",
        }
    return links


def work_context(request: Request, session: Session, user: User,
                 notice: str | None = None) -> dict[str, Any]:
    flt = WorkFilter.from_params(request.query_params)
    manager = is_manager(user)
    settings = request.app.state.settings
    rows = open_items(session, user=user, flt=flt, manager=manager,
                      lead=settings.deadline_warning_lead)
    people = _assignable(session) if manager else []
    assignees = {q: [u.username for u in people if may_work(u, q) and u.role != "admin"]
                 for q in QUEUE_ACTIONS}
    query = urlencode(flt.params())
    return {
        "rows": rows, "filter": flt, "queue": flt.queue, "assignee": flt.assignee,
        "overdue": flt.overdue, "scope": flt.scope,
        "queues": visible_queues(user), "assignees": assignees,
        "people": [u.username for u in people if u.role != "admin"],
        "statuses": [s.value for s in ClaimStatus], "kinds": KINDS,
        "query_string": query, "sorts": _sort_links(flt), "page_rows": PAGE_ROWS,
        "export_href": "/work/export.csv" + (f"?{query}" if query else ""),
        "notice": notice,
    }


@router.get("/work", response_class=HTMLResponse)
def work_page(request: Request, session: SessionDep, user: PageUser) -> HTMLResponse:
    return render(request, "pages/work.html", work_context(request, session, user))


@router.get("/partials/work", response_class=HTMLResponse)
def work_partial(request: Request, session: SessionDep, user: PageUser) -> HTMLResponse:
    return render(request, "pages/_work_table.html", work_context(request, session, user))


@router.get("/work/export.csv")
def work_export(request: Request, session: SessionDep, user: PageUser) -> Response:
    """The list as filtered and sorted on the page, every row of it (up to EXPORT_ROWS)."""
    flt = WorkFilter.from_params(request.query_params)
    rows = open_items(session, user=user, flt=flt, manager=is_manager(user), limit=EXPORT_ROWS,
                      lead=request.app.state.settings.deadline_warning_lead)
    audit.record(session=session, user=user.username, action="export_work",
                 detail=f"{len(rows)} items; {urlencode(flt.params())}"[:255])
    stamp = utcnow().strftime("%Y%m%d-%H%M")
    return Response(to_csv(rows), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="work-{stamp}.csv"',
        "Cache-Control": "no-store"})


@router.post("/work-items/bulk")
async def bulk_items(request: Request, session: SessionDep, user: PageUser) -> Response:
    """Take (or, for managers, assign) every checked item: each one the user may work and the
    assignee may work; the others are named in the notice, not silently skipped."""
    form = await checked_form(request)
    action = str(form.get("action") or "")
    ids = _item_ids(form.getlist("item"))
    if action not in ("take", "assign"):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            detail="choose Take or Assign for the checked items")
    if not ids:
        return _bulk_done(request, session, user, form,
                          "Nothing was checked: tick the items first, then Take or Assign.")
    target: User | None = user
    if action == "assign":
        if not is_manager(user):
            raise PageForbidden("Only managers assign work to others; you can take items.")
        username = str(form.get("username") or "").strip()
        target = session.exec(select(User).where(User.username == username)).first() \
            if username else None
        if username and (target is None or not target.active):
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                                detail=f"{username} is not an active user")
    done, skipped = 0, []
    for item_id in ids:
        item = session.get(WorkItem, item_id)
        if item is None or item.status != "open":
            skipped.append(f"item {item_id} is no longer open")
        elif not may_work(user, item.queue):
            skipped.append(f"item {item_id} is in the {_queue_words(item.queue)} queue, "
                           "which is not yours")
        elif target is not None and not may_work(target, item.queue):
            skipped.append(f"item {item_id} is in the {_queue_words(item.queue)} queue, which "
                           f"{target.username} cannot work")
        else:
            name = target.username if target is not None else None
            assign(session=session, item=item, username=name)
            audit.record(session=session, user=user.username,
                         action="take_item" if action == "take" else "assign_item",
                         claim_id=item.claim_id, detail=f"to {name or 'nobody'} (bulk)")
            done += 1
    session.flush()
    who = "you" if action == "take" else (target.username if target else "nobody")
    notice = f"{done} item{'' if done == 1 else 's'} assigned to {who}."
    if skipped:
        notice += " Not changed: " + "; ".join(skipped) + "."
    return _bulk_done(request, session, user, form, notice)


def _item_ids(values: list[Any]) -> list[int]:
    ids = []
    for value in values:
        text = str(value).strip()
        if not text.isdigit() or not 0 < int(text) <= MAX_ROW_ID:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                                detail=f"item: {text!r} is not a work item number")
        ids.append(int(text))
    return list(dict.fromkeys(ids))


def _queue_words(queue: str) -> str:
    return queue.replace("_", " ")


def _bulk_done(request: Request, session: Session, user: User, form: FormData,
               notice: str) -> Response:
    back = safe_next(str(form.get("next") or "/work"))
    if not back.startswith("/work"):
        return RedirectResponse(back, status_code=status.HTTP_303_SEE_OTHER)
    request.scope["query_string"] = back.partition("?")[2].encode()
    template = "pages/_work_table.html" if is_htmx(request) else "pages/work.html"
    return render(request, template, work_context(request, session, user, notice=notice))


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
