"""The app in-process against a fresh database, with users of every role and a fake Temporal
client (the pages' completion goes through the real work-items route up to the update call)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlmodel import Session, select
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from api.app import create_app
from api.deps import SESSION_COOKIE
from contracts.messages import WorkItemResult
from reclaim.auth import hash_password, token_digest
from reclaim.config import Settings
from reclaim.models import User, UserSession
from reclaim.sessions import start_session

PASSWORD = "correct-horse-1"
ROLE_USERS = {"coder": "cora", "front_desk": "fran", "biller": "bill", "manager": "mona",
              "admin": "ada"}
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class FakeHandle:
    client: FakeClient
    workflow_id: str

    async def execute_update(self, _update: Any, request: Any, **_kw: Any) -> WorkItemResult:
        self.client.updates.append((self.workflow_id, request))
        if self.client.refuse_with is not None:
            raise WorkflowUpdateFailedError(
                ApplicationError("the corrected claim still fails the scrubber",
                                 self.client.refuse_with, type="ScrubFailed"))
        return WorkItemResult(work_item_id=int(self.workflow_id.rsplit("-", 1)[1]),
                              action=request.action, note=request.note)

    async def signal(self, name: str, arg: Any) -> None:
        self.client.signals.append((self.workflow_id, name, arg))


@dataclass
class FakeClient:
    updates: list[tuple[str, Any]] = field(default_factory=list)
    signals: list[tuple[str, str, Any]] = field(default_factory=list)
    refuse_with: list[dict[str, Any]] | None = None

    def get_workflow_handle(self, workflow_id: str) -> FakeHandle:
        return FakeHandle(self, workflow_id)


@pytest.fixture(scope="session")
def password_hash() -> str:
    return hash_password(PASSWORD)  # argon2 is slow on purpose: hash once for every test


@pytest.fixture
def page_db(fresh_engine: Engine, password_hash: str) -> Engine:
    engine = fresh_engine
    with Session(engine) as s:
        for role, name in ROLE_USERS.items():
            s.add(User(username=name, role=role, email=f"{name}@example.com",
                       password_hash=password_hash, api_token_hash=token_digest(f"tok-{name}")))
        s.commit()
    return engine


@pytest.fixture
def fake_client() -> FakeClient:
    return FakeClient()


@pytest.fixture
def app(page_db: Engine, tmp_path: Path, fake_client: FakeClient) -> FastAPI:
    settings = Settings(data_dir=tmp_path, database_url=page_db.url.render_as_string(False),
                        secret_key="test-secret", payload_key="test-payload-key",
                        smtp_host="127.0.0.1")
    return create_app(settings, client=fake_client)  # type: ignore[arg-type]


@pytest.fixture
def anon(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as client:
        yield client


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Sign in through the form; returns the session's CSRF token."""
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 303, response.text
    return csrf_of(client)


def csrf_of(client: TestClient) -> str:
    engine = cast(FastAPI, client.app).state.engine
    with Session(engine) as s:
        row = s.get(UserSession, token_digest(client.cookies[SESSION_COOKIE]))
    assert row is not None
    return row.csrf_token


@pytest.fixture
def as_role(app: FastAPI) -> Iterator[Any]:
    clients: list[TestClient] = []

    def make(role: str) -> TestClient:
        client = TestClient(app, follow_redirects=False)
        client.__enter__()
        clients.append(client)
        with Session(app.state.engine) as s:
            user = s.exec(select(User).where(User.username == ROLE_USERS[role])).one()
            # The login form itself is tested in test_pages; a session row saves argon2 time.
            cookie, _csrf = start_session(session=s, user=user)
            s.commit()
        client.cookies.set(SESSION_COOKIE, cookie)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


class QueryCounter:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.count = 0

    def __enter__(self) -> QueryCounter:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: object) -> None:
        self.count += 1


def csrf_in_page(html: str) -> str:
    found = CSRF_INPUT.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)
