"""Issue 3 in the workflow: a claim the scrubber stops waits for a coder's correction, which is
re-scrubbed (refused while it still fails), then goes on to the payer."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import Session, select
from temporalio.client import WorkflowUpdateFailedError

from contracts.messages import CompleteRequest
from reclaim.models import Claim, MailMessage, User
from tests.conftest import SmtpSink
from tests.support import claim_doc
from tests.workflows.conftest import Stack

TWO_LINES = [
    {"procedure": "99214", "modifiers": [], "units": 1, "charge": "150.00",
     "diagnosis_pointers": [1]},
    {"procedure": "11042", "modifiers": [], "units": 1, "charge": "220.00",
     "diagnosis_pointers": [1]},
]
FIXED_LINES = [dict(TWO_LINES[0], modifiers=["25"]), TWO_LINES[1]]


@pytest.mark.parametrize(
    ("changes", "field", "words", "fix"),
    [
        ({"diagnoses": ["E11", "I10"]}, "diagnoses[0]", "E11.9",
         {"diagnoses": ["E11.9", "I10"]}),
        ({"billing_provider__npi": "1234567890"}, "billing_provider.npi", "NPI",
         {"billing_provider": {"npi": "1234567893"}}),
        ({"lines": TWO_LINES}, "lines[0].modifiers", "25", {"lines": FIXED_LINES}),
    ],
    ids=["category-code", "bad-npi", "em-without-25"],
)
async def test_design_cases_wait_for_the_coder_then_go_on_to_paid(
    stack: Stack, smtp: SmtpSink, changes: dict, field: str, words: str, fix: dict  # type: ignore[type-arg]
) -> None:
    claim_id = await stack.post(claim_doc(**changes))
    await stack.wait_status(claim_id, "needs_correction")
    with Session(stack.engine) as session:
        claim = session.get(Claim, claim_id)
        assert claim is not None
        findings = [f for f in claim.findings if f["severity"] == "error"]
    assert any(f["field"] == field and words in f["message"] for f in findings), findings
    item = await stack.wait_item(claim_id, kind="correction")
    assert item.queue == "coder"

    # The same mistake again is refused, with the findings, and changes nothing.
    same_mistake = (changes if "lines" in changes or "diagnoses" in changes
                    else {"billing_provider": {"npi": "1234567890"}})
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await stack.complete(item, CompleteRequest(action="resubmit", corrections=same_mistake))
    assert field in str(refused.value.cause.details)  # type: ignore[union-attr]

    await stack.complete(item, CompleteRequest(action="resubmit", corrections=fix, user="cody"))
    await stack.wait_status(claim_id, "submitted")
    await stack.pump()
    await stack.wait_status(claim_id, "paid")
    with Session(stack.engine) as session:
        claim = session.get(Claim, claim_id)
        assert claim is not None
        assert claim.clean_first_pass is False
        assignee = session.exec(select(User).where(User.username == item.assignee)).one()
    assert assignee.email, "the coder has no email address"
    assert smtp.to(assignee.email), "the coder was not emailed"
    mail = smtp.to(assignee.email)[0]
    body = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert f"claim {claim_id}" in mail["Subject"].lower() or str(claim_id) in body
    assert "Lee" not in body
    assert "A.L." in body


async def test_a_clean_claim_counts_as_clean_first_pass(stack: Stack) -> None:
    claim_id = await stack.post(claim_doc())
    await stack.wait_status(claim_id, "submitted")
    with Session(stack.engine) as session:
        claim = session.get(Claim, claim_id)
        assert claim is not None
        assert claim.clean_first_pass is True


async def test_mail_is_retried_while_smtp_is_down_and_sent_when_it_returns(
    stack: Stack, smtp: SmtpSink
) -> None:
    smtp.stop()
    claim_id = await stack.post(claim_doc(diagnoses=["E11", "I10"]))
    item = await stack.wait_item(claim_id, kind="correction")

    def queued() -> list[MailMessage]:
        with Session(stack.engine) as session:
            return list(session.exec(select(MailMessage).where(MailMessage.key.startswith(  # type: ignore[attr-defined]
                f"wi-{item.id}-"))).all())

    # Wait for a failed send (however slow the machine), then check nothing was lost or sent.
    deadline = asyncio.get_running_loop().time() + 60
    while not any(m.attempts >= 1 for m in queued()):
        assert asyncio.get_running_loop().time() < deadline, "no send was attempted"
        await asyncio.sleep(0.2)
    messages = queued()
    assert messages
    assert all(m.status == "queued" for m in messages)
    assert smtp.messages == []
    smtp.start()
    await stack.wait_mail(smtp, f"claim {claim_id},")
    # The message reaches the sink a moment before the activity records it as sent.
    deadline = asyncio.get_running_loop().time() + 60
    sent = queued()
    while not all(m.status == "sent" for m in sent):
        assert asyncio.get_running_loop().time() < deadline, [m.status for m in sent]
        await asyncio.sleep(0.2)
        sent = queued()
    assert len([m for m in smtp.messages if f"claim {claim_id}," in m["Subject"]]) == len(sent)
