"""Schemathesis against create_app's own OpenAPI document, in process (ASGI, no network), as an
admin: whatever it generates for every operation, the API never answers with a server error.

The Temporal client is the dev server's, so operations that start or signal workflows run for
real (on this test's task queue, which no worker polls).
"""

from __future__ import annotations

import uuid
from typing import Any

import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from schemathesis.checks import not_a_server_error
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from reclaim.auth import create_user
from reclaim.config import Settings
from reclaim.db import session_scope

MAX_EXAMPLES = 20


@pytest.fixture
def admin_token(engine: Engine) -> str:
    with session_scope(engine) as session:
        _, token = create_user(session=session, username=f"admin-{uuid.uuid4().hex[:6]}",
                               role="admin", password="correct horse battery")
    return token


@pytest.fixture
def app(dev_env: WorkflowEnvironment, settings: Settings) -> FastAPI:
    return create_app(settings, client=dev_env.client)


# The document only: the operations run against the `app` fixture (this test's database and
# Temporal). Loaded at import because parametrize needs it; schemathesis' lazy fixture loader
# does not work with pytest 9.
schema = schemathesis.openapi.from_asgi(
    "/openapi.json", create_app(Settings(database_url="sqlite:///:memory:")))


@schema.parametrize()
@hypothesis.settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True,
                     database=None, suppress_health_check=list(hypothesis.HealthCheck))
def test_no_operation_answers_with_a_server_error(case: Any, app: FastAPI,
                                                  admin_token: str) -> None:
    response = case.call(app=app, headers={"Authorization": f"Bearer {admin_token}"})
    case.validate_response(response, checks=[not_a_server_error])
    assert response.status_code < 500
