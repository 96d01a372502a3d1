"""The coders' daily digest: one mail per person with open items, initials only, never twice."""

from __future__ import annotations

import uuid
from datetime import date

from sqlmodel import Session, col, select
from temporalio.testing import ActivityEnvironment

from activities.work import WorkActivities
from contracts.messages import DigestRequest
from reclaim.models import MailMessage
from tests.conftest import SmtpSink
from tests.support import claim_doc
from tests.workflows.conftest import Stack
from workflows.digest import DailyDigestWorkflow


async def test_each_coder_gets_one_digest_of_their_open_items(stack: Stack,
                                                              smtp: SmtpSink) -> None:
    first = await stack.post(claim_doc(diagnoses=["E11", "I10"]))
    second = await stack.post(claim_doc(diagnoses=["E11", "I10"], patient__last_name="Okafor"))
    items = [await stack.wait_item(first), await stack.wait_item(second)]
    assignees = {i.assignee for i in items}
    assert assignees <= {"cody", "carla"}

    async def run() -> int:
        return await stack.client.execute_workflow(
            DailyDigestWorkflow.run, id=f"digest-{uuid.uuid4()}",
            task_queue=stack.settings.task_queue)

    assert await run() == len(assignees)
    digests = [m for m in smtp.messages if "open work item" in m["Subject"]]
    assert {str(m["To"]) for m in digests} == {f"{a}@clinic.test" for a in assignees}
    text = " ".join(m.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
                    for m in digests)
    assert str(first) in text
    assert str(second) in text
    assert "Okafor" not in text
    assert "Lee" not in text
    # The same day again sends nothing (the time-skipping clock may have moved on meanwhile,
    # so ask for the day the first run used).
    with Session(stack.engine) as session:
        keys = session.exec(select(MailMessage.key).where(
            col(MailMessage.key).startswith("digest-"))).all()
    day = date.fromisoformat(keys[0][-10:])
    activities = WorkActivities(engine=stack.engine, settings=stack.settings)
    assert await ActivityEnvironment().run(activities.send_daily_digests,
                                           DigestRequest(day=day)) == 0
    assert len([m for m in smtp.messages if "open work item" in m["Subject"]]) == len(digests)
