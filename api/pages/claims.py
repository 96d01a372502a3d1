"""The claims list (filtered, paged) and one claim: its codes, denials, work items and the
correction form of an open coder or front-desk item."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse
from sqlmodel import Session, select

from api.deps import SessionDep
from api.pages.forms import build_form, field_messages, form_values
from api.pages.render import PageUser, is_manager, plain_words, render
from contracts.enums import QUEUE_ACTIONS, ClaimStatus
from reclaim import audit
from reclaim.claims.filter import COHORTS, ClaimFilter, search_claims
from reclaim.claims.views import claim_detail
from reclaim.codes import icd10
from reclaim.codes.carc import plain_denial
from reclaim.denials.corrections import Focus, focus_for
from reclaim.denials.routing import ROUTES
from reclaim.models import Claim, User, utcnow
from reclaim.work.items import may_work

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
CORRECTING_QUEUES = ("coder", "front_desk")


def today_now() -> tuple[date, datetime]:
    now = utcnow()
    return now.date(), now


def filter_from_query(request: Request) -> ClaimFilter:
    try:
        return ClaimFilter.from_query(request.query_params)
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from exc


def payers(session: Session) -> list[str]:
    return list(session.exec(select(Claim.payer_id).distinct().order_by(Claim.payer_id)).all())


# ---------------------------------------------------------------- claims list


@router.get("/claims", response_class=HTMLResponse)
def claims_page(request: Request, session: SessionDep, _user: PageUser,
                page: int = Query(default=1, ge=1, le=100_000)) -> HTMLResponse:
    return render(request, "pages/claims.html", claims_context(request, session, page))


@router.get("/partials/claims", response_class=HTMLResponse)
def claims_partial(request: Request, session: SessionDep, _user: PageUser,
                   page: int = Query(default=1, ge=1, le=100_000)) -> HTMLResponse:
    context = claims_context(request, session, page)
    response = render(request, "pages/_claims_table.html", context)
    # The address bar shows the full page for this filter, not the fragment's URL.
    response.headers["HX-Push-Url"] = f"/claims?{context['filter_query']}"
    return response


def claims_context(request: Request, session: Session, page: int) -> dict[str, Any]:
    f = filter_from_query(request)
    today, now = today_now()
    rows, total = search_claims(session=session, claim_filter=f, today=today, now=now,
                                    page=page, page_size=PAGE_SIZE)
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    base = f.query()
    return {
        "filter": f, "rows": rows, "total": total, "page": page, "pages": pages,
        "prev_link": f"/claims?{base}&page={page - 1}" if page > 1 else None,
        "next_link": f"/claims?{base}&page={page + 1}" if page < pages else None,
        "statuses": [s.value for s in ClaimStatus], "routes": list(ROUTES),
        "payers": payers(session), "cohorts": COHORTS,
        "filter_query": base,
    }


# ---------------------------------------------------------------- one claim


def _denial_rows(denials: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for d in denials:
        try:
            plain = plain_denial(d["group"], d["carc"], d.get("rarcs") or [])
        except ValueError:
            plain = f"{d['group']}-{d['carc']}"
        rows.append({**d, "plain": plain})
    return rows


def _diagnosis_rows(codes: list[str]) -> list[dict[str, Any]]:
    out = []
    for i, code in enumerate(codes):
        found = icd10.lookup(code)
        out.append({"pointer": i + 1, "code": code,
                    "description": found.description if found else "not an ICD-10-CM code",
                    "billable": found.billable if found else None})
    return out


def claim_context(session: Session, claim: Claim, user: User) -> dict[str, Any]:
    detail = claim_detail(session=session, claim=claim)
    document = claim.document
    items = detail["work_items"]
    open_items = [w for w in items if w["status"] == "open"]
    workable = [w for w in open_items if may_work(user, w["queue"])
                and (w["queue"] != "manager" or is_manager(user))]
    correcting = next((w for w in workable if w["queue"] in CORRECTING_QUEUES), None)
    for w in items:
        w["plain"] = plain_words(w)
        w["actions"] = list(QUEUE_ACTIONS.get(w["queue"], ())) if w in workable else []
    return {
        "claim": claim, "detail": detail, "document": document,
        "diagnoses": _diagnosis_rows(list(document.get("diagnoses") or [])),
        "denials": _denial_rows(detail["denials"]),
        "open_items": open_items, "workable": workable, "correcting": correcting,
        "values": (values := form_values(document)),
        "form": correction_form(values, correcting),
        "findings": claim.findings or [],
        "field_messages": field_messages(list(claim.findings or [])),
    }


def correction_form(values: dict[str, str], correcting: dict[str, Any] | None) -> Any:
    """The correction form of the open item: the correction map's fields for it first."""
    if correcting is None:
        return None
    if correcting.get("kind") not in ("correction", "denial"):
        # A follow-up or a deadline names nothing to fix: every field, nothing first.
        return build_form(values, Focus(hints=[
            "Nothing on this claim is named as wrong: send it as it is if the payer never "
            "received it, or correct any field below."]))
    return build_form(values, focus_for(correcting.get("data") or {}))


def claim_or_404(session: Session, claim_id: int) -> Claim:
    claim = session.get(Claim, claim_id)
    if claim is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"claim {claim_id} not found")
    return claim


@router.get("/claims/{claim_id}", response_class=HTMLResponse)
def claim_page(claim_id: int, request: Request, session: SessionDep,
               user: PageUser) -> HTMLResponse:
    claim = claim_or_404(session, claim_id)
    audit.record(session=session, user=user.username, action="view", claim_id=claim_id)
    context = claim_context(session, claim, user)
    context["completed"] = request.query_params.get("completed")
    return render(request, "pages/claim.html", context)


@router.get("/partials/claims/{claim_id}", response_class=HTMLResponse)
def claim_partial(claim_id: int, request: Request, session: SessionDep,
                  user: PageUser) -> HTMLResponse:
    claim = claim_or_404(session, claim_id)
    return render(request, "pages/_claim_live.html", claim_context(session, claim, user))
