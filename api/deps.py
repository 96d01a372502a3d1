"""Request dependencies: the database session, the Temporal client, the signed-in user."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client

from api.policy import roles_for
from reclaim.auth import user_for_token
from reclaim.config import Settings
from reclaim.models import User
from reclaim.sessions import resolve_session
from temporal_client import connect

SESSION_COOKIE = "reclaim_session"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def get_engine_dep(request: Request) -> Engine:
    return request.app.state.engine  # type: ignore[no-any-return]


def get_session(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


async def get_client(request: Request) -> Client:
    state = request.app.state
    if state.client is None:
        try:
            state.client = await connect(state.settings)
        except Exception as exc:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                detail=f"Temporal is not reachable: {exc}",
            ) from exc
    return state.client  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SessionDep = Annotated[Session, Depends(get_session)]
ClientDep = Annotated[Client, Depends(get_client)]


def current_user_or_none(request: Request) -> User | None:
    cached = getattr(request.state, "user", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    engine = request.app.state.engine
    settings: Settings = request.app.state.settings
    user: User | None = None
    with Session(engine, expire_on_commit=False) as session:
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            user = user_for_token(session=session, token=header[7:].strip())
        else:
            cookie = request.cookies.get(SESSION_COOKIE)
            found = resolve_session(
                session=session, value=cookie,
                idle=timedelta(minutes=settings.session_idle_minutes),
                max_age=timedelta(hours=settings.session_max_hours)) if cookie else None
            session.commit()  # last_seen_at, or the timed-out row deleted
            if found is not None:
                user = found.user
                request.state.csrf = found.csrf
                check_api_csrf(request, found.csrf)
    request.state.user = user
    return user


def _same_origin(request: Request, settings: Settings) -> bool:
    """The Origin (or, without one, the Referer) is this server's own (or RECLAIM_PUBLIC_URL's)."""
    own = {f"{request.url.scheme}://{request.url.netloc}"}
    if settings.public_url:
        own.add(settings.public_url.rstrip("/"))
    origin = request.headers.get("origin")
    if origin:
        return origin.rstrip("/") in own
    referer = request.headers.get("referer")
    if referer:
        return any(referer == o or referer.startswith(o + "/") for o in own)
    return False  # a cookie caller that names neither is refused


def check_api_csrf(request: Request, expected: str) -> None:
    """Cookie-signed unsafe requests on /api/v1 need the session's CSRF token in X-CSRF-Token
    and a same-origin Origin or Referer; bearer-token callers carry no ambient credential."""
    if request.method not in UNSAFE_METHODS or not request.url.path.startswith("/api/v1"):
        return
    settings: Settings = request.app.state.settings
    if not _same_origin(request, settings):
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            detail="cross-origin request refused: Origin or Referer must be "
                                   "this server's (or sign the call with a bearer token)")
    given = request.headers.get(CSRF_HEADER, "")
    if not given or not secrets.compare_digest(given, expected):
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            detail="missing or wrong CSRF token in the X-CSRF-Token header")


def current_user(request: Request) -> User:
    user = current_user_or_none(request)
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="sign in first: a session cookie or 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


UserDep = Annotated[User, Depends(current_user)]


def require(*roles: str) -> Callable[[User], User]:
    """Allow these roles (admins always)."""

    def check(user: UserDep) -> User:
        if user.role != "admin" and user.role not in roles:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"your role ({user.role}) cannot do this; needs one of: {', '.join(roles)}",
            )
        return user

    return check


def allow(permission: str) -> Callable[[User], User]:
    """The roles of a permission of api.policy (the route x role table) may pass."""
    return require(*roles_for(permission))


ANY_ROLE = roles_for("signed_in")
Reader = Annotated[User, Depends(allow("signed_in"))]
Biller = Annotated[User, Depends(allow("claims"))]
PayerFiles = Annotated[User, Depends(allow("payer_files"))]
ClaimImporter = Annotated[User, Depends(allow("import_claims"))]
Dashboard = Annotated[User, Depends(allow("dashboard"))]
Manager = Annotated[User, Depends(allow("manage"))]
Setup = Annotated[User, Depends(allow("setup"))]
Admin = Annotated[User, Depends(allow("users"))]
