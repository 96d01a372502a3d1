"""The manager's and admin's pages: the routing table (edited as rows or as TOML, every version
kept), the audit log, and the users."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session, select
from starlette.datastructures import FormData

from api.deps import SessionDep
from api.pages.render import PageAdmin, PageManager, checked_form, render
from reclaim import audit
from reclaim.auth import ROLES, NewUser, UserError, UsernameTaken, create_user
from reclaim.claims.plain_errors import plain_errors
from reclaim.denials import store as routing_store
from reclaim.denials.routing import AUTO_FIX_KINDS, CONTEXT_FLAGS, ROUTES, RoutingTableError
from reclaim.models import User

router = APIRouter(include_in_schema=False)


# ---------------------------------------------------------------- routing


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


# ---------------------------------------------------------------- audit and users


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
    form = await checked_form(request)
    values = {k: str(form.get(k) or "").strip() for k in ("username", "role", "email")}
    try:
        body = NewUser(username=values["username"], password=str(form.get("password") or ""),
                       role=values["role"], email=values["email"] or None)
        user, token = create_user(session=session, username=body.username, role=body.role,
                                  password=body.password, email=body.email)
    except ValidationError as exc:
        error = " ".join(e["message"] for e in plain_errors(exc.errors()))
        return _users_error(request, session, values, error)
    except UsernameTaken as exc:  # found by the check, or created at the same moment
        return _users_error(request, session, values, str(exc), status_code=409)
    except UserError as exc:
        return _users_error(request, session, values, str(exc))
    audit.record(session=session, user=admin.username, action="create_user",
                 detail=f"{user.username} as {user.role}")
    session.flush()
    context = users_context(session)
    context["created"] = {"username": user.username, "role": user.role, "api_token": token}
    return render(request, "pages/users.html", context, status_code=201)


def _users_error(request: Request, session: Session, values: dict[str, str],
                 error: str, *, status_code: int = 422) -> HTMLResponse:
    context = users_context(session)
    context.update(error=error, values=values)
    return render(request, "pages/users.html", context, status_code=status_code)
