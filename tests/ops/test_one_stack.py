"""One stack, one task queue: the install id in var/, the check for a stranger polling our
queue, and activities that refuse a claim their database does not hold."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import cast

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import Worker

import cli
from activities.claims import ClaimActivities
from activities.work import WorkActivities
from contracts.enums import ClaimStatus, Queue
from contracts.messages import (
    ApplyCorrection,
    CorrectionCheck,
    ScrubRequest,
    StatusChange,
    WorkItemSpec,
)
from reclaim.clearinghouse import Clearinghouse
from reclaim.config import Settings
from reclaim.install import install_id, pollers, task_queue_for
from reclaim.models import ClaimEvent, WorkItem


def test_the_install_id_is_made_once_and_kept(tmp_path: Path) -> None:
    first = install_id(tmp_path / "var")
    assert (tmp_path / "var" / "install-id").read_text().strip() == first
    assert install_id(tmp_path / "var") == first
    assert install_id(tmp_path / "other") != first


def test_a_damaged_install_id_is_refused(tmp_path: Path) -> None:
    (tmp_path / "install-id").write_text("not/an id\n")
    with pytest.raises(ValueError, match="install-id does not hold an install id"):
        install_id(tmp_path)


def test_the_embedded_stack_has_a_task_queue_of_its_own(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RECLAIM_TASK_QUEUE", raising=False)
    monkeypatch.delenv("RECLAIM_TEMPORAL_ADDRESS", raising=False)
    monkeypatch.setenv("RECLAIM_DATA_DIR", str(tmp_path / "var"))
    queue = task_queue_for("claims", install_id(tmp_path / "var"))
    assert cli._settings().task_queue == queue  # every command on this data dir: up, worker...
    assert cli._settings().task_queue == queue
    # an explicit setting wins; so does a Temporal configured elsewhere (its queue is the
    # operator's)
    monkeypatch.setenv("RECLAIM_TASK_QUEUE", "mine")
    assert cli._settings().task_queue == "mine"
    monkeypatch.delenv("RECLAIM_TASK_QUEUE")
    monkeypatch.setenv("RECLAIM_TEMPORAL_ADDRESS", "temporal:7233")
    monkeypatch.setenv("RECLAIM_PAYLOAD_KEY", "a passphrase of a shared deployment, 32+ chars")
    assert cli._settings().task_queue == "claims"


async def test_a_stranger_polling_our_queue_is_seen(dev_env: WorkflowEnvironment) -> None:
    queue = f"claims-{uuid.uuid4().hex[:8]}"
    assert await pollers(dev_env.client, queue) == []
    stranger = Worker(dev_env.client, task_queue=queue, activities=[_noop],
                      identity="4242@elsewhere")
    async with stranger:
        found: list[str] = []
        for _ in range(50):
            found = await pollers(dev_env.client, queue)
            if found:
                break
            await asyncio.sleep(0.1)
        assert found == ["4242@elsewhere"]


def test_up_refuses_to_start_beside_a_stranger(monkeypatch: pytest.MonkeyPatch) -> None:
    async def someone(_client: object, _queue: str) -> list[str]:
        return ["4242@elsewhere"]

    async def connect(_settings: Settings) -> object:
        return object()

    monkeypatch.setattr("reclaim.install.pollers", someone)
    monkeypatch.setattr("temporal_client.connect", connect)
    with pytest.raises(SystemExit, match="already polled by 4242@elsewhere"):
        cli._refuse_strangers(Settings(task_queue="claims-abc"))


@activity.defn(name="noop")
async def _noop() -> None:
    return None


MISSING = 10**9


def _claim_activities(engine: Engine, settings: Settings) -> ClaimActivities:
    return ClaimActivities(engine=engine, settings=settings,
                           clearinghouse=cast(Clearinghouse, object()))


CLAIM_TASKS: dict[str, Callable[[ClaimActivities], Callable[[], object]]] = {
    "record_status": lambda a: lambda: a.record_status(
        StatusChange(claim_id=MISSING, key="stranger", message="m", status=ClaimStatus.scrubbing)),
    "scrub_claim": lambda a: lambda: a.scrub_claim(ScrubRequest(claim_id=MISSING)),
    "apply_correction": lambda a: lambda: a.apply_correction(
        ApplyCorrection(claim_id=MISSING, key="stranger", corrections={})),
    "write_off_needs_approval": lambda a: lambda: a.write_off_needs_approval(MISSING),
}


@pytest.mark.parametrize("task", sorted(CLAIM_TASKS))
def test_a_claim_activity_refuses_a_claim_it_does_not_hold(
        task: str, engine: Engine, settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    run = CLAIM_TASKS[task](_claim_activities(engine, settings))
    with caplog.at_level(logging.ERROR), pytest.raises(ApplicationError) as caught:
        ActivityEnvironment().run(run)
    assert caught.value.non_retryable
    assert f"claim {MISSING} not found in this worker's database" in str(caught.value)
    assert any(r.levelno == logging.ERROR and getattr(r, "claim_id", None) == MISSING
               for r in caplog.records)
    with Session(engine) as session:
        assert session.exec(select(ClaimEvent).where(ClaimEvent.claim_id == MISSING)).first() \
            is None


def test_a_work_activity_refuses_a_claim_it_does_not_hold(
        engine: Engine, settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    work = WorkActivities(engine=engine, settings=settings)
    spec = WorkItemSpec(claim_id=MISSING, key="stranger", queue=Queue.coder, kind="fix",
                        title="t", due_in=timedelta(days=1))
    for run in (lambda: work.create_work_item(spec),
                lambda: work.check_correction(CorrectionCheck(claim_id=MISSING, corrections={}))):
        caplog.clear()
        with caplog.at_level(logging.ERROR), pytest.raises(ApplicationError) as caught:
            ActivityEnvironment().run(run)
        assert caught.value.non_retryable
        assert any(r.levelno == logging.ERROR for r in caplog.records)
    with Session(engine) as session:
        assert session.exec(select(WorkItem).where(WorkItem.claim_id == MISSING)).first() is None


def test_a_data_dir_from_before_install_ids_keeps_the_plain_queue(tmp_path: Path) -> None:
    # Its claims' workflows already wait on `claims`: a new queue would strand them.
    from reclaim.install import install_id, task_queue_for

    (tmp_path / "temporal.db").write_bytes(b"")
    assert task_queue_for("claims", install_id(tmp_path)) == "claims"
    assert install_id(tmp_path) == "legacy"
    fresh = tmp_path / "new"
    fresh.mkdir()
    assert task_queue_for("claims", install_id(fresh)).startswith("claims-")
