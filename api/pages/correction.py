"""Completing a work item from its claim page: the correction form (checked by the scrubber on
request) or an action button, sent to the item's workflow; refusals show the claim page again
with the form as typed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Engine
from sqlmodel import Session

from api.deps import get_client
from api.pages.claims import CORRECTING_QUEUES, claim_context, claim_or_404
from api.pages.forms import corrections_from, field_messages, submitted_values
from api.pages.render import PageForbidden, PageUser, checked_form, is_manager, render
from api.pages.work import open_item_for
from api.work_actions import CompleteBody, complete_work_item
from reclaim.claims.service import CorrectionError, corrected_document
from reclaim.models import Claim, User, WorkItem
from reclaim.work.items import may_work

router = APIRouter(include_in_schema=False)


def _rerender_claim(request: Request, session: Session, claim: Claim, user: User, *,
                    values: dict[str, Any], error: str | None, reasons: list[Any],
                    field_errors: list[dict[str, Any]], checked: bool,
                    status_code: int) -> HTMLResponse:
    context = claim_context(session, claim, user)
    context.update(values=values, error=error, reasons=reasons, field_errors=field_errors,
                   checked=checked, field_messages=field_messages([*reasons, *field_errors]))
    return render(request, "pages/claim.html", context, status_code=status_code)


def _check_with_scrubber(session: Session, document: Any) -> list[dict[str, Any]]:
    from reclaim.scrub import service as scrubbing  # the scrubber loads code sets: only when asked

    outcome = scrubbing.scrub_document(session=session, document=document)
    return [f.model_dump() for f in [*outcome.errors, *outcome.warnings]]


@router.post("/work-items/{item_id}/complete")
async def complete_item(item_id: int, request: Request, user: PageUser) -> Response:
    """The correction form (or an action button) completes the work item via its workflow."""
    form = await checked_form(request)
    engine: Engine = request.app.state.engine
    action = str(form.get("action") or "")
    with Session(engine, expire_on_commit=False) as session:
        item = open_item_for(session, item_id)
        claim = claim_or_404(session, item.claim_id)
    if not may_work(user, item.queue) or (item.queue == "manager" and not is_manager(user)):
        raise PageForbidden(f"Your role ({user.role}) cannot complete {item.queue} items.")
    values = submitted_values(form)
    corrections: dict[str, Any] | None = None
    if item.queue in CORRECTING_QUEUES and action in ("resubmit", "check"):
        corrections = corrections_from(values, claim.document, item.queue)

    def again(**kw: Any) -> HTMLResponse:
        with Session(engine, expire_on_commit=False) as session:
            fresh = claim_or_404(session, claim.id or 0)
            return _rerender_claim(request, session, fresh, user, values=values, **kw)

    if corrections is not None:
        try:
            document = corrected_document(claim.document, corrections)
        except CorrectionError as exc:
            return await run_in_threadpool(
                again, error="The corrected claim is not complete.", reasons=[],
                field_errors=exc.errors, checked=False, status_code=422)
        if action == "check":
            def scrubbed() -> list[dict[str, Any]]:
                with Session(engine) as session:
                    return _check_with_scrubber(session, document)

            found = await run_in_threadpool(scrubbed)
            return await run_in_threadpool(again, error=None, reasons=found, field_errors=[],
                                           checked=True, status_code=200)
    return await _complete(request, user, item, action, values, corrections, again)


async def _complete(request: Request, user: User, item: WorkItem, action: str,
                    values: dict[str, Any], corrections: dict[str, Any] | None,
                    again: Callable[..., HTMLResponse]) -> Response:
    form = await request.form()
    body = CompleteBody(action=action, note=str(form.get("note") or "") or None,
                        corrections=corrections,
                        payer_id=values["payer_id"] if action == "redirect" else None)
    try:
        client = await get_client(request)
        await complete_work_item(item.id or 0, body, engine=request.app.state.engine,
                                 client=client, user=user)
    except HTTPException as exc:
        detail = exc.detail
        error = detail.get("error") if isinstance(detail, dict) else str(detail)
        reasons: list[Any] = detail.get("reasons", []) if isinstance(detail, dict) else []
        return await run_in_threadpool(again, error=error, reasons=reasons, field_errors=[],
                                       checked=False, status_code=exc.status_code)
    target = f"/claims/{item.claim_id}?completed={quote(action)}"
    return RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)
