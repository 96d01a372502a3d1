"""The API in process against a database of its own, with claims already stored, and a Temporal
client that records the signals EDI ingestion sends (a real one would route the fuzz's signals
into other tests' claim workflows: claim ids restart at 1 in a fresh database)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from reclaim.auth import create_user
from reclaim.config import Settings
from reclaim.db import session_scope
from reclaim.models import Claim, ClaimEvent
from tests.support import sent_submission


@dataclass
class SentSignal:
    workflow_id: str
    name: str
    arg: Any


@dataclass
class SignalRecorder:
    """Stands in for `temporalio.client.Client` where ingestion only signals workflows."""

    sent: list[SentSignal] = field(default_factory=list)

    def get_workflow_handle(self, workflow_id: str) -> _Handle:
        return _Handle(self, workflow_id)


@dataclass
class _Handle:
    recorder: SignalRecorder
    workflow_id: str

    async def signal(self, name: str, arg: Any) -> None:
        self.recorder.sent.append(SentSignal(self.workflow_id, name, arg))


@dataclass
class StoredClaim:
    claim_id: int
    submission_id: int
    pcn: str
    member_id: str


@dataclass
class FuzzApi:
    client: httpx.AsyncClient
    engine: Engine
    signals: SignalRecorder
    claims: list[StoredClaim]


def store_claims(engine: Engine, count: int) -> list[StoredClaim]:
    stored = []
    with session_scope(engine) as session:
        for _ in range(count):
            # The 837 as the worker builds it: a 999 is checked against its envelope.
            submission = sent_submission(session)
            assert submission.id is not None
            stored.append(StoredClaim(submission.claim_id, submission.id,
                                      submission.patient_control_number,
                                      submission.document["patient"]["member_id"]))
    return stored


def claims_snapshot(engine: Engine) -> list[dict[str, Any]]:
    with Session(engine) as session:
        claims = [c.model_dump() for c in session.exec(select(Claim).order_by(Claim.id))]
        events = [e.model_dump() for e in session.exec(select(ClaimEvent).order_by(ClaimEvent.id))]
    return claims + events


@pytest.fixture
async def fuzz_api(fresh_engine: Engine, settings: Settings) -> AsyncIterator[FuzzApi]:
    url = fresh_engine.url.render_as_string(hide_password=False)
    signals = SignalRecorder()
    app = create_app(settings.model_copy(update={"database_url": url}),
                     client=signals)  # type: ignore[arg-type]
    with session_scope(fresh_engine) as session:
        _, token = create_user(session=session, username=f"biller-{uuid.uuid4().hex[:6]}",
                               role="biller", password="correct horse battery")
    claims = store_claims(fresh_engine, 3)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test",
                                 headers={"Authorization": f"Bearer {token}"}) as client:
        yield FuzzApi(client, fresh_engine, signals, claims)


@pytest.fixture
async def biller(dev_env: WorkflowEnvironment, engine: Engine,
                 settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A biller on the session's database and dev server (claims start real workflows, on a task
    queue of this test's that no worker polls)."""
    app = create_app(settings, client=dev_env.client)
    with session_scope(engine) as session:
        _, token = create_user(session=session, username=f"biller-{uuid.uuid4().hex[:6]}",
                               role="biller", password="correct horse battery")
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test",
                                 headers={"Authorization": f"Bearer {token}"}) as client:
        yield client
