"""A worker with the real activities, an in-process sandbox payer and the time-skipping server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from reclaim.config import Settings
from reclaim.models import Claim, WorkItem
from reclaim.schemas import ClaimDocument
from tests.support import InProcessPayer, Pump
from worker import build_worker
from workflows.start import create_and_start
from workflows.types import CompleteRequest, WorkItemResult
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

    async def stop_worker(self) -> None:
        self.stopped = True
        await self.worker.shutdown()

    async def post(self, document: dict) -> int:  # type: ignore[type-arg]
        claim = await create_and_start(
            engine=self.engine, client=self.client, settings=self.settings,
            document=ClaimDocument.model_validate(document),
        )
        assert claim.id is not None
        return claim.id

    async def wait_status(self, claim_id: int, *statuses: str, timeout: float = 30) -> str:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            with Session(self.engine) as session:
                claim = session.get(Claim, claim_id)
                current = claim.status if claim else None
            if current in statuses:
                return current
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"claim {claim_id} is {current}, expected {statuses}")
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
                raise AssertionError(f"no open {kind or ''} work item for claim {claim_id}")
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


@pytest.fixture
async def stack(ts_env: WorkflowEnvironment, engine: Engine, settings: Settings,
                tmp_path: Path) -> AsyncIterator[Stack]:
    payer = InProcessPayer(tmp_path / "payer")
    client = ts_env.client
    settings = settings.model_copy(update={"search_attributes": False})
    # No workflow cache: every task replays the history from the start, so each test also
    # checks determinism, and a stopped worker leaves no sticky queue behind.
    worker = build_worker(client, settings, engine=engine, clearinghouse=payer,
                          max_cached_workflows=0)
    running = asyncio.create_task(worker.run())
    stack = Stack(ts_env, client, engine, settings, payer, Pump(payer, engine, client), worker)
    try:
        yield stack
    finally:
        if not stack.stopped:
            await worker.shutdown()
        await running
