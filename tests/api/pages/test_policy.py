"""The route x role table (api/policy.py) is what the app enforces: every registered route has
an entry, and every route answers anonymous and every role as the table says; README prints the
table the module renders."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api import policy
from reclaim.auth import ROLES
from tests.api.pages.conftest import PASSWORD, ROLE_USERS
from tests.api.pages.test_api_roles import _flat
from tests.factories import seed

README = Path(__file__).resolve().parents[3] / "README.md"


def registered(app: FastAPI) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for route in _flat(app.routes):
        out |= {(m, route.path) for m in route.methods - {"HEAD"}}
    for route in app.routes:  # starlette's own: the schema, the docs, the static mount
        if type(route).__name__ == "Mount":
            out.add(("GET", route.path))
        elif type(route).__name__ == "Route":
            out |= {(m, route.path) for m in (route.methods or set()) - {"HEAD"}}
    return out


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path).replace("/static", "/static/app.css")


def test_every_route_has_an_entry_and_every_entry_a_route(app: FastAPI) -> None:
    routes = registered(app)
    assert routes - policy.ROUTES.keys() == set(), "routes missing from api/policy.py ROUTES"
    assert policy.ROUTES.keys() - routes == set(), "entries of ROUTES no route has"


def test_the_holes_are_closed() -> None:
    assert not policy.allowed("GET", "/api/v1/edi", "front_desk")
    assert not policy.allowed("GET", "/api/v1/edi/{file_id}", "front_desk")
    assert not policy.allowed("GET", "/api/v1/metrics", "biller")
    assert policy.allowed("GET", "/api/v1/metrics", "manager")


def _refused(response: Any, role: str | None) -> bool:
    if role is None:
        if response.status_code == 401:
            return True
        return response.status_code == 303 and response.headers["location"].startswith("/login")
    return response.status_code == 403


@pytest.mark.parametrize("role", [None, *ROLES])
def test_every_route_answers_as_the_table_says(app: FastAPI, role: str | None) -> None:
    headers = {} if role is None else {"Authorization": f"Bearer tok-{ROLE_USERS[role]}"}
    wrong = []
    with TestClient(app, headers=headers, follow_redirects=False) as client:
        for method, path in sorted(policy.ROUTES):
            # /login's 401 is a wrong password: sign in for real there
            form = {"username": "cora", "password": PASSWORD} if path == "/login" else None
            response = client.request(method, concrete(path), data=form)
            client.cookies.clear()
            assert response.status_code < 500, f"{role} {method} {path}: {response.status_code}"
            if _refused(response, role) == policy.allowed(method, path, role):
                wrong.append(f"{method} {path}: {response.status_code}")
    assert wrong == [], f"{role}: answers that disagree with api/policy.py: {wrong}"


def test_readme_prints_the_table() -> None:
    text = README.read_text()
    begin, end = "<!-- policy:begin -->\n", "<!-- policy:end -->"
    printed = text[text.index(begin) + len(begin):text.index(end)]
    assert printed == policy.markdown()


def test_a_coder_cannot_take_or_complete_an_appeal(page_db: Engine, app: FastAPI) -> None:
    ids = seed(page_db)
    item = ids["appeal_item"]
    with TestClient(app, headers={"Authorization": "Bearer tok-cora"}) as coder:
        assert coder.post(f"/api/v1/work-items/{item}/claim").status_code == 403
        done = coder.post(f"/api/v1/work-items/{item}/complete", json={"action": "appeal_sent"})
        assert done.status_code == 403
        assert coder.post(f"/work-items/{item}/complete",
                          data={"action": "appeal_sent"}).status_code == 403
    with TestClient(app, headers={"Authorization": "Bearer tok-bill"}) as biller:
        assert biller.post(f"/api/v1/work-items/{item}/claim").status_code == 200
