"""Printable documents: an appeal letter, and a claim submission as the CMS-1500 or UB-04 paper
form."""

from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse
from sqlmodel import select

from api.deps import SessionDep
from api.pages.render import PageUser, render
from reclaim import audit
from reclaim.models import Submission, WorkItem

router = APIRouter(include_in_schema=False)


@router.get("/work-items/{item_id}/letter", response_class=HTMLResponse)
def appeal_letter(item_id: int, session: SessionDep, user: PageUser) -> HTMLResponse:
    item = session.get(WorkItem, item_id)
    html = (item.data or {}).get("letter_html") if item is not None else None
    if item is None or not html:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            detail=f"work item {item_id} has no appeal letter")
    audit.record(session=session, user=user.username, action="view_letter",
                 claim_id=item.claim_id)
    # The letter is a complete, self-styled document rendered by reclaim.work.notices (autoescaped).
    return HTMLResponse(html, headers={
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
        "Cache-Control": "no-store"})


@router.get("/claims/{claim_id}/submissions/{attempt}/form", response_class=HTMLResponse)
def claim_form(claim_id: int, attempt: int, request: Request, session: SessionDep,
               user: PageUser) -> HTMLResponse:
    submission = session.exec(
        select(Submission).where(Submission.claim_id == claim_id, Submission.attempt == attempt)
    ).first()
    if submission is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            detail=f"claim {claim_id} has no submission {attempt}")
    audit.record(session=session, user=user.username, action="view_form", claim_id=claim_id)
    doc = submission.document
    institutional = (submission.transaction_type == "837I"
                     or doc.get("claim_type") == "institutional")
    name = "forms/ub04.html" if institutional else "forms/cms1500.html"
    diagnoses = list(doc.get("diagnoses") or [])
    return render(request, name, {
        "submission": submission, "doc": doc,
        "diagnoses": [{"letter": chr(65 + i), "code": c.replace(".", "")}
                      for i, c in enumerate(diagnoses)],
        "total": sum((Decimal(str(line.get("charge") or 0)) for line in doc.get("lines") or []),
                     Decimal("0")),
    })
