"""The API in process (httpx ASGI transport), users of every role, and the dev server's client
(not the time-skipping one: workflows nobody works would hold its clock)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from reclaim.auth import create_user
from reclaim.config import Settings
from reclaim.db import session_scope

ROLES = ("coder", "front_desk", "biller", "manager", "admin")


@pytest.fixture
async def api(dev_env: WorkflowEnvironment, engine: Engine,
              settings: Settings) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """One client per role (Bearer tokens) plus `anonymous`."""
    import uuid

    app = create_app(settings, client=dev_env.client)
    tokens = {}
    with session_scope(engine) as session:
        for role in ROLES:
            _, token = create_user(session=session, username=f"{role}-{uuid.uuid4().hex[:6]}",
                                   role=role, password="correct horse battery")
            tokens[role] = token
    transport = httpx.ASGITransport(app=app)
    clients = {
        role: httpx.AsyncClient(transport=transport, base_url="http://test",
                                headers={"Authorization": f"Bearer {token}"})
        for role, token in tokens.items()
    }
    clients["anonymous"] = httpx.AsyncClient(transport=transport, base_url="http://test")
    yield clients
    for client in clients.values():
        await client.aclose()
