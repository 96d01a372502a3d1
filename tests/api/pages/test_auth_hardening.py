"""Issue 13: sessions end on logout, password change, disabling and timeouts; logins are
throttled; passwords set from input pass zxcvbn; cookie callers of /api/v1 need the CSRF header
and a same-origin Origin or Referer."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from api.app import create_app
from api.deps import SESSION_COOKIE
from reclaim.auth import token_digest
from reclaim.config import Settings
from reclaim.models import AuditEntry, User, utcnow
from tests.api.pages.conftest import PASSWORD, csrf_of, login

OWN = "http://testserver"
FOREIGN = "https://evil.example"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def signed_in(client: TestClient) -> bool:
    return client.get("/work").status_code == 200



# ---------------------------------------------------------------- sessions


def test_a_cookie_forged_with_the_published_secret_is_nobody(app: FastAPI) -> None:
    # The attack on the old stateless cookie: sign {"uid": 1} with the default secret.
    from itsdangerous import URLSafeTimedSerializer

    forged = URLSafeTimedSerializer("dev-secret-change-me", salt="reclaim-session").dumps(
        {"uid": 1, "csrf": "x"})
    with TestClient(app, follow_redirects=False) as attacker:
        attacker.cookies.set(SESSION_COOKIE, forged)
        assert attacker.get("/admin/users").status_code in (303, 401, 403)
        assert attacker.get("/api/v1/audit").status_code == 401
        assert not signed_in(attacker)


def test_logout_ends_the_session_server_side(app: FastAPI, anon: TestClient) -> None:
    csrf = login(anon, "cora")
    stolen = anon.cookies[SESSION_COOKIE]
    assert anon.post("/logout", data={"csrf_token": csrf}).status_code == 303
    with TestClient(app, follow_redirects=False) as replay:
        replay.cookies.set(SESSION_COOKIE, stolen)
        assert not signed_in(replay)


def test_the_cookie_is_a_random_id_whose_digest_is_stored(page_db: Engine,
                                                          anon: TestClient) -> None:
    from reclaim.models import UserSession

    login(anon, "cora")
    value = anon.cookies[SESSION_COOKIE]
    with Session(page_db) as s:
        rows = s.exec(select(UserSession)).all()
    assert [r.id_digest for r in rows] == [token_digest(value)]


@pytest.mark.parametrize("change", ["password", "disable"])
def test_a_password_change_or_disabling_ends_every_session(page_db: Engine, app: FastAPI,
                                                           change: str) -> None:
    from reclaim.sessions import set_active, set_password

    with TestClient(app, follow_redirects=False) as client:
        login(client, "cora")
        assert signed_in(client)
        with Session(page_db) as s:
            user = s.exec(select(User).where(User.username == "cora")).one()
            if change == "password":
                set_password(session=s, user=user, password="Fresh-Kettle-Harbor-93")
            else:
                set_active(session=s, user=user, active=False)
                set_active(session=s, user=user, active=True)  # back, but the session is gone
            s.commit()
        assert not signed_in(client)


def test_set_password_applies_the_policy(page_db: Engine) -> None:
    from reclaim.sessions import set_password

    with Session(page_db) as s:
        user = s.exec(select(User).where(User.username == "cora")).one()
        with pytest.raises(ValueError, match="password"):
            set_password(session=s, user=user, password="password1234")


@pytest.mark.parametrize(("column", "age"), [("last_seen_at", timedelta(minutes=61)),
                                         ("created_at", timedelta(hours=13))])
def test_idle_and_absolute_timeouts(page_db: Engine, anon: TestClient, column: str,
                                    age: timedelta) -> None:
    from reclaim.models import UserSession

    login(anon, "cora")
    assert signed_in(anon)
    with Session(page_db) as s:
        row = s.exec(select(UserSession)).one()
        setattr(row, column, utcnow() - age)
        s.add(row)
        s.commit()
    assert not signed_in(anon)


# ---------------------------------------------------------------- throttling


def test_many_wrong_passwords_then_the_right_one_is_throttled(page_db: Engine,
                                                              anon: TestClient) -> None:
    for _ in range(5):
        assert anon.post("/login", data={"username": "cora", "password": "nope"}
                         ).status_code == 401
    wrong = anon.post("/login", data={"username": "cora", "password": "nope"})
    right = anon.post("/login", data={"username": "cora", "password": PASSWORD})
    assert right.status_code == 429
    assert int(right.headers["retry-after"]) >= 1
    assert SESSION_COOKIE not in anon.cookies
    unknown = anon.post("/login", data={"username": "nobody-here", "password": "nope"})
    message = re.compile(r"Wrong username or password[^<]*")
    # One message for a wrong password, an unknown user and a throttled login.
    said = {m.group(0) for m in map(message.search, (wrong.text, unknown.text, right.text)) if m}
    assert len(said) == 1
    with Session(page_db) as s:
        actions = [e.action for e in s.exec(select(AuditEntry)).all()]
    assert actions.count("login_failed") >= 6
    assert "login_throttled" in actions


def test_one_address_guessing_many_usernames_is_throttled(page_db: Engine,
                                                          tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=page_db.url.render_as_string(False),
                        secret_key="test-secret", payload_key="test-payload-key",
                        smtp_host="127.0.0.1", login_address_failures=3)
    with TestClient(create_app(settings), follow_redirects=False) as client:
        for name in ("a1", "a2", "a3", "a4"):
            client.post("/login", data={"username": name, "password": "nope"})
        assert client.post("/login", data={"username": "cora", "password": PASSWORD}
                           ).status_code == 429


def test_the_back_off_doubles() -> None:
    from reclaim.throttle import LoginThrottle

    throttle = LoginThrottle(user_failures=2, address_failures=100)
    waits = []
    for _ in range(5):
        throttle.failed(username="cora", address="10.0.0.1")
        waits.append(round(throttle.retry_after(username="cora", address="10.0.0.1")))
    assert waits == [0, 0, 1, 2, 4]
    throttle.succeeded(username="cora")
    throttle.storage.reset()
    assert throttle.retry_after(username="cora", address="10.0.0.1") == 0


# ---------------------------------------------------------------- password policy


@pytest.mark.parametrize("password", ["password", "12345678", "password1234", "aaaaaaaaaaaa"])
def test_weak_passwords_are_refused_by_the_api(anon: TestClient, password: str) -> None:
    response = anon.post("/api/v1/users", headers={"Authorization": "Bearer tok-ada"},
                         json={"username": "weakling", "password": password, "role": "coder"})
    assert response.status_code == 422, response.text
    assert "password" in response.text


def test_a_strong_password_is_accepted_by_the_api(anon: TestClient) -> None:
    response = anon.post("/api/v1/users", headers={"Authorization": "Bearer tok-ada"},
                         json={"username": "strong", "password": "Harbor-kettle-Fresh-93",
                               "role": "coder"})
    assert response.status_code == 201, response.text


def test_the_admin_page_refuses_a_weak_password_with_feedback(as_role: Any) -> None:
    admin = as_role("admin")
    response = admin.post("/admin/users", data={
        "csrf_token": csrf_of(admin), "username": "weakling", "password": "password1234",
        "role": "coder"})
    assert response.status_code == 422
    assert "password" in response.text
    assert "guess" in response.text


def test_cli_users_add_refuses_a_weak_password(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from cli import app as cli_app

    monkeypatch.setenv("RECLAIM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("RECLAIM_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    result = CliRunner().invoke(cli_app, ["users", "add", "weakling", "--role", "coder",
                                          "--password", "password1234"])
    assert result.exit_code == 2, result.output
    assert "password" in result.output


# ---------------------------------------------------------------- CSRF on /api/v1


def unsafe_api_routes(app: FastAPI) -> list[tuple[str, str]]:
    """From the OpenAPI document: every JSON API route is in it (included routers too)."""
    found = []
    for path, operations in app.openapi()["paths"].items():
        if path.startswith("/api/v1"):
            for method in sorted(m.upper() for m in operations if m.upper() in UNSAFE):
                found.append((method, re.sub(r"\{[^}]+\}", "1", path)))
    return found


def test_every_unsafe_api_route_refuses_a_foreign_origin_with_a_cookie(
        app: FastAPI, as_role: Any) -> None:
    routes = unsafe_api_routes(app)
    assert ("POST", "/api/v1/edi") in routes
    assert len(routes) >= 5
    admin = as_role("admin")
    csrf = csrf_of(admin)
    for method, path in routes:
        for headers in ({"Origin": FOREIGN, "x-csrf-token": csrf},
                        {"Origin": FOREIGN, "Content-Type": "text/plain"},
                        {"Referer": FOREIGN + "/page", "x-csrf-token": csrf},
                        {"x-csrf-token": csrf}):  # neither Origin nor Referer
            response = admin.request(method, path, headers=headers, content=b"x")
            assert response.status_code == 403, (method, path, headers, response.text)


def test_the_reported_cross_site_requests_are_refused(as_role: Any) -> None:
    biller = as_role("biller")
    response = biller.post("/api/v1/edi", content=b"ISA*00*",
                           headers={"Origin": FOREIGN, "Content-Type": "text/plain"})
    assert response.status_code == 403
    coder = as_role("coder")
    response = coder.post("/api/v1/work-items/1/claim", headers={"Origin": FOREIGN})
    assert response.status_code == 403


def test_same_origin_cookie_calls_need_the_csrf_header(as_role: Any) -> None:
    coder = as_role("coder")
    without = coder.post("/api/v1/work-items/999999/claim", headers={"Origin": OWN})
    assert without.status_code == 403
    assert "CSRF" in without.json()["detail"]
    with_token = coder.post("/api/v1/work-items/999999/claim",
                            headers={"Origin": OWN, "x-csrf-token": csrf_of(coder)})
    assert with_token.status_code != 403
    by_referer = coder.post("/api/v1/work-items/999999/claim",
                            headers={"Referer": OWN + "/work", "x-csrf-token": csrf_of(coder)})
    assert by_referer.status_code != 403


def test_bearer_callers_are_unaffected(anon: TestClient) -> None:
    response = anon.post("/api/v1/work-items/999999/claim",
                         headers={"Authorization": "Bearer tok-cora", "Origin": FOREIGN})
    assert response.status_code != 403


# ---------------------------------------------------------------- password change, disabling


def test_changing_ones_password_over_the_api_ends_every_session(app: FastAPI,
                                                                page_db: Engine) -> None:
    with TestClient(app, follow_redirects=False) as browser:
        login(browser, "cora")
        headers = {"Origin": OWN, "x-csrf-token": csrf_of(browser)}
        wrong = browser.post("/api/v1/users/me/password", headers=headers,
                             json={"current_password": "not-it", "new_password": "x" * 12})
        assert wrong.status_code == 403
        assert "current_password" in wrong.json()["detail"]
        weak = browser.post("/api/v1/users/me/password", headers=headers,
                            json={"current_password": PASSWORD, "new_password": "aaaaaaaaaaaa"})
        assert weak.status_code == 422
        assert "new_password" in str(weak.json()["detail"])
        assert signed_in(browser)  # nothing changed by the refusals
        done = browser.post("/api/v1/users/me/password", headers=headers,
                            json={"current_password": PASSWORD,
                                  "new_password": "Fresh-Kettle-Harbor-93"})
        assert done.status_code == 204, done.text
        assert not signed_in(browser)  # this session ended with the old password
        assert login(browser, "cora", "Fresh-Kettle-Harbor-93")
        assert signed_in(browser)
    with Session(page_db) as s:
        actions = s.exec(select(AuditEntry.action).where(AuditEntry.username == "cora")).all()
    assert "change_password" in actions


def test_an_admin_disabling_a_user_ends_its_sessions_and_token(app: FastAPI,
                                                               anon: TestClient) -> None:
    with TestClient(app, follow_redirects=False) as victim:
        login(victim, "bill")
        assert signed_in(victim)
        admin = {"Authorization": "Bearer tok-ada"}
        assert anon.patch("/api/v1/users/bill", json={"active": False},
                          headers={"Authorization": "Bearer tok-mona"}).status_code == 403
        off = anon.patch("/api/v1/users/bill", json={"active": False}, headers=admin)
        assert off.status_code == 200, off.text
        assert off.json() == {"username": "bill", "role": "biller", "active": False}
        assert not signed_in(victim)
        assert anon.get("/api/v1/claims",
                        headers={"Authorization": "Bearer tok-bill"}).status_code == 401
        assert anon.patch("/api/v1/users/nobody", json={"active": False},
                          headers=admin).status_code == 404
        assert anon.patch("/api/v1/users/ada", json={"active": False},
                          headers=admin).status_code == 409
        assert anon.patch("/api/v1/users/bill", json={"active": True},
                          headers=admin).status_code == 200
        assert anon.get("/api/v1/claims",
                        headers={"Authorization": "Bearer tok-bill"}).status_code == 200


def test_cli_passwd_and_disable_end_the_users_sessions(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from cli import app as cli_app
    from reclaim.db import get_engine
    from reclaim.models import UserSession
    from reclaim.sessions import start_session

    monkeypatch.delenv("RECLAIM_TEMPORAL_ADDRESS", raising=False)
    monkeypatch.setenv("RECLAIM_DATA_DIR", str(tmp_path))
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("RECLAIM_DATABASE_URL", url)
    runner = CliRunner()
    added = runner.invoke(cli_app, ["users", "add", "carla", "--role", "coder",
                                    "--password", "Fresh-Kettle-Harbor-93"])
    assert added.exit_code == 0, added.output
    engine = get_engine(url)

    def sessions_of_carla() -> int:
        with Session(engine) as s:
            user = s.exec(select(User).where(User.username == "carla")).one()
            return len(s.exec(select(UserSession).where(UserSession.user_id == user.id)).all())

    def sign_in() -> None:
        with Session(engine) as s:
            carla = s.exec(select(User).where(User.username == "carla")).one()
            start_session(session=s, user=carla)
            s.commit()

    sign_in()
    weak = runner.invoke(cli_app, ["users", "passwd", "carla", "--password", "aaaaaaaaaaaa"])
    assert weak.exit_code == 2
    assert sessions_of_carla() == 1  # a refused password changes nothing
    strong = runner.invoke(cli_app, ["users", "passwd", "carla",
                                     "--password", "Quiet-Lantern-Meadow-57"])
    assert strong.exit_code == 0, strong.output
    assert sessions_of_carla() == 0
    sign_in()
    assert runner.invoke(cli_app, ["users", "disable", "carla"]).exit_code == 0
    assert sessions_of_carla() == 0
    with Session(engine) as s:
        assert not s.exec(select(User).where(User.username == "carla")).one().active
    assert runner.invoke(cli_app, ["users", "disable", "nobody"]).exit_code == 2
    assert runner.invoke(cli_app, ["users", "enable", "carla"]).exit_code == 0
