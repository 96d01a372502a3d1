"""A big 835 posted to the API: answered before its claims are signalled, then the worker's
EdiSignalWorkflow signals them and they are paid."""

from __future__ import annotations

import uuid

import httpx
from sqlmodel import Session, col, select
from temporalio.client import WorkflowExecutionStatus

from api.app import create_app
from reclaim.auth import create_user
from reclaim.db import session_scope
from reclaim.models import EdiFile, Submission
from tests.support import claim_doc, make_835, payment
from tests.workflows.conftest import Stack, _poll


async def test_a_big_835_posted_to_the_api_pays_its_claims_after_the_answer(
    stack: Stack,
) -> None:
    claims = [await stack.post(claim_doc()) for _ in range(3)]
    for claim_id in claims:
        await stack.wait_status(claim_id, "submitted", "accepted")
    with Session(stack.engine) as session:
        pcns = session.exec(select(Submission.patient_control_number)
                            .where(col(Submission.claim_id).in_(claims))).all()
    assert len(pcns) == 3
    raw = make_835(*(payment(pcn, ccn=f"PCC-{pcn}") for pcn in pcns), number=902).encode()

    # Two signals at most before the answer: this file's three go to the worker.
    app = create_app(stack.settings.model_copy(update={"edi_inline_signals": 2}),
                     client=stack.client)
    with session_scope(stack.engine) as session:
        _, token = create_user(session=session, username=f"bill-{uuid.uuid4().hex[:6]}",
                               role="biller")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t",
                                 headers={"Authorization": f"Bearer {token}"}) as http:
        posted = await http.post("/api/v1/edi", content=raw)
        assert posted.status_code == 202, posted.text
        body = posted.json()
        file_id = body["file_id"]
        assert (body["signals"], body["matched"]) == ("queued", 3)
        assert body["signal_workflow_id"] == f"edi-signals-{file_id}"

        for claim_id in claims:
            await stack.wait_status(claim_id, "paid")

        def signalled() -> bool:
            with Session(stack.engine) as session:
                edi = session.get(EdiFile, file_id)
                return edi is not None and edi.signalled

        await _poll(signalled, 30, f"file {file_id} never marked signalled")
        assert (await http.get(f"/api/v1/edi/{file_id}")).json()["signalled"] is True
        handle = stack.client.get_workflow_handle(body["signal_workflow_id"])
        done = await handle.describe()
        assert done.status == WorkflowExecutionStatus.COMPLETED
        stories = [stack.story(claim_id) for claim_id in claims]

        # The same file again: nothing moves, nothing starts.
        again = (await http.post("/api/v1/edi", content=raw)).json()
        assert (again["file_id"], again["duplicate"], again["signals"]) == (file_id, True, "sent")
        assert (await handle.describe()).run_id == done.run_id
        for claim_id, story in zip(claims, stories, strict=True):
            assert await stack.wait_status(claim_id, "paid") == "paid"
            assert stack.story(claim_id) == story
            assert story.count("paid:") == 1, story
