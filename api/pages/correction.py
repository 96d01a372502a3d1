"""Completing a work item from its claim page: the correction form (every field of the claim,
the ones the payer named first), checked by the scrubber on request or while the person types,
or an action button, sent to the item's workflow; refusals show the claim page again with the
form as typed and each message on its field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import Engine
from sqlmodel import Session

from api.deps import get_client
from api.pages.claims import CORRECTING_QUEUES, claim_context, claim_or_404, correction_form
from api.pages.forms import (
    corrections_between,
    document_from_values,
    field_messages,
    submitted_values,
)
from api.pages.render import PageForbidden, PageUser, checked_form, is_manager, render
from api.pages.work import open_item_for
from api.work_actions import CompleteBody, complete_work_item
from reclaim.claims.schemas import ClaimDocument
from reclaim.claims.service import (
    CorrectionError,
    corrected_document,
    nothing_changed,
    unchanged_since,
)
from reclaim.models import Claim, User, WorkItem
from reclaim.work.items import may_work

router = APIRouter(include_in_schema=False)


def _rerender_claim(request: Request, session: Session, claim: Claim, user: User, *,
                    values: dict[str, Any], error: str | None, reasons: list[Any],
                    field_errors: list[dict[str, Any]], checked: bool, note: str | None,
                    status_code: int) -> HTMLResponse:
    context = claim_context(session, claim, user)
    context.update(values=values, error=error, reasons=reasons, field_errors=field_errors,
                   checked=checked, note=note,
                   form=correction_form(values, context["correcting"]),
                   field_messages=field_messages([*reasons, *field_errors]),
                   # A message on a field the person cannot see helps nobody: open them all.
                   open_all=bool(reasons or field_errors))
    return render(request, "pages/claim.html", context, status_code=status_code)


def _check(session: Session, claim_id: int, document: ClaimDocument) -> list[dict[str, Any]]:
    """What the scrubber says of the corrected claim, and whether it is the one last sent."""
    from reclaim.scrub import service as scrubbing  # the scrubber loads code sets: only when asked

    found: list[dict[str, Any]] = []
    attempt = unchanged_since(session=session, claim_id=claim_id, document=document)
    if attempt is not None:
        found.append({"rule": "unchanged", "field": "", "severity": "error",
                      "message": nothing_changed(attempt)})
    # The claim itself is no duplicate of its own correction (it goes as a replacement).
    outcome = scrubbing.scrub_document(session=session, document=document, claim_id=claim_id)
    found.extend(f.model_dump() for f in [*outcome.errors, *outcome.warnings])
    return found


class _Read:
    """The form read back: the corrected document, or why it is not one."""

    def __init__(self, claim: Claim, values: dict[str, str]) -> None:
        doc, self.blanks = document_from_values(values, claim.document)
        self.corrections = corrections_between(claim.document, doc)
        self.document: ClaimDocument | None = None
        self.errors: list[dict[str, Any]] = list(self.blanks)
        if self.blanks:
            return
        try:
            self.document = corrected_document(claim.document, self.corrections)
        except CorrectionError as exc:
            self.errors = exc.errors


def _item_and_claim(engine: Engine, item_id: int, user: User) -> tuple[WorkItem, Claim]:
    with Session(engine, expire_on_commit=False) as session:
        item = open_item_for(session, item_id)
        claim = claim_or_404(session, item.claim_id)
    if not may_work(user, item.queue) or (item.queue == "manager" and not is_manager(user)):
        raise PageForbidden(f"Your role ({user.role}) cannot complete {item.queue} items.")
    return item, claim


@router.post("/work-items/{item_id}/check")
async def check_item(item_id: int, request: Request, user: PageUser) -> JSONResponse:
    """The correction form as typed, read and scrubbed (the form's script asks while the person
    types): `{findings: [{field, message, severity}], complete}`."""
    form = await checked_form(request)
    engine: Engine = request.app.state.engine
    item, claim = await run_in_threadpool(_item_and_claim, engine, item_id, user)
    if item.queue not in CORRECTING_QUEUES:
        raise HTTPException(status.HTTP_409_CONFLICT,
                            detail=f"work item {item_id} corrects no claim")
    read = _Read(claim, submitted_values(form))
    if read.document is None:
        findings = [{**e, "severity": "error"} for e in read.errors]
        return JSONResponse({"findings": findings, "complete": False})

    def scrubbed() -> list[dict[str, Any]]:
        assert read.document is not None
        with Session(engine) as session:
            return _check(session, claim.id or 0, read.document)

    return JSONResponse({"findings": await run_in_threadpool(scrubbed), "complete": True})


@router.post("/work-items/{item_id}/complete")
async def complete_item(item_id: int, request: Request, user: PageUser) -> Response:
    """The correction form (or an action button) completes the work item via its workflow."""
    form = await checked_form(request)
    engine: Engine = request.app.state.engine
    action = str(form.get("action") or "")
    note = str(form.get("note") or "") or None
    item, claim = await run_in_threadpool(_item_and_claim, engine, item_id, user)
    values = submitted_values(form)

    def again(**kw: Any) -> HTMLResponse:
        with Session(engine, expire_on_commit=False) as session:
            fresh = claim_or_404(session, claim.id or 0)
            return _rerender_claim(request, session, fresh, user, values=values, note=note, **kw)

    corrections: dict[str, Any] | None = None
    if item.queue in CORRECTING_QUEUES and action in ("resubmit", "redirect", "check"):
        read = _Read(claim, values)
        if read.document is None:
            return await run_in_threadpool(
                again, error="The corrected claim is not complete: see the fields marked below.",
                reasons=[], field_errors=read.errors, checked=False, status_code=422)
        corrections = read.corrections
        if action == "check":
            def scrubbed() -> list[dict[str, Any]]:
                assert read.document is not None
                with Session(engine) as session:
                    return _check(session, claim.id or 0, read.document)

            found = await run_in_threadpool(scrubbed)
            return await run_in_threadpool(again, error=None, reasons=found, field_errors=[],
                                           checked=True, status_code=200)
    return await _complete(request, user, item, action, values, note, corrections, again)


async def _complete(request: Request, user: User, item: WorkItem, action: str,
                    values: dict[str, Any], note: str | None,
                    corrections: dict[str, Any] | None,
                    again: Callable[..., HTMLResponse]) -> Response:
    payer_id = (values.get("payer_id") or None) if action == "redirect" else None
    if payer_id is not None and corrections:
        corrections.pop("payer_id", None)  # the redirect carries it
    body = CompleteBody(action=action, note=note, corrections=corrections or None,
                        payer_id=payer_id)
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
