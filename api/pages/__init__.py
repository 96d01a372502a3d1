"""The web pages people work in: login, the work queue, claims, the manager's dashboard, printable
forms, the mail sink and the admin pages. Server-rendered Jinja2 (api.pages.render); htmx
(vendored under /static) refreshes the live parts every few seconds, and every page works
without JavaScript."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.pages import (
    admin,
    auth,
    claims,
    correction,
    dashboard,
    files,
    mail,
    practice,
    printouts,
    work,
)
from api.pages.render import (
    STATIC_DIR,
    LoginRequired,
    PageForbidden,
    error_page,
    forbidden_page,
    login_redirect,
)

# FastAPI matches routes in the order they were included.
AREAS = (auth, dashboard, work, claims, correction, printouts, mail, files, admin, practice)


def install(app: FastAPI) -> None:
    """Mount the pages, the static files and the login redirect on the app."""
    for area in AREAS:
        app.include_router(area.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.exception_handler(LoginRequired)(login_redirect)
    app.exception_handler(StarletteHTTPException)(error_page)
    app.exception_handler(PageForbidden)(forbidden_page)
