"""The web pages people work in: login, the work queue, claims, the manager's dashboard, printable
forms, the mail sink and the admin pages. Server-rendered Jinja2; htmx (vendored under /static)
refreshes the live parts every few seconds, and every page works without JavaScript.

Security: every page but /login requires a session (anonymous visitors go to /login?next=...);
every form POST carries the CSRF token of the session cookie (hidden field `csrf_token` or header
`X-CSRF-Token`); roles are checked per route.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from pydantic import ValidationError
from sqlalchemy import Engine, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.deps import SESSION_COOKIE, SessionDep, current_user_or_none, get_client
from api.limits import OptionalRowId
from contracts.enums import QUEUE_ACTIONS, ClaimStatus
from reclaim import audit
from reclaim.auth import ROLES, SESSION_MAX_AGE, UserError, authenticate, create_user
from reclaim.auth import session_cookie as make_session_cookie
from reclaim.claims.service import CorrectionError, claim_detail, corrected_document
from reclaim.codes import cpt, hcpcs, icd10, modifiers, pos
from reclaim.codes.carc import describe_carc, describe_rarc, plain_denial
from reclaim.config import Settings
from reclaim.denials import store as routing_store
from reclaim.denials.routing import AUTO_FIX_KINDS, CONTEXT_FLAGS, ROUTES, RoutingTableError
from reclaim.kpi import dashboard as kpi
from reclaim.models import (
    Claim,
    EdiFile,
    ReceivedMail,
    Remittance,
    Submission,
    User,
    WorkItem,
    utcnow,
)
from reclaim.work.items import QUEUE_ROLE, assign
from temporal_client import receive_file

ROOT = Path(__file__).resolve().parent.parent
STATIC_DIR = Path(__file__).with_name("static")
TEMPLATES_DIR = ROOT / "templates"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
WORK_POLL_SECONDS = 5
CLAIM_POLL_SECONDS = 5
DASHBOARD_POLL_SECONDS = 10
CORRECTING_QUEUES = ("coder", "front_desk")
# Who may read and upload payer files, as POST /api/v1/edi (and admins).
FILE_ROLES = ("biller", "manager", "coder")
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
ACTION_LABELS = {
    "resubmit": "Send the corrected claim",
    "redirect": "Send to another payer",
    "write_off": "Write off",
    "appeal_sent": "Appeal sent",
    "approve": "Approve",
    "reject": "Reject",
}

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(TEMPLATES_DIR))


# ---------------------------------------------------------------- formatting


def money(value: Any) -> str:
    if value is None or value == "":
        return "—"
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        return str(value)
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


def when(value: datetime | date | str | None) -> Markup:
    """A UTC time the small JS rewrites into the viewer's zone; readable without JS too."""
    if value is None or value == "":
        return Markup("—")
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        utc = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        iso = utc.strftime("%Y-%m-%dT%H:%M:%SZ")
        return Markup('<time datetime="{0}" data-utc="{0}">{1} UTC</time>').format(
            iso, utc.strftime("%Y-%m-%d %H:%M"))
    return Markup('<time datetime="{0}">{0}</time>').format(value.isoformat())


def pct(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def days(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} days"


def plain_words(item: Mapping[str, Any]) -> str:
    """The denial behind a work item in a coder's words (or the item's own detail)."""
    denials = (item.get("data") or {}).get("denials") or []
    sentences = []
    for d in denials:
        text = d.get("plain") or ""
        if not text and d.get("group") and d.get("carc"):
            try:
                text = plain_denial(d["group"], d["carc"], d.get("rarcs") or [])
            except ValueError:
                text = f"{d['group']}-{d['carc']}"
        if text:
            sentences.append(text)
    return " ".join(sentences) or str(item.get("detail") or "")


def _safe_describe(fn: Callable[[str], str], code: str) -> str:
    try:
        return fn(code)
    except ValueError:
        return "not a well-formed code"


def procedure_label(code: str) -> str:
    if hcpcs.is_hcpcs(code):
        return hcpcs.common_codes().label(code) or "HCPCS Level II"
    if cpt.is_cpt(code):
        kind = cpt.category(code)
        return f"CPT category {kind}" if kind else "CPT"
    return "not a CPT or HCPCS code"


def modifier_label(code: str) -> str:
    return modifiers.label(code) or "modifier"


def pos_label(code: str) -> str:
    found = pos.lookup(code)
    return found.label if found else "unknown place of service"


templates.env.filters.update(money=money, when=when, pct=pct, days=days)
templates.env.globals.update(
    describe_carc=lambda c: _safe_describe(describe_carc, c),
    procedure_label=procedure_label, modifier_label=modifier_label, pos_label=pos_label,
    describe_rarc=lambda c: _safe_describe(describe_rarc, c),
    action_label=lambda a: ACTION_LABELS.get(a, a.replace("_", " ")),
    work_poll=WORK_POLL_SECONDS, claim_poll=CLAIM_POLL_SECONDS,
    dashboard_poll=DASHBOARD_POLL_SECONDS,
)


# ---------------------------------------------------------------- auth for pages


class LoginRequired(Exception):
    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


class PageForbidden(Exception):
    def __init__(self, message: str) -> None:
        self.message = message


def _here(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def page_user(request: Request) -> User:
    user = current_user_or_none(request)
    if user is None:
        raise LoginRequired(_here(request))
    return user


def page_role(*roles: str) -> Callable[[User], User]:
    """These roles (admins always) may open the page."""

    def check(user: Annotated[User, Depends(page_user)]) -> User:
        if user.role != "admin" and user.role not in roles:
            raise PageForbidden(
                f"Your role ({user.role}) cannot open this page; it is for "
                + (", ".join(roles) + " and admins" if roles else "admins") + "."
            )
        return user

    return check


PageUser = Annotated[User, Depends(page_user)]
PageManager = Annotated[User, Depends(page_role("manager"))]
PageAdmin = Annotated[User, Depends(page_role())]


def may_work(user: User, queue: str) -> bool:
    """Who works a queue (same rule as the work-items API)."""
    return user.role in ("admin", "manager") or QUEUE_ROLE.get(queue) == user.role or (
        queue == "appeal" and user.role == "coder"
    )


def is_manager(user: User) -> bool:
    return user.role in ("manager", "admin")


async def checked_form(request: Request) -> FormData:
    """The POSTed form, refused unless it carries the session's CSRF token. Requests signed in
    with a bearer token carry no ambient credential, so they need none."""
    form = await request.form()
    expected = getattr(request.state, "csrf", None)
    if expected is None and request.headers.get("authorization", "").lower().startswith("bearer"):
        return form
    given = request.headers.get(CSRF_HEADER) or str(form.get(CSRF_FIELD) or "")
    if not expected or not given or not secrets.compare_digest(str(expected), given):
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            detail="missing or wrong CSRF token: reload the page and try again")
    return form


def safe_next(value: str | None) -> str:
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def embedded_mail(settings: Settings) -> bool:
    return settings.smtp_host in (None, "", "127.0.0.1")


def render(request: Request, name: str, context: dict[str, Any] | None = None,
           status_code: int = 200) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    user = getattr(request.state, "user", None)
    base = {
        "user": user,
        "csrf": getattr(request.state, "csrf", None) or "",
        "embedded_mail": embedded_mail(settings),
        "is_manager": user is not None and is_manager(user),
        "is_admin": user is not None and user.role == "admin",
        "may_see_files": user is not None and user.role in ("admin", *FILE_ROLES),
        "path": request.url.path,
    }
    response = templates.TemplateResponse(request, name, {**base, **(context or {})},
                                          status_code=status_code)
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


_TITLES = {403: "Not allowed", 404: "Not found", 409: "Already done", 422: "Not accepted"}


def install(app: FastAPI) -> None:
    """Mount the pages, the static files and the login redirect on the app."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        target = "/login?" + urlencode({"next": exc.next_url})
        if is_htmx(request):  # a fragment request: send the whole page to the login form
            return Response(status_code=200, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/api/") or "text/html" not in request.headers.get(
            "accept", ""
        ):
            return await http_exception_handler(request, exc)
        return render(request, "pages/error.html",
                      {"title": f"{exc.status_code}: {_TITLES.get(exc.status_code, 'Error')}",
                       "message": str(exc.detail)}, status_code=exc.status_code)

    @app.exception_handler(PageForbidden)
    async def _forbidden(request: Request, exc: PageForbidden) -> Response:
        return render(request, "pages/error.html",
                      {"title": "Not allowed", "message": exc.message}, status_code=403)


# ---------------------------------------------------------------- login


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> HTMLResponse:  # noqa: A002
    return render(request, "pages/login.html", {"next": safe_next(next), "error": None})


def _cross_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return False
    return origin.rstrip("/") != f"{request.url.scheme}://{request.url.netloc}"


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    form = await request.form()
    username = str(form.get("username") or "").strip()
    password = str(form.get("password") or "")
    next_url = safe_next(str(form.get("next") or "/"))
    if _cross_origin(request):  # login CSRF: no session yet, so refuse foreign origins
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="sign in from Reclaim's own page")
    engine: Engine = request.app.state.engine

    def check() -> User | None:
        with Session(engine, expire_on_commit=False) as session:
            user = authenticate(session=session, username=username, password=password)
            if user is not None:
                audit.record(session=session, user=user.username, action="login")
                session.commit()
            return user

    user = await run_in_threadpool(check) if username and password else None
    if user is None:
        return render(request, "pages/login.html",
                      {"next": next_url, "error": "Wrong username or password.",
                       "username": username}, status_code=401)
    settings: Settings = request.app.state.settings
    response = RedirectResponse(next_url, status_code=status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        SESSION_COOKIE, make_session_cookie(secret=settings.secret_key, user=user),
        max_age=SESSION_MAX_AGE, httponly=True, samesite="lax",
        secure=request.url.scheme == "https", path="/",
    )
    return response


@router.post("/logout")
async def logout(request: Request, _user: PageUser) -> Response:
    await checked_form(request)
    response = RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax",
                           secure=request.url.scheme == "https")
    return response


# ---------------------------------------------------------------- dashboard


def _today_now() -> tuple[date, datetime]:
    now = utcnow()
    return now.date(), now


def _filter_from_query(request: Request) -> kpi.ClaimFilter:
    try:
        return kpi.ClaimFilter.from_query(request.query_params)
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from exc


def _chart_scale(value: float, top: float, height: float) -> float:
    return height - (value / top * height if top else 0.0)


def trend_chart(points: list[kpi.TrendPoint], width: int = 560,
                height: int = 160) -> dict[str, Any]:
    """Geometry of the denial-rate line: one point per month, y from 0 to the highest rate."""
    rated = [p for p in points if p.rate is not None]
    top = max([p.rate or 0.0 for p in rated] + [0.1])
    step = width / max(len(points) - 1, 1)
    dots = [
        {"x": round(i * step, 1), "y": round(_chart_scale(p.rate or 0.0, top, height), 1),
         "label": p.month, "rate": p.rate, "denied": p.denied, "adjudicated": p.adjudicated}
        for i, p in enumerate(points)
    ]
    return {
        "width": width, "height": height, "dots": dots,
        "polyline": " ".join(f"{d['x']},{d['y']}" for d in dots),
        "ticks": [{"y": round(_chart_scale(top * k / 4, top, height), 1), "label": pct(top * k / 4)}
                  for k in range(5)],
    }


def bar_chart(bars: list[dict[str, Any]], width: int = 560, height: int = 160) -> dict[str, Any]:
    top = max([float(b["value"]) for b in bars] + [1.0])
    slot = width / max(len(bars), 1)
    out = []
    for i, b in enumerate(bars):
        y = _chart_scale(float(b["value"]), top, height)
        out.append({**b, "x": round(i * slot + slot * 0.15, 1), "w": round(slot * 0.7, 1),
                    "y": round(y, 1), "h": round(height - y, 1),
                    "cx": round(i * slot + slot / 2, 1)})
    return {"width": width, "height": height, "bars": out}


def pareto_chart(rows: list[kpi.ParetoRow], width: int = 560,
                 height: int = 160) -> dict[str, Any]:
    chart = bar_chart([{"label": r.reason, "value": r.denials, "link": r.link, "title":
                        f"{r.reason} {r.label}: {r.denials}"} for r in rows], width, height)
    line = [(b["cx"], round(_chart_scale(r.cumulative_share, 1.0, height), 1))
            for b, r in zip(chart["bars"], rows, strict=True)]
    chart["cumulative"] = " ".join(f"{x},{y}" for x, y in line)
    chart["cumulative_dots"] = [{"x": x, "y": y, "share": r.cumulative_share}
                                for (x, y), r in zip(line, rows, strict=True)]
    return chart


def overdue_items(session: Session, f: kpi.ClaimFilter, today: date, now: datetime,
                  limit: int = 10) -> list[dict[str, Any]]:
    query = (
        select(WorkItem, Claim.patient_first_name, Claim.patient_last_name, Claim.payer_id)
        .join(Claim, col(Claim.id) == WorkItem.claim_id)
        .where(WorkItem.status == "open", col(WorkItem.due_at) < now,
               *kpi.claim_conditions(f.period(), today=today, now=now))
        .order_by(col(WorkItem.due_at), col(WorkItem.id))
        .limit(limit)
    )
    return [_item_row(item, first, last, payer) for item, first, last, payer in
            session.exec(query).all()]


def dashboard_context(session: Session, f: kpi.ClaimFilter) -> dict[str, Any]:
    today, now = _today_now()
    board = kpi.dashboard(session=session, claim_filter=f, today=today, now=now)
    aging = bar_chart([{"label": b.label, "value": b.balance, "link": b.link,
                        "title": f"{b.label} days: {b.claims} claims, {money(b.balance)}"}
                       for b in board.kpis.ar_aging])
    return {
        "filter": f, "kpis": board.kpis, "statuses": board.statuses, "queues": board.queues,
        "trend": board.trend, "trend_chart": trend_chart(board.trend), "pareto": board.pareto,
        "pareto_chart": pareto_chart(board.pareto), "aging_chart": aging,
        "overdue": overdue_items(session, f, today, now),
        "work_age_buckets": [b[0] for b in kpi.WORK_AGE_BUCKETS],
        "payers": _payers(session),
        "unposted": session.execute(_UNPOSTED_TOTAL).one(),
    }


def _payers(session: Session) -> list[str]:
    return list(session.exec(select(Claim.payer_id).distinct().order_by(Claim.payer_id)).all())


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, session: SessionDep, user: PageUser) -> Response:
    if not is_manager(user):
        return RedirectResponse("/work", status_code=status.HTTP_303_SEE_OTHER)
    f = _filter_from_query(request)
    return render(request, "pages/dashboard.html", dashboard_context(session, f))


@router.get("/partials/dashboard", response_class=HTMLResponse)
def dashboard_partial(request: Request, session: SessionDep, _user: PageManager) -> HTMLResponse:
    f = _filter_from_query(request)
    return render(request, "pages/_dashboard_body.html", dashboard_context(session, f))


# ---------------------------------------------------------------- work queue


def _item_row(item: WorkItem, first: str, last: str, payer: str) -> dict[str, Any]:
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
        queues = [q for q in QUEUE_ACTIONS if may_work(user, q)]
        if queue in queues:
            queues = [queue]
        query = query.where(col(WorkItem.queue).in_(queues))
        if scope != "queue":  # my queue: mine and nobody's
            query = query.where(
                or_(col(WorkItem.assignee) == user.username, col(WorkItem.assignee).is_(None)))
    if overdue:
        query = query.where(col(WorkItem.due_at) < utcnow())
    query = query.order_by(col(WorkItem.due_at).asc().nulls_last(), col(WorkItem.id)).limit(200)
    return [_item_row(item, first, last, payer) for item, first, last, payer in
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


def _open_item_for(session: Session, item_id: int) -> WorkItem:
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
    item = _open_item_for(session, item_id)
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
    item = _open_item_for(session, item_id)
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


PAGE_SIZE = 50


def claims_context(request: Request, session: Session, page: int) -> dict[str, Any]:
    f = _filter_from_query(request)
    today, now = _today_now()
    rows, total = kpi.search_claims(session=session, claim_filter=f, today=today, now=now,
                                    page=page, page_size=PAGE_SIZE)
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    base = f.query()
    return {
        "filter": f, "rows": rows, "total": total, "page": page, "pages": pages,
        "prev_link": f"/claims?{base}&page={page - 1}" if page > 1 else None,
        "next_link": f"/claims?{base}&page={page + 1}" if page < pages else None,
        "statuses": [s.value for s in ClaimStatus], "routes": list(ROUTES),
        "payers": _payers(session), "cohorts": kpi.COHORTS,
        "filter_query": base,
    }


# ---------------------------------------------------------------- one claim


def _line_form(line: Mapping[str, Any]) -> dict[str, str]:
    return {
        "procedure": str(line.get("procedure") or ""),
        "modifiers": " ".join(line.get("modifiers") or []),
        "units": str(line.get("units") if line.get("units") is not None else "1"),
        "charge": str(line.get("charge") or ""),
        "pointers": " ".join(str(p) for p in line.get("diagnosis_pointers") or []),
    }


def form_values(document: Mapping[str, Any]) -> dict[str, Any]:
    patient = document.get("patient") or {}
    return {
        "diagnoses": list(document.get("diagnoses") or []),
        "lines": [_line_form(line) for line in document.get("lines") or []],
        "patient": {k: str(patient.get(k) or "") for k in
                    ("first_name", "last_name", "birth_date", "member_id")},
        "payer_id": str(document.get("payer_id") or ""),
    }


def _split(value: str) -> list[str]:
    return [part for part in value.replace(",", " ").split() if part]


def submitted_values(form: FormData) -> dict[str, Any]:
    """The correction form as typed (kept when it is shown again with errors)."""
    count = int(str(form.get("line_count") or "0") or 0)
    return {
        "diagnoses": [str(v).strip() for v in form.getlist("diagnoses") if str(v).strip()],
        "lines": [
            {name: str(form.get(f"lines-{i}-{name}") or "").strip()
             for name in ("procedure", "modifiers", "units", "charge", "pointers")}
            for i in range(min(count, 50))
        ],
        "patient": {k: str(form.get(f"patient-{k}") or "").strip()
                    for k in ("first_name", "last_name", "birth_date", "member_id")},
        "payer_id": str(form.get("payer_id") or "").strip(),
    }


def corrections_from(values: Mapping[str, Any], document: Mapping[str, Any],
                     queue: str) -> dict[str, Any]:
    """The `corrections` of a completion: the coder's codes, or the front desk's patient data."""
    if queue == "front_desk":
        return {"patient": {k: v for k, v in values["patient"].items() if v}}
    originals = list(document.get("lines") or [])
    lines = []
    for i, line in enumerate(values["lines"]):
        if not line["procedure"]:
            continue  # an emptied procedure removes the line
        base = dict(originals[i]) if i < len(originals) else {}
        base.update(procedure=line["procedure"], modifiers=_split(line["modifiers"]),
                    units=line["units"] or "1", charge=line["charge"] or base.get("charge"))
        pointers = _split(line["pointers"])
        base["diagnosis_pointers"] = [int(p) if p.isdigit() else p for p in pointers]
        lines.append(base)
    return {"diagnoses": values["diagnoses"], "lines": lines}


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
        "values": form_values(document),
        "document_json": json.dumps(document),
        "findings": claim.findings or [],
        "field_messages": field_messages(list(claim.findings or [])),
    }


def _claim_or_404(session: Session, claim_id: int) -> Claim:
    claim = session.get(Claim, claim_id)
    if claim is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"claim {claim_id} not found")
    return claim


@router.get("/claims/{claim_id}", response_class=HTMLResponse)
def claim_page(claim_id: int, request: Request, session: SessionDep,
               user: PageUser) -> HTMLResponse:
    claim = _claim_or_404(session, claim_id)
    audit.record(session=session, user=user.username, action="view", claim_id=claim_id)
    context = claim_context(session, claim, user)
    context["completed"] = request.query_params.get("completed")
    return render(request, "pages/claim.html", context)


@router.get("/partials/claims/{claim_id}", response_class=HTMLResponse)
def claim_partial(claim_id: int, request: Request, session: SessionDep,
                  user: PageUser) -> HTMLResponse:
    claim = _claim_or_404(session, claim_id)
    return render(request, "pages/_claim_live.html", claim_context(session, claim, user))


def _rerender_claim(request: Request, session: Session, claim: Claim, user: User, *,
                    values: dict[str, Any], error: str | None, reasons: list[Any],
                    field_errors: list[dict[str, Any]], checked: bool,
                    status_code: int) -> HTMLResponse:
    context = claim_context(session, claim, user)
    context.update(values=values, error=error, reasons=reasons, field_errors=field_errors,
                   checked=checked, field_messages=field_messages([*reasons, *field_errors]))
    return render(request, "pages/claim.html", context, status_code=status_code)


_NESTED_INDEX = re.compile(r"^(lines\[\d+\]\.\w+)\[\d+\]$")


def field_path(field: str) -> str:
    """`lines.0.modifiers.1` or `lines[0].modifiers[1]` -> `lines[0].modifiers` (an input)."""
    path = re.sub(r"\.(\d+)", r"[\1]", field)
    return _NESTED_INDEX.sub(r"\1", path)


def field_messages(findings: list[Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in findings:
        if isinstance(f, Mapping) and f.get("field"):
            out.setdefault(field_path(str(f["field"])), []).append(str(f.get("message", "")))
    return out


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
        item = _open_item_for(session, item_id)
        claim = _claim_or_404(session, item.claim_id)
    if not may_work(user, item.queue) or (item.queue == "manager" and not is_manager(user)):
        raise PageForbidden(f"Your role ({user.role}) cannot complete {item.queue} items.")
    values = submitted_values(form)
    corrections: dict[str, Any] | None = None
    if item.queue in CORRECTING_QUEUES and action in ("resubmit", "check"):
        corrections = corrections_from(values, claim.document, item.queue)

    def again(**kw: Any) -> HTMLResponse:
        with Session(engine, expire_on_commit=False) as session:
            fresh = _claim_or_404(session, claim.id or 0)
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
    from api.routes.work_items import CompleteBody, complete_work_item

    form = await request.form()
    body = CompleteBody(action=action, note=str(form.get("note") or "") or None,
                        corrections=corrections,
                        payer_id=values["payer_id"] if action == "redirect" else None)
    try:
        client = await get_client(request)
        await complete_work_item(item.id or 0, body, request, client, user)
    except HTTPException as exc:
        detail = exc.detail
        error = detail.get("error") if isinstance(detail, dict) else str(detail)
        reasons: list[Any] = detail.get("reasons", []) if isinstance(detail, dict) else []
        return await run_in_threadpool(again, error=error, reasons=reasons, field_errors=[],
                                       checked=False, status_code=exc.status_code)
    target = f"/claims/{item.claim_id}?completed={quote(action)}"
    return RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)


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


# ---------------------------------------------------------------- mail sink


@router.get("/mail", response_class=HTMLResponse)
def mail_page(request: Request, session: SessionDep, _user: PageUser) -> HTMLResponse:
    if not embedded_mail(request.app.state.settings):
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            detail="mail goes to an external server; see its own inbox")
    messages = session.exec(
        select(ReceivedMail).order_by(col(ReceivedMail.id).desc()).limit(100)).all()
    return render(request, "pages/mail.html", {"messages": messages})


# ---------------------------------------------------------------- payer files

PageFiles = Annotated[User, Depends(page_role(*FILE_ROLES))]
FILES_SHOWN = 100
_EDI = EdiFile.__table__.c  # type: ignore[attr-defined]
_REMITTANCES = Remittance.__table__.c  # type: ignore[attr-defined]
_FILE_COLUMNS = (_EDI.id, _EDI.type, _EDI.status, _EDI.source, _EDI.filename, _EDI.size,
                 _EDI.matched, _EDI.unmatched, _EDI.signalled, _EDI.received_at, _EDI.warnings,
                 _EDI.error)
_FILES = sa_select(*_FILE_COLUMNS).order_by(_EDI.id.desc()).limit(FILES_SHOWN)
_UNPOSTED = (sa_select(_REMITTANCES.id, _REMITTANCES.edi_file_id, _REMITTANCES.position,
                       _REMITTANCES.patient_control_number, _REMITTANCES.status_code,
                       _REMITTANCES.charge, _REMITTANCES.paid,
                       _REMITTANCES.payer_claim_control_number, _REMITTANCES.payment_date,
                       _REMITTANCES.trace_number, _REMITTANCES.received_at)
             .where(_REMITTANCES.claim_id.is_(None)).order_by(_REMITTANCES.id.desc())
             .limit(FILES_SHOWN))
_UNPOSTED_TOTAL = sa_select(func.count(), func.coalesce(func.sum(_REMITTANCES.paid), 0)).where(
    _REMITTANCES.claim_id.is_(None))


# CLP02, the claim status code of an 835 claim payment (X12 code list 1029).
CLAIM_PAYMENT_STATUS = {
    "1": "processed as primary", "2": "processed as secondary", "3": "processed as tertiary",
    "4": "denied", "19": "processed as primary, forwarded",
    "20": "processed as secondary, forwarded", "21": "processed as tertiary, forwarded",
    "22": "reversal of previous payment", "23": "not our claim, forwarded",
    "25": "predetermination pricing only",
}


def files_context(session: Session, *, received: int | None = None) -> dict[str, Any]:
    """The newest payer files (without their raw text), the 835 claims that matched no claim
    of ours (money received that nothing is posted to) and their total, and the file just
    received when there is one: three queries (four with that file) whatever the numbers."""
    files = session.execute(_FILES).all()
    unposted = session.execute(_UNPOSTED).all()
    count, total = session.execute(_UNPOSTED_TOTAL).one()
    just = None
    if received is not None:
        just = session.execute(sa_select(*_FILE_COLUMNS).where(_EDI.id == received)).first()
    return {"files": files, "unposted": unposted, "unposted_count": count,
            "unposted_total": total, "received": just, "error": None,
            "claim_status": CLAIM_PAYMENT_STATUS}


@router.get("/files", response_class=HTMLResponse)
def files_page(request: Request, session: SessionDep, _user: PageFiles,
               received: OptionalRowId = None, again: bool = False) -> HTMLResponse:
    context = files_context(session, received=received)
    context["again"] = again
    return render(request, "pages/files.html", context)


@router.post("/files", response_class=HTMLResponse)
async def files_upload(request: Request, user: PageFiles) -> Response:
    """A payer file a biller downloaded from a payer's portal, read as POST /api/v1/edi reads
    it; then the page again, saying what became of it (a redirect: a reload posts nothing)."""
    form = await checked_form(request)
    upload = form.get("file")
    raw = await upload.read() if isinstance(upload, UploadFile) else b""
    if not raw.strip():
        def empty() -> dict[str, Any]:
            with Session(request.app.state.engine) as session:
                return files_context(session)

        context = await run_in_threadpool(empty)
        context["error"] = "Choose a 999, 277CA or 835 file to upload: none was sent."
        return render(request, "pages/files.html", context, status_code=422)
    client = await get_client(request)
    engine = request.app.state.engine
    # The browser's name for the file, printable characters only (PostgreSQL refuses a NUL).
    named = upload.filename if isinstance(upload, UploadFile) else None
    filename = ("".join(ch for ch in named if ch.isprintable()).strip() or None) if named else None
    result, _signals = await receive_file(engine, client, request.app.state.settings, raw,
                                          source="upload", filename=filename)
    await run_in_threadpool(
        audit.record_engine, engine, user=user.username, action="upload_edi",
        detail=f"file {result.file_id} ({filename or 'unnamed'})")
    again = "&again=1" if result.duplicate else ""
    return RedirectResponse(f"/files?received={result.file_id}{again}",
                            status_code=status.HTTP_303_SEE_OTHER)


# ---------------------------------------------------------------- admin: routing


def _rows_from_form(form: FormData) -> tuple[dict[str, str], list[dict[str, Any]]]:
    count = int(str(form.get("rule_count") or "0") or 0)
    rows: list[dict[str, Any]] = []
    for i in range(min(count, 1000)):
        if form.get(f"rule-{i}-delete"):
            continue
        row: dict[str, Any] = {
            name: str(form.get(f"rule-{i}-{name}") or "").strip()
            for name in routing_store.RULE_FIELDS
        }
        if not row["id"]:
            continue  # the blank "add a rule" row left empty
        priority = row.get("priority") or ""
        row["priority"] = int(priority) if priority.lstrip("-").isdigit() else priority or None
        rows.append(row)
    header = {"default_route": str(form.get("default_route") or "").strip(),
              "description": str(form.get("description") or "").strip()}
    return header, rows


def routing_context(session: Session, *, version_id: int | None,
                    table_toml: str | None = None) -> dict[str, Any]:
    versions = routing_store.history(session=session)
    shown = routing_store.get_version(session=session, version_id=version_id) \
        if version_id else None
    text = table_toml or (shown.table_toml if shown else routing_store.current_toml(
        session=session))
    try:
        header, rows = routing_store.table_rows(text)
    except ValueError:
        header, rows = {"default_route": "", "description": ""}, []
    return {
        "versions": versions, "shown": shown, "header": header, "rows": rows,
        "table_toml": text, "routes": [r for r in ROUTES], "auto_fix_kinds": AUTO_FIX_KINDS,
        "context_flags": CONTEXT_FLAGS, "fields": routing_store.RULE_FIELDS,
        "problems": [], "saved": None,
    }


@router.get("/admin/routing", response_class=HTMLResponse)
def routing_page(request: Request, session: SessionDep, _user: PageManager,
                 version: int | None = None) -> HTMLResponse:
    context = routing_context(session, version_id=version)
    context["saved"] = request.query_params.get("saved")
    return render(request, "pages/routing.html", context)


@router.post("/admin/routing", response_class=HTMLResponse)
async def routing_save(request: Request, session: SessionDep, user: PageManager) -> Response:
    form = await checked_form(request)
    note = str(form.get("note") or "").strip()
    if form.get("mode") == "toml":
        text = str(form.get("table_toml") or "")
    else:
        header, rows = _rows_from_form(form)
        text = routing_store.rows_to_toml(default_route=header["default_route"],
                                          description=header["description"], rows=rows)
    try:
        version = routing_store.save_version(session=session, author=user.username,
                                             note=note, table_toml=text)
    except RoutingTableError as exc:
        context = routing_context(session, version_id=None, table_toml=text)
        context["problems"] = exc.problems
        return render(request, "pages/routing.html", context, status_code=422)
    audit.record(session=session, user=user.username, action="edit_routing",
                 detail=f"version {version.id}: {note}")
    return RedirectResponse(f"/admin/routing?saved={version.id}",
                            status_code=status.HTTP_303_SEE_OTHER)


# ---------------------------------------------------------------- admin: audit and users


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(request: Request, session: SessionDep, _user: PageManager,
               username: str | None = None, claim_id: str | None = None) -> HTMLResponse:
    claim = int(claim_id) if claim_id and claim_id.isdigit() else None
    rows = audit.entries(session=session, claim_id=claim, user=username or None, limit=300)
    return render(request, "pages/audit.html",
                  {"rows": rows, "username": username or "", "claim_id": claim_id or ""})


def users_context(session: Session) -> dict[str, Any]:
    users = session.exec(select(User).order_by(User.username)).all()
    return {"users": users, "roles": ROLES, "created": None, "error": None, "values": {}}


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, session: SessionDep, _user: PageAdmin) -> HTMLResponse:
    return render(request, "pages/users.html", users_context(session))


@router.post("/admin/users", response_class=HTMLResponse)
async def users_add(request: Request, session: SessionDep, admin: PageAdmin) -> HTMLResponse:
    from api.routes.users import NewUser

    form = await checked_form(request)
    values = {k: str(form.get(k) or "").strip() for k in ("username", "role", "email")}
    try:
        body = NewUser(username=values["username"], password=str(form.get("password") or ""),
                       role=values["role"], email=values["email"] or None)  # type: ignore[arg-type]
        user, token = create_user(session=session, username=body.username, role=body.role,
                                  password=body.password, email=body.email)
    except ValidationError as exc:
        error = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                          for e in exc.errors())
        return _users_error(request, session, values, error)
    except UserError as exc:
        return _users_error(request, session, values, str(exc))
    audit.record(session=session, user=admin.username, action="create_user",
                 detail=f"{user.username} as {user.role}")
    session.flush()
    context = users_context(session)
    context["created"] = {"username": user.username, "role": user.role, "api_token": token}
    return render(request, "pages/users.html", context, status_code=201)


def _users_error(request: Request, session: Session, values: dict[str, str],
                 error: str) -> HTMLResponse:
    context = users_context(session)
    context.update(error=error, values=values)
    return render(request, "pages/users.html", context, status_code=422)
