"""Record the histories tests/replay replays: each scenario runs on the time-skipping server with
the real worker, activities, database and in-process sandbox payer (as tests/workflows does), and
every workflow it names is written as tests/histories/<name>.json.

    .venv/bin/python -m tests.replay.record_histories            # all scenarios
    .venv/bin/python -m tests.replay.record_histories happy_path  # one

Re-record only on purpose: after a workflow change that is *meant* to be incompatible (and then
new code must keep the old paths behind `workflow.patched`), or to add a scenario. Payloads are
encrypted with the tests' payload key, as the Temporal server would hold them.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from contracts.messages import CompleteRequest
from reclaim.config import Settings
from reclaim.db import get_engine, session_scope
from reclaim.demo import seed_people
from reclaim.models import WorkItem
from temporal_client import data_converter
from tests.conftest import TEST_SERVER, SmtpSink, fresh_database_url
from tests.support import claim_doc
from tests.workflows.conftest import Stack, running_stack

HISTORIES = Path(__file__).resolve().parent.parent / "histories"
PAYLOAD_KEY = "test-payload-key"

# name -> workflow id, what a scenario hands back to be saved
Recorded = dict[str, str]
Scenario = Callable[[Stack], Awaitable[Recorded]]


def claim_workflow(claim_id: int) -> str:
    return f"claim-{claim_id}"


async def happy_path(stack: Stack) -> Recorded:
    claim_id = await stack.post(claim_doc())
    await stack.wait_status(claim_id, "submitted")
    await stack.pump()
    await stack.wait_status(claim_id, "paid")
    return {"claim_happy_path": claim_workflow(claim_id)}


async def denial_to_coder(stack: Stack) -> Recorded:
    """CO-11 (diagnosis inconsistent with procedure) goes to a coder, whose correction is sent
    as a replacement claim and paid."""
    claim_id = await stack.post(claim_doc(patient__member_id="TEST-CO-11"))
    await stack.wait_status(claim_id, "submitted")
    await stack.pump()
    item = await stack.wait_item(claim_id, kind="denial")
    await stack.complete(item, CompleteRequest(action="resubmit", user="cody",
                                               corrections={"diagnoses": ["E11.65", "I10"]}))
    await stack.wait_status(claim_id, "resubmitted")
    await stack.pump()
    await stack.wait_status(claim_id, "paid")
    assert item.workflow_id is not None
    return {"claim_denial_coder_corrected": claim_workflow(claim_id),
            "work_item_denial_completed": item.workflow_id}


async def rejection_to_front_desk(stack: Stack) -> Recorded:
    """277CA A7:33 (the member id): the correction map sends it to the front desk, the claim is
    needs_correction while it waits, the corrected member id goes as an original and is paid."""
    claim_id = await stack.post(claim_doc(patient__member_id="TEST-REJECT-33"))
    await stack.wait_status(claim_id, "submitted")
    await stack.pump()
    item = await stack.wait_item(claim_id, kind="correction")
    await stack.wait_status(claim_id, "needs_correction")
    fixed = claim_doc()["patient"] | {"member_id": "W987654321"}
    await stack.complete(item, CompleteRequest(action="resubmit", user="frank",
                                               corrections={"patient": fixed}))
    await stack.wait_status(claim_id, "submitted")
    await stack.pump()
    await stack.wait_status(claim_id, "paid")
    return {"claim_rejection_front_desk": claim_workflow(claim_id)}


async def scrub_correction(stack: Stack) -> Recorded:
    """The scrubber stops a category code; the coder is reminded and escalated before fixing."""
    claim_id = await stack.post(claim_doc(diagnoses=["E11", "I10"]))
    await stack.wait_status(claim_id, "needs_correction")
    item = await stack.wait_item(claim_id, kind="correction")
    await stack.env.sleep(timedelta(days=6))  # past the reminder (2 days) and escalation (5)
    await _wait_notices(stack, item, 3)
    await stack.complete(item, CompleteRequest(action="resubmit", user="cody",
                                               corrections={"diagnoses": ["E11.9", "I10"]}))
    await stack.wait_status(claim_id, "submitted")
    await stack.pump()
    await stack.wait_status(claim_id, "paid")
    assert item.workflow_id is not None
    return {"claim_scrub_correction": claim_workflow(claim_id),
            "work_item_reminded_escalated": item.workflow_id}


async def _wait_notices(stack: Stack, item: WorkItem, count: int) -> None:
    """New item, reminder, escalation: the item's history has them all before it completes."""
    assert item.workflow_id is not None
    handle = stack.client.get_workflow_handle(item.workflow_id)
    for _ in range(400):
        history = await handle.fetch_history()
        done = [e for e in history.events if e.HasField("activity_task_completed_event_attributes")]
        if len(done) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{item.workflow_id} sent fewer than {count} notices")


SCENARIOS: dict[str, Scenario] = {
    "happy_path": happy_path,
    "denial_to_coder": denial_to_coder,
    "scrub_correction": scrub_correction,
    "rejection_to_front_desk": rejection_to_front_desk,
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def record(names: list[str], out: Path = HISTORIES) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        url = fresh_database_url(tmp_path)
        engine = get_engine(url)
        with session_scope(engine) as session:
            seed_people(session)
        settings = Settings(
            data_dir=tmp_path, database_url=url, task_queue=f"record-{uuid.uuid4().hex[:8]}",
            payload_key=PAYLOAD_KEY, secret_key="record", smtp_host="127.0.0.1",
            work_item_remind_after=timedelta(days=2), work_item_escalate_after=timedelta(days=5),
            payer_follow_up_after=timedelta(days=30), payer_ack_after=timedelta(days=2),
        )
        smtp = SmtpSink(port=_free_port(), messages=[])
        smtp.start()
        env = await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=str(TEST_SERVER),
            data_converter=data_converter(Settings(payload_key=PAYLOAD_KEY)),
        )
        try:
            async with running_stack(env, engine, settings, tmp_path, smtp) as stack:
                for name in names:
                    for file, workflow_id in (await SCENARIOS[name](stack)).items():
                        handle = stack.client.get_workflow_handle(workflow_id)
                        await handle.result()
                        path = out / f"{file}.json"
                        path.write_text((await handle.fetch_history()).to_json() + "\n")
                        written.append(path)
        finally:
            await env.shutdown()
            smtp.stop()
            engine.dispose()
    return written


def main(argv: list[str]) -> None:
    names = argv or list(SCENARIOS)
    unknown = sorted(set(names) - set(SCENARIOS))
    if unknown:
        raise SystemExit(f"unknown scenario(s) {unknown}; known: {', '.join(SCENARIOS)}")
    for path in asyncio.run(record(names)):
        print(path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path)


if __name__ == "__main__":
    main(sys.argv[1:])
