"""A worker with the real activities, an in-process sandbox payer and the time-skipping server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from contracts.messages import CompleteRequest, WorkItemResult
from reclaim.claims.schemas import ClaimDocument
from reclaim.config import Settings
from reclaim.models import Claim, ClaimEvent, WorkItem
from temporal_client import create_and_start
from tests.conftest import SmtpSink
from tests.support import InProcessPayer, Pump
from worker import build_worker
from workflows.work_item import WorkItemWorkflow


@dataclass
class Stack:
    env: WorkflowEnvironment
    client: Client
    engine: Engine
    settings: Settings
    payer: InProcessPayer
    pump: Pump
    worker: Worker
    stopped: bool = False
    claims: list[int] = field(default_factory=list)

    running: asyncio.Task[None] | None = None

    async def stop_worker(self) -> None:
        self.stopped = True
        await self.worker.shutdown()

    async def wait_letter(self, item_id: int | None, timeout: float = 30) -> None:
        def check() -> bool:
            with Session(self.engine) as session:
                item = session.get(WorkItem, item_id)
                return bool(item and item.data.get("letter_html"))

        await _poll(check, timeout, f"work item {item_id} has no appeal letter")

    async def wait_mail(self, smtp: SmtpSink, subject_word: str, timeout: float = 30):  # type: ignore[no-untyped-def]
        def check():  # type: ignore[no-untyped-def]
            found = [m for m in smtp.messages if subject_word in m["Subject"].lower()]
            return found[-1] if found else None

        return await _poll(check, timeout, f"no mail with {subject_word!r} in the subject")

    async def wait_item_where(self, claim_id: int, *, queue: str, kind: str,
                              timeout: float = 30) -> WorkItem:
        def check() -> WorkItem | None:
            with Session(self.engine) as session:
                return session.exec(select(WorkItem).where(
                    WorkItem.claim_id == claim_id, WorkItem.queue == queue,
                    WorkItem.kind == kind)).first()

        return await _poll(check, timeout, f"no {queue} {kind} item for claim {claim_id}")

    async def post(self, document: dict) -> int:  # type: ignore[type-arg]
        claim = await create_and_start(
            engine=self.engine, client=self.client, settings=self.settings,
            document=ClaimDocument.model_validate(document),
        )
        assert claim.id is not None
        self.claims.append(claim.id)
        return claim.id

    def story(self, claim_id: int) -> str:
        with Session(self.engine) as session:
            events = session.exec(select(ClaimEvent).where(ClaimEvent.claim_id == claim_id)
                                  .order_by(col(ClaimEvent.id))).all()
        return " | ".join(f"{e.status or '-'}: {e.message}" for e in events)

    async def terminate_all(self) -> None:
        """Workflows left open would keep timers firing onto a queue no worker polls, and the
        time-skipping server does not move its clock while a task waits: end them."""
        with Session(self.engine) as session:
            items = session.exec(select(WorkItem.workflow_id).where(
                col(WorkItem.claim_id).in_(self.claims))).all()
        ids = [f"claim-{c}" for c in self.claims] + [i for i in items if i]
        for workflow_id in ids:
            try:
                await self.client.get_workflow_handle(workflow_id).terminate("test over")
            except RPCError:
                pass

    async def wait_status(self, claim_id: int, *statuses: str, timeout: float = 30) -> str:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            with Session(self.engine) as session:
                claim = session.get(Claim, claim_id)
                current = claim.status if claim else None
            if current in statuses:
                return current
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"claim {claim_id} is {current}, expected {statuses}: "
                                     + self.story(claim_id))
            await asyncio.sleep(0.05)

    async def complete(self, item: WorkItem, request: CompleteRequest) -> WorkItemResult:
        """Complete a work item as the API does, once its workflow has started."""
        assert item.workflow_id is not None
        handle = self.client.get_workflow_handle(item.workflow_id)
        for _ in range(200):
            try:
                return await handle.execute_update(WorkItemWorkflow.complete, request,
                                                   result_type=WorkItemResult)
            except RPCError as exc:
                if exc.status != RPCStatusCode.NOT_FOUND:
                    raise
                await asyncio.sleep(0.05)
        raise AssertionError(f"work item workflow {item.workflow_id} never started")

    async def wait_item_status(self, item_id: int | None, status: str,
                               timeout: float = 30) -> bool:
        def check() -> bool:
            with Session(self.engine) as session:
                item = session.get(WorkItem, item_id)
                return item is not None and item.status == status

        return bool(await _poll(check, timeout, f"work item {item_id} never became {status}"))

    async def wait_item(self, claim_id: int, *, kind: str | None = None,
                        timeout: float = 30) -> WorkItem:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            with Session(self.engine) as session:
                query = select(WorkItem).where(WorkItem.claim_id == claim_id,
                                               WorkItem.status == "open")
                if kind:
                    query = query.where(WorkItem.kind == kind)
                item = session.exec(query).first()
            if item is not None:
                return item
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no open {kind or ''} work item for claim {claim_id}: "
                                     + self.story(claim_id))
            await asyncio.sleep(0.05)


async def _poll(check, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(what)
        await asyncio.sleep(0.05)


@asynccontextmanager
async def running_stack(env: WorkflowEnvironment, engine: Engine, settings: Settings,
                        tmp_path: Path, smtp: SmtpSink) -> AsyncIterator[Stack]:
    payer = InProcessPayer(tmp_path / "payer")
    client = env.client
    settings = settings.model_copy(update={"search_attributes": False, "smtp_port": smtp.port})
    # No workflow cache: every task replays the history from the start, so each test also
    # checks determinism, and a stopped worker leaves no sticky queue behind.
    worker = build_worker(client, settings, engine=engine, clearinghouse=payer,
                          max_cached_workflows=0)
    stack = Stack(env, client, engine, settings, payer, Pump(payer, engine, client), worker)
    stack.running = asyncio.create_task(worker.run())
    try:
        yield stack
    finally:
        await stack.terminate_all()
        if not stack.stopped:
            await stack.worker.shutdown()
        await stack.running


@pytest.fixture
async def stack(tmp_path: Path, settings: Settings, smtp: SmtpSink) -> AsyncIterator[Stack]:
    """A stack of its own: a time-skipping server and a database. Sharing one server between
    tests does not work — whatever a finished test leaves open (a stopped worker's polls, a
    timer on a queue nobody polls) stops it from skipping time for the tests after it — and a
    database of its own keeps other tests' users out of the work-item assignment."""
    from reclaim.db import get_engine, session_scope
    from reclaim.demo import seed_people
    from temporal_client import data_converter
    from tests.conftest import TEST_SERVER, fresh_database_url

    url = fresh_database_url(tmp_path)
    engine = get_engine(url)
    with session_scope(engine) as session:
        seed_people(session)
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(TEST_SERVER),
        data_converter=data_converter(Settings(payload_key="test-payload-key")),
    )
    try:
        async with running_stack(env, engine, settings.model_copy(update={"database_url": url}),
                                 tmp_path, smtp) as stack:
            yield stack
    finally:
        await env.shutdown()
        engine.dispose()
