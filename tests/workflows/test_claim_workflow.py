"""ClaimWorkflow on the time-skipping server, with the real activities, a real database and the
real sandbox payer in process: the happy path, silence, rejection, partial payment, restarts."""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlmodel import Session, select
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from contracts.messages import ClaimResult, CompleteRequest
from reclaim.models import Claim, Submission
from reclaim.x12.models import (
    Adjustment,
    ClaimPayment,
    Envelope,
    Payment,
    Remittance835,
    ServicePayment,
)
from reclaim.x12.validate import validate_x12
from reclaim.x12.write_payer import write_835
from tests.support import claim_doc
from tests.workflows.conftest import Stack
from worker import ACTIVITY_SLOTS, build_worker


def handle(stack: Stack, claim_id: int) -> WorkflowHandle:  # type: ignore[type-arg]
    return stack.client.get_workflow_handle(f"claim-{claim_id}", result_type=ClaimResult)


async def test_happy_path_from_post_to_paid(stack: Stack) -> None:
    claim_id = await stack.post(claim_doc())
    await stack.wait_status(claim_id, "submitted")
    await stack.pump()
    await stack.wait_status(claim_id, "paid")
    result = await handle(stack, claim_id).result()
    assert result.status == "paid"
    assert result.attempts == 1
    with Session(stack.engine) as session:
        claim = session.get(Claim, claim_id)
        assert claim is not None
        assert claim.paid_amount > 0
        assert claim.clean_first_pass is True
        submission = session.exec(select(Submission).where(Submission.claim_id == claim_id)).one()
    assert validate_x12(submission.x12) == []
    assert submission.frequency_code == "1"


async def test_payer_silence_opens_a_follow_up_then_the_835_closes_it(stack: Stack) -> None:
    claim_id = await stack.post(claim_doc())
    await stack.wait_status(claim_id, "submitted")
    await stack.env.sleep(timedelta(days=3))  # past the 277CA deadline (2 days)
    item = await stack.wait_item(claim_id, kind="follow_up")
    assert "has not answered" in item.title
    await stack.pump()
    await stack.wait_status(claim_id, "paid")
    await handle(stack, claim_id).result()
    assert await stack.wait_item_status(item.id, "cancelled")


async def test_277ca_rejection_goes_to_a_coder_and_back_as_an_original(stack: Stack) -> None:
    claim_id = await stack.post(claim_doc(patient__member_id="TEST-REJECT-A7"))
    await stack.wait_status(claim_id, "submitted")
    await stack.pump()
    await stack.wait_status(claim_id, "rejected", "needs_correction")
    item = await stack.wait_item(claim_id, kind="correction")
    assert item.queue == "coder"  # A7:A7 is in no row of the correction map: the coder's
    assert await stack.wait_status(claim_id, "needs_correction") == "needs_correction"
    fixed = claim_doc()["patient"] | {"member_id": "W987654321"}
    await stack.complete(
        item, CompleteRequest(action="resubmit", corrections={"patient": fixed}, user="cody")
    )
    await stack.wait_status(claim_id, "submitted")
    await stack.pump()
    await stack.wait_status(claim_id, "paid")
    with Session(stack.engine) as session:
        subs = session.exec(select(Submission).where(Submission.claim_id == claim_id)
                            .order_by(Submission.attempt)).all()
    assert [s.frequency_code for s in subs] == ["1", "1"]
    assert "W987654321" in subs[1].x12


async def test_a_member_id_rejection_goes_to_the_front_desk(stack: Stack) -> None:
    # 277CA A7:33 (subscriber id): the correction map sends it to who can fix a member id, and
    # the claim says it needs a correction while the item is open.
    claim_id = await stack.post(claim_doc(patient__member_id="TEST-REJECT-33"))
    await stack.wait_status(claim_id, "submitted")
    await stack.pump()
    item = await stack.wait_item(claim_id, kind="correction")
    assert item.queue == "front_desk"
    assert item.data["rejection"]["code"] == "A7:33"
    assert item.data["rejection"]["rule_id"] == "subscriber-id"
    assert await stack.wait_status(claim_id, "needs_correction") == "needs_correction"
    same = claim_doc()["patient"] | {"member_id": "TEST-REJECT-33"}
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await stack.complete(item, CompleteRequest(action="resubmit",
                                                   corrections={"patient": same}))
    assert isinstance(refused.value.cause, ApplicationError)
    assert "nothing changed since attempt 1" in str(refused.value.cause.details)
    fixed = same | {"member_id": "W987654320"}
    await stack.complete(item, CompleteRequest(action="resubmit", user="frank",
                                               corrections={"patient": fixed}))
    await stack.wait_status(claim_id, "submitted")
    await stack.pump()
    await stack.wait_status(claim_id, "paid")


async def test_partial_payment_with_a_line_closed_as_duplicate(stack: Stack) -> None:
    doc = claim_doc(lines=[
        {"procedure": "99214", "modifiers": ["25"], "units": 1, "charge": "150.00",
         "diagnosis_pointers": [1, 2]},
        {"procedure": "93000", "modifiers": [], "units": 1, "charge": "60.00",
         "diagnosis_pointers": [1]},
    ])
    claim_id = await stack.post(doc)
    await stack.wait_status(claim_id, "submitted")
    with Session(stack.engine) as session:
        pcn = session.exec(select(Submission).where(Submission.claim_id == claim_id)).one()
    era = write_835(_partial_835(pcn.patient_control_number))
    assert validate_x12(era) == []
    await stack.pump.ingest(era)
    await stack.wait_status(claim_id, "partially_paid")
    with Session(stack.engine) as session:
        claim = session.get(Claim, claim_id)
        assert claim is not None
        assert claim.paid_amount == Decimal("120.00")


async def test_worker_restart_in_the_middle_loses_nothing(stack: Stack) -> None:
    claim_id = await stack.post(claim_doc())
    await stack.wait_status(claim_id, "submitted")
    # A second worker on the same queue takes over while the first one is gone.
    await stack.stop_worker()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # more activity slots than database threads is meant
        worker = build_worker(stack.client, stack.settings, engine=stack.engine,
                              clearinghouse=stack.payer, max_cached_workflows=0)
    config = worker.config()
    assert config["max_concurrent_activities"] == ACTIVITY_SLOTS
    executor = config["activity_executor"]
    assert isinstance(executor, ThreadPoolExecutor)
    assert executor._max_workers == stack.settings.resolved_worker_db_threads
    async with worker:
        await stack.pump()
        await stack.wait_status(claim_id, "paid")
        assert (await handle(stack, claim_id).result()).status == "paid"
    assert len(stack.payer.service.submissions(
        patient_control_number=f"RC{claim_id}-1")) == 1


def _partial_835(pcn: str) -> Remittance835:
    today = date.today()
    return Remittance835(
        envelope=Envelope(sender_id="SANDBOX", receiver_id="RECLAIM",
                          interchange_control_number=777, group_control_number=777,
                          created=f"{today}T10:00:00"),
        payer_name="SANDBOX HEALTH PLAN", payer_id="SANDBOX",
        payee_name="SPRINGFIELD FAMILY MEDICINE", payee_npi="1234567893",
        payment=Payment(amount=Decimal("120.00"), method="ACH", date=today,
                        trace_number="TRC777", payer_identifier="1371234567"),
        claims=[ClaimPayment(
            patient_control_number=pcn, status_code="1", charge=Decimal("210.00"),
            paid=Decimal("120.00"), payer_claim_control_number="PCC777",
            lines=[
                ServicePayment(procedure="99214", modifiers=["25"], charge=Decimal("150.00"),
                               paid=Decimal("120.00"), units=Decimal(1),
                               adjustments=[Adjustment(group="CO", reason="45",
                                                       amount=Decimal("30.00"))]),
                ServicePayment(procedure="93000", charge=Decimal("60.00"), paid=Decimal("0"),
                               units=Decimal(1),
                               adjustments=[Adjustment(group="CO", reason="18",
                                                       amount=Decimal("60.00"))]),
            ],
        )],
    )
