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
from reclaim.auth import authenticate
from reclaim.config import Settings
from reclaim.models import User
from reclaim.sessions import end_session, start_session
from reclaim.throttle import LoginThrottle

# One message for an unknown user, a wrong password and a throttled login: no enumeration.
LOGIN_REFUSED = "Wrong username or password, or too many attempts: wait a moment and try again."

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
    settings: Settings = request.app.state.settings
    throttle: LoginThrottle = request.app.state.login_throttle
    address = request.client.host if request.client else "unknown"
    who = username[:80] or "(blank)"
    wait = throttle.retry_after(username=username, address=address)
    if wait > 0:
        audit.record_engine(engine, user=who, action="login_throttled",
                            detail=f"from {address}; retry in {wait:.0f} s")
        refused = render(request, "pages/login.html",
                         {"next": next_url, "error": LOGIN_REFUSED, "username": username},
                         status_code=status.HTTP_429_TOO_MANY_REQUESTS)
        refused.headers["Retry-After"] = str(max(1, round(wait)))
        return refused

    def check() -> tuple[User, str] | None:
        with Session(engine, expire_on_commit=False) as session:
            user = authenticate(session=session, username=username, password=password)
            if user is None:
                audit.record(session=session, user=who, action="login_failed",
                             detail=f"from {address}")
                session.commit()
                return None
            cookie, _csrf = start_session(session=session, user=user)
            audit.record(session=session, user=user.username, action="login")
            session.commit()
            return user, cookie

    signed_in = await run_in_threadpool(check) if username and password else None
    if signed_in is None:
        throttle.failed(username=username, address=address)
        if not (username and password):
            audit.record_engine(engine, user=who, action="login_failed",
                                detail=f"from {address}; blank username or password")
        return render(request, "pages/login.html",
                      {"next": next_url, "error": LOGIN_REFUSED,
                       "username": username}, status_code=401)
    throttle.succeeded(username=username)
    response = RedirectResponse(next_url, status_code=status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        SESSION_COOKIE, signed_in[1], max_age=settings.session_max_hours * 3600,
        httponly=True, samesite="lax", secure=request.url.scheme == "https", path="/",
    )
    return response


@router.post("/logout")
async def logout(request: Request, _user: PageUser) -> Response:
    await checked_form(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        engine: Engine = request.app.state.engine

        def end() -> None:
            with Session(engine) as session:
                end_session(session=session, value=cookie)
                session.commit()

        await run_in_threadpool(end)
    response = RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax",
                           secure=request.url.scheme == "https")
    return response
