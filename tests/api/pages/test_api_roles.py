"""Every API route of the OpenAPI schema: anonymous -> 401, a role it does not allow -> 403.

The role table is read from the routes' own dependencies (the `roles` of `api.deps.require`), so
a new route is covered the day it is added, and a route that forgets its role check fails here.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from api.deps import current_user
from tests.api.pages.conftest import ROLE_USERS

# /metrics is for a Prometheus scraper: no login, its own RECLAIM_METRICS_TOKEN when set.
PUBLIC = {("GET", "/healthz"), ("GET", "/metrics")}
NON_ADMIN_ROLES = ("coder", "front_desk", "biller", "manager")


def _walk(dependant: Dependant) -> list[Any]:
    calls = [d.call for d in dependant.dependencies]
    for sub in dependant.dependencies:
        calls.extend(_walk(sub))
    return calls


def allowed_roles(route: Any) -> tuple[str, ...] | None:
    """The roles `require(...)` lets in (admins always); `()` for admins only; None when the
    route asks only for a signed-in user of any role; raises when it asks for nobody."""
    calls = _walk(route.dependant)
    for call in calls:
        code = getattr(call, "__code__", None)
        if code is not None and "roles" in code.co_freevars:
            cell = call.__closure__[code.co_freevars.index("roles")]  # type: ignore[union-attr]
            return tuple(cell.cell_contents)
    if current_user in calls:
        return None
    raise AssertionError(f"{route.path} checks no user at all")


def _flat(routes: list[Any]) -> list[Any]:
    """APIRoutes, and the effective routes of included routers (each with its full path and
    its dependant, router dependencies included)."""
    out: list[Any] = []
    for route in routes:
        if isinstance(route, APIRoute):
            out.append(route)
        elif hasattr(route, "effective_route_contexts"):
            out.extend(ctx for ctx in route.effective_route_contexts()
                       if getattr(ctx, "dependant", None) is not None)
    return out


def api_routes(app: FastAPI) -> list[tuple[str, str, Any]]:
    schema_paths = app.openapi()["paths"]
    out = []
    for route in _flat(app.routes):
        if route.path not in schema_paths:
            continue
        for method in sorted(route.methods - {"HEAD"}):
            if method.lower() in schema_paths[route.path]:
                out.append((method, route.path, route))
    return out


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_the_schema_has_the_routes_we_expect(app: FastAPI) -> None:
    paths = {(m, p) for m, p, _ in api_routes(app)}
    assert ("GET", "/api/v1/metrics") in paths
    assert ("POST", "/api/v1/work-items/{item_id}/complete") in paths
    assert len(paths) > 10


def test_anonymous_gets_401_everywhere_but_public(app: FastAPI) -> None:
    with TestClient(app) as client:
        for method, path, _route in api_routes(app):
            response = client.request(method, concrete(path))
            if (method, path) in PUBLIC:
                assert response.status_code == 200, path
            else:
                assert response.status_code == 401, f"{method} {path}: {response.status_code}"


def test_every_route_but_public_names_its_roles(app: FastAPI) -> None:
    guarded = [allowed_roles(route) for method, path, route in api_routes(app)
               if (method, path) not in PUBLIC]
    assert guarded, "no guarded routes found"


@pytest.mark.parametrize("role", NON_ADMIN_ROLES)
def test_wrong_role_gets_403(app: FastAPI, role: str) -> None:
    token = f"tok-{ROLE_USERS[role]}"
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
        checked = 0
        for method, path, route in api_routes(app):
            if (method, path) in PUBLIC:
                continue
            roles = allowed_roles(route)
            if roles is None or role in roles:
                continue
            response = client.request(method, concrete(path))
            assert response.status_code == 403, f"{role} {method} {path}: {response.status_code}"
            checked += 1
    if role != "manager":
        assert checked > 0  # every non-manager role is refused something (users, metrics...)


def test_the_role_table_matches_the_rules(app: FastAPI) -> None:
    table = {(m, p): allowed_roles(r) for m, p, r in api_routes(app)
             if (m, p) not in PUBLIC}
    assert table[("POST", "/api/v1/users")] == ()  # admins only
    assert set(table[("GET", "/api/v1/metrics")] or ()) == {"manager"}  # the dashboard's
    assert "coder" not in (table[("GET", "/api/v1/audit")] or ())
