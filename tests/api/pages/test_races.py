"""A row made by someone else between our check and our insert ends in 409 naming the field,
never a 500 (the unique constraint refuses ours; the request's other work is kept)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from reclaim import auth
from reclaim.models import User
from tests.api.pages.conftest import csrf_of


@pytest.fixture
def racing_user(page_db: Engine, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """After create_user has checked the username is free, another connection creates it (the
    password is hashed between the check and the insert)."""

    def arm(username: str) -> None:
        real = auth.hash_password

        def hash_then_race(password: str) -> str:
            with Session(page_db) as other:
                other.add(User(username=username, role="coder", api_token_hash=f"x-{username}"))
                other.commit()
            return real(password)

        monkeypatch.setattr(auth, "hash_password", hash_then_race)

    return arm


def _users_named(engine: Engine, username: str) -> list[User]:
    with Session(engine) as s:
        return list(s.exec(select(User).where(User.username == username)).all())


def test_post_users_race_is_a_409_naming_the_field(app: FastAPI, page_db: Engine,
                                                   racing_user: Any) -> None:
    racing_user("twin")
    with TestClient(app, headers={"Authorization": "Bearer tok-ada"}) as admin:
        response = admin.post("/api/v1/users", json={
            "username": "twin", "password": "long-enough-1", "role": "coder"})
    assert response.status_code == 409, response.text
    assert "username" in response.json()["detail"]
    assert len(_users_named(page_db, "twin")) == 1


def test_admin_users_page_race_is_a_409(page_db: Engine, as_role: Any,
                                        racing_user: Any) -> None:
    admin = as_role("admin")
    csrf = csrf_of(admin)
    racing_user("twin2")
    response = admin.post("/admin/users", data={
        "csrf_token": csrf, "username": "twin2", "password": "long-enough-1", "role": "coder"})
    assert response.status_code == 409, response.text[-2000:]
    assert "username" in response.text
    assert "already exists" in response.text
    assert len(_users_named(page_db, "twin2")) == 1


def test_the_race_leaves_the_callers_session_usable(page_db: Engine, racing_user: Any) -> None:
    racing_user("twin3")
    with Session(page_db) as s:
        with pytest.raises(auth.UsernameTaken):
            auth.create_user(session=s, username="twin3", role="coder", password="long-enough-1")
        s.add(User(username="kept", role="coder", api_token_hash="x-kept"))  # e.g. the audit row
        s.commit()
    assert len(_users_named(page_db, "kept")) == 1
