"""POST /api/v1/edi signals a small file's claims before answering and hands a big file's to the
worker (EdiSignalWorkflow): each claim here is a `claim-<id>` workflow on a task queue nobody
polls, so every signal stays in its history to be counted."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import Worker

import activities.edi
import reclaim.edi.outbox
from activities.edi import EdiActivities
from api.app import create_app
from contracts.messages import ClaimInput, EdiEvent, SignalFileRequest
from reclaim.auth import create_user
from reclaim.claims.schemas import ClaimDocument
from reclaim.claims.service import create_claim, patient_control_number
from reclaim.config import Settings
from reclaim.db import session_scope
from reclaim.edi.ingest import ingest_file
from reclaim.edi.outbox import unsignalled_files
from reclaim.models import EdiFile
from tests.support import claim_doc, make_835, payment
from workflows.edi_signals import EdiSignalWorkflow


class NoPayer:
    """EdiActivities' clearinghouse: neither the signalling activity nor the sweep calls it."""


@asynccontextmanager
async def waiting_claims(client: Client, engine: Engine, count: int) -> AsyncIterator[list[int]]:
    """`count` claims waiting for their 835 (attempt 1), each with a `claim-<id>` workflow that
    takes signals but is never worked; terminated afterwards."""
    with session_scope(engine) as session:
        claims = []
        for _ in range(count):
            claim = create_claim(session=session,
                                 document=ClaimDocument.model_validate(claim_doc()))
            claim.status, claim.attempts = "submitted", 1
            claims.append(claim)
        session.flush()
        ids = [c.id for c in claims if c.id is not None]
    idle = f"nobody-polls-{uuid.uuid4().hex[:8]}"
    handles = [await client.start_workflow("ClaimWorkflow",
                                           ClaimInput(claim_id=i, search_attributes=False),
                                           id=f"claim-{i}", task_queue=idle) for i in ids]
    try:
        yield ids
    finally:
        for handle in handles:
            await handle.terminate("test over")


def era_for(ids: list[int]) -> bytes:
    return make_835(*(payment(patient_control_number(i, 1), ccn=f"PCC-{i}") for i in ids),
                    number=ids[0] % 900_000_000 + 1).encode()


async def signals_of_file(client: Client, claim_id: int, file_id: int) -> int:
    """How many `edi_event` signals from this file the claim's workflow has received."""
    history = await client.get_workflow_handle(f"claim-{claim_id}").fetch_history()
    found = 0
    for event in history.events:
        if not event.HasField("workflow_execution_signaled_event_attributes"):
            continue
        attributes = event.workflow_execution_signaled_event_attributes
        if attributes.signal_name != "edi_event":
            continue
        [signal] = await client.data_converter.decode(attributes.input.payloads, [EdiEvent])
        found += signal.file_id == file_id
    return found


@asynccontextmanager
async def biller_api(client: Client, engine: Engine, settings: Settings,
                     inline: int) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.model_copy(update={"edi_inline_signals": inline}), client=client)
    with session_scope(engine) as session:
        _, token = create_user(session=session, username=f"biller-{uuid.uuid4().hex[:6]}",
                               role="biller")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test",
                                 headers={"Authorization": f"Bearer {token}"}) as http:
        yield http


def signalled(engine: Engine, file_id: int) -> bool:
    with Session(engine) as session:
        edi = session.get(EdiFile, file_id)
        assert edi is not None
        return edi.signalled


async def test_a_file_at_the_threshold_is_signalled_before_the_answer(
    dev_env: WorkflowEnvironment, engine: Engine, settings: Settings,
) -> None:
    client = dev_env.client
    async with waiting_claims(client, engine, 3) as ids, \
            biller_api(client, engine, settings, inline=3) as http:
        posted = await http.post("/api/v1/edi", content=era_for(ids))
        assert posted.status_code == 202, posted.text
        body = posted.json()
        assert (body["signals"], body["matched"]) == ("sent", 3)
        assert "signal_workflow_id" not in body
        # Already true when the answer came: nothing was left to a worker.
        assert signalled(engine, body["file_id"])
        assert [await signals_of_file(client, i, body["file_id"]) for i in ids] == [1, 1, 1]
        shown = (await http.get(f"/api/v1/edi/{body['file_id']}")).json()
        assert shown["signalled"] is True
        with pytest.raises(RPCError) as missing:
            await client.get_workflow_handle(f"edi-signals-{body['file_id']}").describe()
        assert missing.value.status == RPCStatusCode.NOT_FOUND


async def test_a_file_over_the_threshold_is_queued_once_and_signalled_by_the_worker(
    dev_env: WorkflowEnvironment, engine: Engine, settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = dev_env.client
    async with waiting_claims(client, engine, 3) as ids, \
            biller_api(client, engine, settings, inline=2) as http:
        raw = era_for(ids)
        # No worker polls the settings' task queue yet: the workflow waits.
        posted = await http.post("/api/v1/edi", content=raw)
        assert posted.status_code == 202, posted.text
        body = posted.json()
        file_id = body["file_id"]
        assert (body["signals"], body["matched"], body["duplicate"]) == ("queued", 3, False)
        assert body["signal_workflow_id"] == f"edi-signals-{file_id}"
        handle = client.get_workflow_handle_for(EdiSignalWorkflow.run, body["signal_workflow_id"])
        first = await handle.describe()
        assert (first.workflow_type, first.task_queue) == ("EdiSignalWorkflow",
                                                           settings.task_queue)
        assert (await http.get(f"/api/v1/edi/{file_id}")).json()["signalled"] is False

        # Posted again while it waits: the same file, the same workflow, no second run.
        again = (await http.post("/api/v1/edi", content=raw)).json()
        assert (again["file_id"], again["duplicate"], again["signals"],
                again["signal_workflow_id"]) == (file_id, True, "queued", handle.id)
        assert (await handle.describe()).run_id == first.run_id
        # The outbox sweep, finding the file, leaves it to its running workflow.
        with Session(engine) as session:
            assert file_id in unsignalled_files(session=session, grace=timedelta(0), limit=10**6)
        monkeypatch.setattr(activities.edi, "unsignalled_files", lambda **_: [file_id])
        sweeper = EdiActivities(engine=engine, client=client, clearinghouse=NoPayer(),  # type: ignore[arg-type]
                                settings=settings)
        assert await sweeper.drain_outbox() == 0
        assert [await signals_of_file(client, i, file_id) for i in ids] == [0, 0, 0]

        # A worker with only the delivery workflow and its activity sends them.
        worker = Worker(client, task_queue=settings.task_queue,
                        workflows=[EdiSignalWorkflow], activities=[sweeper.signal_stored_file])
        async with worker:
            result = await handle.result()
        assert result.outcome == "signalled"
        assert signalled(engine, file_id)
        assert [await signals_of_file(client, i, file_id) for i in ids] == [1, 1, 1]
        assert (await http.get(f"/api/v1/edi/{file_id}")).json()["signalled"] is True

        # Once signalled, a repeat sends nothing and starts nothing.
        third = (await http.post("/api/v1/edi", content=raw)).json()
        assert (third["duplicate"], third["signals"]) == (True, "sent")
        assert "signal_workflow_id" not in third
        after = await handle.describe()
        assert (after.run_id, after.status) == (first.run_id,
                                                WorkflowExecutionStatus.COMPLETED)
        assert [await signals_of_file(client, i, file_id) for i in ids] == [1, 1, 1]


@pytest.mark.parametrize("inline", [2, 3])
async def test_temporal_not_answering_leaves_the_stored_file_to_the_sweep(
    dev_env: WorkflowEnvironment, engine: Engine, settings: Settings,
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, inline: int,
) -> None:
    """Whether the file was to be signalled inline (3) or queued (2): a 202 saying "pending",
    the file stored unsignalled, a warning with ids only; the outbox sweep signals it later."""
    client = dev_env.client
    async with waiting_claims(client, engine, 3) as ids, \
            biller_api(client, engine, settings, inline=inline) as http:

        async def unavailable(*_args: Any, **_kwargs: Any) -> None:
            # What the SDK raises once its retries against a server that is down run out.
            raise RPCError("tcp connect error", RPCStatusCode.UNAVAILABLE, b"")

        monkeypatch.setattr(client, "start_workflow", unavailable)
        monkeypatch.setattr(client, "get_workflow_handle",
                            lambda *_a, **_k: type("H", (), {"signal": unavailable})())
        with caplog.at_level(logging.WARNING, logger="temporal_client"):
            posted = await http.post("/api/v1/edi", content=era_for(ids))
        assert posted.status_code == 202, posted.text
        body = posted.json()
        assert (body["signals"], body["matched"]) == ("pending", 3)
        assert "signal_workflow_id" not in body
        assert not signalled(engine, body["file_id"])
        with Session(engine) as session:
            assert body["file_id"] in unsignalled_files(session=session, grace=timedelta(0),
                                                        limit=1000)
        [warning] = [r for r in caplog.records if r.name == "temporal_client"]
        assert warning.file_id == body["file_id"]  # type: ignore[attr-defined]
        assert (warning.status, warning.count) == ("UNAVAILABLE", 3)  # type: ignore[attr-defined]

        # Temporal is back: the poller's sweep (here finding just this file) signals it.
        monkeypatch.undo()
        monkeypatch.setattr(activities.edi, "unsignalled_files", lambda **_: [body["file_id"]])
        sweeper = EdiActivities(engine=engine, client=client, clearinghouse=NoPayer(),  # type: ignore[arg-type]
                                settings=settings)
        assert await sweeper.drain_outbox() == 1
        assert signalled(engine, body["file_id"])
        assert [await signals_of_file(client, i, body["file_id"]) for i in ids] == [1, 1, 1]


async def test_the_signalling_activity_is_idempotent(
    dev_env: WorkflowEnvironment, engine: Engine, settings: Settings,
) -> None:
    client = dev_env.client
    async with waiting_claims(client, engine, 3) as ids:
        with session_scope(engine) as session:
            stored = ingest_file(session=session, raw=era_for(ids), source="test",
                                 collect_signals=False)
        assert (stored.pending_signals, stored.signal_count) == (True, 3)
        activities = EdiActivities(engine=engine, client=client, clearinghouse=NoPayer(),  # type: ignore[arg-type]
                                   settings=settings)
        env = ActivityEnvironment()
        beats: list[tuple[Any, ...]] = []
        env.on_heartbeat = lambda *details: beats.append(details)
        request = SignalFileRequest(file_id=stored.file_id)

        first = await env.run(activities.signal_stored_file, request)
        assert first.outcome == "signalled"
        assert beats  # one a page
        assert signalled(engine, stored.file_id)
        assert [await signals_of_file(client, i, stored.file_id) for i in ids] == [1, 1, 1]

        beats.clear()
        second = await env.run(activities.signal_stored_file, request)
        assert second.outcome == "already_signalled"
        assert beats == []
        assert [await signals_of_file(client, i, stored.file_id) for i in ids] == [1, 1, 1]

        with pytest.raises(ApplicationError, match="not found") as missing:
            await env.run(activities.signal_stored_file, SignalFileRequest(file_id=10**9))
        assert missing.value.non_retryable


class WorkerDied(Exception):
    """Stands for the worker crashing part-way through the activity."""


async def test_a_retried_signalling_activity_resumes_after_the_last_page_it_sent(
    dev_env: WorkflowEnvironment, engine: Engine, settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Five claims, pages of two: the first attempt dies sending the second page, the retry
    (given the first attempt's last heartbeat, as Temporal gives it) sends the second and third
    pages only and dies marking the file, the last retry only marks it: each claim has its 835
    once. Sent again from the start, the first two would have it twice."""
    client = dev_env.client
    monkeypatch.setattr(reclaim.edi.outbox, "SIGNAL_PAGE", 2)
    async with waiting_claims(client, engine, 5) as ids:
        with session_scope(engine) as session:
            stored = ingest_file(session=session, raw=era_for(ids), source="test",
                                 collect_signals=False)
        assert (stored.pending_signals, stored.signal_count) == (True, 5)
        file_id = stored.file_id
        activities = EdiActivities(engine=engine, client=client, clearinghouse=NoPayer(),  # type: ignore[arg-type]
                                   settings=settings)
        request = SignalFileRequest(file_id=file_id)

        async def counts() -> list[int]:
            return [await signals_of_file(client, i, file_id) for i in ids]

        def attempt(number: int, details: list[Any]) -> tuple[ActivityEnvironment, list[Any]]:
            """An attempt as Temporal runs a retry: given the last heartbeat's details."""
            env = ActivityEnvironment()
            env.info = dataclasses.replace(env.info, attempt=number, heartbeat_details=details)
            beats: list[Any] = []
            env.on_heartbeat = lambda *d: beats.append(list(d))
            return env, beats

        sent: list[int] = []
        deliver = reclaim.edi.outbox.deliver_signals

        async def dies_on_the_second_page(client: Client, signals: list[Any],
                                          **kwargs: Any) -> int:
            if sent:
                raise WorkerDied
            sent.append(await deliver(client, signals, **kwargs))
            return sent[-1]

        first, beats = attempt(1, [])
        with monkeypatch.context() as patched:
            patched.setattr(reclaim.edi.outbox, "deliver_signals", dies_on_the_second_page)
            with pytest.raises(WorkerDied):
                await first.run(activities.signal_stored_file, request)
        # The 835 has no 999/277CA answers: an empty page of them, then the remittances' first
        # page, each heartbeated as the next page's cursor once sent, and after each signal
        # while it is being sent with its own cursor (where a retry would resume: the page is
        # not all sent yet); nothing for the page that failed.
        assert beats == [[[1, 0]], [[1, 0]], [[1, 0]], [[1, 2]]]
        assert sent == [2]
        assert await counts() == [1, 1, 0, 0, 0]
        assert not signalled(engine, file_id)

        def marking_fails(**_: Any) -> None:
            raise WorkerDied

        second, beats = attempt(2, beats[-1])
        with monkeypatch.context() as patched:
            patched.setattr(reclaim.edi.outbox, "mark_signalled", marking_fails)
            with pytest.raises(WorkerDied):
                await second.run(activities.signal_stored_file, request)
        assert await counts() == [1, 1, 1, 1, 1]  # from the start, the first two: 2
        assert beats == [[[1, 2]], [[1, 2]], [[1, 4]], [[1, 4]], [None]]
        assert not signalled(engine, file_id)

        third, beats = attempt(3, beats[-1])
        result = await third.run(activities.signal_stored_file, request)
        assert result.outcome == "signalled"
        assert beats == []
        assert signalled(engine, file_id)
        assert await counts() == [1, 1, 1, 1, 1]


@pytest.mark.parametrize(("details", "expected"), [
    ([], (0, 0)), ([[1, 250]], (1, 250)), ([(0, 7)], (0, 7)), ([None], None),
    (["1,250"], (0, 0)), ([[1, True]], (0, 0)), ([[1, -1]], (0, 0)), ([[1, 2, 3]], (0, 0)),
])
def test_a_retry_starts_from_its_heartbeat_or_else_the_files_start(
    details: list[Any], expected: tuple[int, int] | None,
) -> None:
    assert activities.edi.resume_from(details) == expected
    # What the activity heartbeats reads back as the same cursor.
    assert activities.edi.resume_from([activities.edi.page_details(expected)]) == expected


async def test_the_signalling_activity_stays_alive_while_it_waits(
    dev_env: WorkflowEnvironment, engine: Engine, settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A worker busy with claims keeps the activity waiting (its database threads are shared):
    a task of its own heartbeats the last cursor meanwhile, so the 20 s heartbeat timeout does
    not take the activity from a worker that is alive. Before its first page a retry repeats
    the cursor it inherited (a worker dying then still resumes there)."""
    client = dev_env.client
    monkeypatch.setattr(activities.edi, "LIVENESS_S", 0.05)
    async with waiting_claims(client, engine, 1) as ids:
        with session_scope(engine) as session:
            stored = ingest_file(session=session, raw=era_for(ids), source="test",
                                 collect_signals=False)
        worker = EdiActivities(engine=engine, client=client, clearinghouse=NoPayer(),  # type: ignore[arg-type]
                               settings=settings)
        deliver, page = reclaim.edi.outbox.deliver_signals, reclaim.edi.outbox.signal_page
        read: list[int] = []

        def slow_page(**kwargs: Any) -> Any:
            if not read:
                time.sleep(0.5)  # the first page waits behind claims' database work
            read.append(1)
            return page(**kwargs)

        async def slow(client: Client, signals: list[Any], **kwargs: Any) -> int:
            await asyncio.sleep(0.5)  # and so does sending the remittances' page
            return await deliver(client, signals, **kwargs)

        monkeypatch.setattr(reclaim.edi.outbox, "signal_page", slow_page)
        monkeypatch.setattr(reclaim.edi.outbox, "deliver_signals", slow)
        env = ActivityEnvironment()
        env.info = dataclasses.replace(env.info, attempt=2, heartbeat_details=[[0, 0]])
        beats: list[Any] = []
        env.on_heartbeat = lambda *d: beats.append(list(d))
        result = await env.run(worker.signal_stored_file,
                               SignalFileRequest(file_id=stored.file_id))
        assert result.outcome == "signalled"
        before_first_page = beats[:beats.index([[1, 0]])]
        assert len(before_first_page) >= 3
        assert all(beat == [[0, 0]] for beat in before_first_page)
        # Sent once the answers' (empty) page is done, once after the signal: the rest are
        # the keep-alive's while the page waited.
        assert beats.count([[1, 0]]) >= 4
        assert beats[-1] == [None]
