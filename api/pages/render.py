"""What every page shares: the Jinja2 templates and their filters, the security headers, the
error pages, who may open a page, and the CSRF check of a form POST.

Every page but /login requires a session (anonymous visitors go to /login?next=...); every form
POST carries the CSRF token of the session cookie (hidden field `csrf_token` or header
`X-CSRF-Token`); roles are checked per route.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, HTTPException, Request, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.deps import current_user_or_none
from api.policy import roles_for
from reclaim.codes import cpt, hcpcs, modifiers, pos
from reclaim.codes.carc import describe_carc, describe_rarc, plain_denial
from reclaim.config import Settings
from reclaim.models import User

API_DIR = Path(__file__).resolve().parent.parent
ROOT = API_DIR.parent
STATIC_DIR = API_DIR / "static"
TEMPLATES_DIR = ROOT / "templates"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
WORK_POLL_SECONDS = 5
CLAIM_POLL_SECONDS = 5
DASHBOARD_POLL_SECONDS = 10
# Who may read and upload payer files, as /api/v1/edi (and admins).
FILE_ROLES = roles_for("payer_files")
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


# ---------------------------------------------------------------- who may open a page


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
def page_allow(permission: str) -> Callable[[User], User]:
    """The roles of a permission of api.policy (the route x role table) may open the page."""
    return page_role(*roles_for(permission))


PageManager = Annotated[User, Depends(page_allow("manage"))]
PageDashboard = Annotated[User, Depends(page_allow("dashboard"))]
PageSetup = Annotated[User, Depends(page_allow("setup"))]
PageAdmin = Annotated[User, Depends(page_allow("users"))]


def is_manager(user: User) -> bool:
    return user.role in ("admin", *roles_for("manage"))


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


# ---------------------------------------------------------------- rendering


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


# ---------------------------------------------------------------- error pages

_TITLES = {403: "Not allowed", 404: "Not found", 409: "Already done", 422: "Not accepted"}


async def login_redirect(request: Request, exc: LoginRequired) -> Response:
    target = "/login?" + urlencode({"next": exc.next_url})
    if is_htmx(request):  # a fragment request: send the whole page to the login form
        return Response(status_code=200, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)


async def error_page(request: Request, exc: StarletteHTTPException) -> Response:
    """An HTTP error as a page for a browser; as JSON under /api/ and for anything else."""
    if exc.status_code == 413:  # a streamed body stopped by the size limit (api.limits)
        from starlette.middleware.body_limit import MAX_BODY_SIZE_SCOPE_KEY

        from api.limits import too_large

        return too_large(request.scope, request.scope.get(MAX_BODY_SIZE_SCOPE_KEY))
    if request.url.path.startswith("/api/") or "text/html" not in request.headers.get(
        "accept", ""
    ):
        return await http_exception_handler(request, exc)
    return render(request, "pages/error.html",
                  {"title": f"{exc.status_code}: {_TITLES.get(exc.status_code, 'Error')}",
                   "message": str(exc.detail)}, status_code=exc.status_code)


async def forbidden_page(request: Request, exc: PageForbidden) -> Response:
    return render(request, "pages/error.html",
                  {"title": "Not allowed", "message": exc.message}, status_code=403)
