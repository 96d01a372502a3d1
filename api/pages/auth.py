"""Signing in and out of the pages."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Engine
from sqlmodel import Session

from api.deps import SESSION_COOKIE
from api.pages.render import PageUser, checked_form, render, safe_next
from reclaim import audit
from reclaim.auth import SESSION_MAX_AGE, authenticate
from reclaim.auth import session_cookie as make_session_cookie
from reclaim.config import Settings
from reclaim.models import User

router = APIRouter(include_in_schema=False)


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
