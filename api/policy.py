"""Who may do what: the one table of route x role, read by the API (`api.deps.require` and its
aliases), the pages (`api.pages.render.page_role` and its aliases) and README (the table there is
`markdown()` of this one; tests/api/test_policy.py keeps them equal and checks every route of
the app against it).

Each route belongs to a permission; each permission names the roles it lets in (admins are let
in everywhere). Which queue a user may work is the queue's role (`reclaim.work.items.QUEUE_ROLE`,
checked per item by `may_work`): that table is printed with this one.
"""

from __future__ import annotations

from dataclasses import dataclass

from reclaim.auth import ROLES
from reclaim.work.items import QUEUE_ROLE

STAFF = ("coder", "front_desk", "biller", "manager")


@dataclass(frozen=True)
class Permission:
    roles: tuple[str, ...] | None  # None: anyone, signed in or not; admins are always let in
    what: str

    def allows(self, role: str | None) -> bool:
        if self.roles is None:
            return True
        return role is not None and (role == "admin" or role in self.roles)


PERMISSIONS: dict[str, Permission] = {
    "public": Permission(None, "no sign-in: the login form, health, Prometheus (its own "
                               "RECLAIM_METRICS_TOKEN), the API schema, static files"),
    "signed_in": Permission(STAFF, "any signed-in user: claims, work items (each item only by "
                                   "who may work its queue), forms, letters, the scrubber"),
    "claims": Permission(("coder", "biller", "manager"), "submit claims"),
    "import_claims": Permission(("coder", "biller", "manager"),
                                "import claims from an 837 the practice's own system exported"),
    "payer_files": Permission(("coder", "biller", "manager"),
                              "payer files: upload, list, read (raw 835s too)"),
    "dashboard": Permission(("manager",), "the dashboard and its KPIs"),
    "manage": Permission(("manager",), "assign work, decide appeals, edit routing, read the "
                                       "audit log"),
    "setup": Permission(("manager",), "set up the practice: add and change its providers "
                                      "and payers (pages and API), import them from CSV"),
    "users": Permission((), "manage users"),
}

# (method, path) -> permission. Every route the app registers is here (a test walks app.routes).
ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/healthz"): "public",
    ("GET", "/metrics"): "public",
    ("GET", "/openapi.json"): "public",
    ("GET", "/docs"): "public",
    ("GET", "/docs/oauth2-redirect"): "public",
    ("GET", "/redoc"): "public",
    ("GET", "/static"): "public",
    ("GET", "/login"): "public",
    ("POST", "/login"): "public",
    ("OPTIONS", "/api/v1/codec/encode"): "public",
    ("OPTIONS", "/api/v1/codec/decode"): "public",
    ("POST", "/logout"): "signed_in",
    ("GET", "/"): "signed_in",  # the dashboard for managers; everyone else is sent to /work
    ("GET", "/work"): "signed_in",
    ("GET", "/partials/work"): "signed_in",
    ("POST", "/work-items/{item_id}/take"): "signed_in",
    ("POST", "/work-items/bulk"): "signed_in",  # take; assigning others checks for a manager
    ("GET", "/work/export.csv"): "signed_in",
    ("POST", "/work-items/{item_id}/complete"): "signed_in",
    ("POST", "/work-items/{item_id}/check"): "signed_in",
    ("GET", "/work-items/{item_id}/letter"): "signed_in",
    ("GET", "/claims"): "signed_in",
    ("GET", "/partials/claims"): "signed_in",
    ("GET", "/claims/{claim_id}"): "signed_in",
    ("GET", "/partials/claims/{claim_id}"): "signed_in",
    ("GET", "/claims/{claim_id}/submissions/{attempt}/form"): "signed_in",
    ("GET", "/mail"): "signed_in",
    ("GET", "/api/v1/claims"): "signed_in",
    ("GET", "/api/v1/claims/{claim_id}"): "signed_in",
    ("GET", "/api/v1/claims/{claim_id}/x12"): "signed_in",
    ("POST", "/api/v1/scrub"): "signed_in",
    ("GET", "/api/v1/work-items"): "signed_in",
    ("GET", "/api/v1/work-items/{item_id}"): "signed_in",
    ("POST", "/api/v1/work-items/{item_id}/claim"): "signed_in",
    ("POST", "/api/v1/work-items/{item_id}/assign"): "signed_in",  # a manager, or the assignee
    ("POST", "/api/v1/work-items/{item_id}/complete"): "signed_in",
    ("POST", "/api/v1/codec/encode"): "signed_in",
    ("POST", "/api/v1/codec/decode"): "signed_in",
    ("POST", "/api/v1/claims"): "claims",
    ("POST", "/api/v1/claims/import"): "import_claims",
    ("GET", "/files"): "payer_files",
    ("POST", "/files"): "payer_files",
    ("POST", "/api/v1/edi"): "payer_files",
    ("GET", "/api/v1/edi"): "payer_files",
    ("GET", "/api/v1/edi/{file_id}"): "payer_files",
    ("GET", "/partials/dashboard"): "dashboard",
    ("GET", "/api/v1/metrics"): "dashboard",
    ("POST", "/work-items/{item_id}/assign"): "manage",
    ("POST", "/api/v1/claims/{claim_id}/appeal-decision"): "manage",
    ("GET", "/admin/routing"): "manage",
    ("POST", "/admin/routing"): "manage",
    ("GET", "/admin/audit"): "manage",
    ("GET", "/api/v1/audit"): "manage",
    ("GET", "/api/v1/providers"): "signed_in",
    ("GET", "/api/v1/providers/{npi}"): "signed_in",
    ("POST", "/api/v1/providers"): "setup",
    ("PATCH", "/api/v1/providers/{npi}"): "setup",
    ("POST", "/api/v1/providers/import"): "setup",
    ("GET", "/api/v1/payers"): "signed_in",
    ("GET", "/api/v1/payers/{payer_id}"): "signed_in",
    ("POST", "/api/v1/payers"): "setup",
    ("PATCH", "/api/v1/payers/{payer_id}"): "setup",
    ("POST", "/api/v1/payers/import"): "setup",
    ("GET", "/admin/providers"): "setup",
    ("POST", "/admin/providers"): "setup",
    ("GET", "/admin/providers/{npi}"): "setup",
    ("POST", "/admin/providers/{npi}"): "setup",
    ("GET", "/admin/payers"): "setup",
    ("POST", "/admin/payers"): "setup",
    ("GET", "/admin/payers/{payer_id}"): "setup",
    ("POST", "/admin/payers/{payer_id}"): "setup",
    ("GET", "/admin/users"): "users",
    ("POST", "/admin/users"): "users",
    ("POST", "/api/v1/users"): "users",
    ("PATCH", "/api/v1/users/{username}"): "users",
    ("POST", "/api/v1/users/me/password"): "signed_in",
}


def roles_for(permission: str) -> tuple[str, ...]:
    """The roles `require`/`page_role` let in for a permission (admins come on top)."""
    roles = PERMISSIONS[permission].roles
    if roles is None:
        raise ValueError(f"{permission!r} needs no sign-in: it has no role check")
    return roles


def allowed(method: str, path: str, role: str | None) -> bool:
    """May this role (None: anonymous) use the route?"""
    return PERMISSIONS[ROUTES[(method, path)]].allows(role)


def markdown() -> str:
    """The table README prints (between its `policy` markers)."""
    lines = ["| permission | routes | " + " | ".join(ROLES) + " |",
             "|---|---|" + "---|" * len(ROLES)]
    for name, permission in PERMISSIONS.items():
        routes = sorted((path, method) for (method, path), p in ROUTES.items() if p == name)
        cells = ["✓" if permission.allows(role) else "—" for role in ROLES]
        listed = ", ".join(f"`{m} {r}`" for r, m in routes)
        lines.append(f"| {name}: {permission.what} | {listed} | " + " | ".join(cells) + " |")
    lines += ["", "| work queue | worked by |", "|---|---|"]
    for queue, role in QUEUE_ROLE.items():
        lines.append(f"| `{getattr(queue, 'value', queue)}` | {role}, managers, admins |")
    return "\n".join(lines) + "\n"
