"""Issue 4 on the time-skipping server: every route end to end, reminders and escalations at the
right times, the attempt cap, filing deadlines, MA130, through the real sandbox payer where it
can answer and hand-written 835s where it cannot (an overturned appeal, a second denial)."""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlmodel import Session, col, select

from contracts.messages import AppealDecision, CompleteRequest
from reclaim.models import Claim, Denial, Submission, WorkItem
from reclaim.payers import terms_for
from tests.conftest import SmtpSink
from tests.support import (
    InProcessPayer,
    claim_doc,
    denial,
    make_835,
    payment,
    rules_without_random_denials,
)
from tests.workflows.conftest import Stack
from workflows.claim import ClaimWorkflow


def submissions(stack: Stack, claim_id: int) -> list[Submission]:
    with Session(stack.engine) as session:
        return list(session.exec(select(Submission).where(Submission.claim_id == claim_id)
                                 .order_by(col(Submission.attempt))).all())


async def denied_by_payer(stack: Stack, member_id: str, **changes: object) -> int:
    # Trigger ids repeat across tests: a date of service of its own keeps the scrubber's
    # duplicate-claim edit from linking them.
    changes.setdefault("service_date", (date.today() - timedelta(
        days=random.randint(6, 300))).isoformat())
    claim_id = await stack.post(claim_doc(patient__member_id=member_id, **changes))
    await stack.wait_status(claim_id, "submitted")
    await stack.pump()
    return claim_id


async def test_auto_fix_resubmits_a_replacement_that_is_paid(stack: Stack) -> None:
    doc = claim_doc(patient__member_id="TEST-CO-16-N290")
    del doc["rendering_provider"]
    claim_id = await stack.post(doc)
    await stack.wait_status(claim_id, "submitted")
    await stack.pump()
    await stack.wait_status(claim_id, "resubmitted")
    await stack.pump()
    await stack.wait_status(claim_id, "paid")
    first, second = submissions(stack, claim_id)
    assert (first.frequency_code, second.frequency_code) == ("1", "7")
    assert second.original_reference
    assert f"REF*F8*{second.original_reference}~" in second.x12
    assert "NM1*82*1*PATEL*RAJ" in second.x12.upper()
    assert "NM1*82" not in first.x12
    with Session(stack.engine) as session:
        routes = session.exec(select(Denial.route).where(Denial.claim_id == claim_id)).all()
        claim = session.get(Claim, claim_id)
        first_denial = session.exec(select(Denial).where(Denial.claim_id == claim_id)).one()
    assert routes == ["auto_fix"]
    # The denial facts the KPIs read, kept by the real ingestion and posting.
    assert claim is not None
    assert claim.denied_at is not None
    assert claim.denied_at.replace(tzinfo=None) == first_denial.created_at.replace(tzinfo=None)
    assert claim.overturned is True
    assert claim.recovered_amount == claim.paid_amount > 0


async def test_coder_route_emails_and_the_correction_is_paid(stack: Stack,
                                                             smtp: SmtpSink) -> None:
    claim_id = await denied_by_payer(stack, "TEST-CO-11")
    item = await stack.wait_item(claim_id, kind="denial")
    assert item.queue == "coder"
    # While the coder's item is open the claim says so (DESIGN.md), not `denied`.
    assert await stack.wait_status(claim_id, "needs_correction") == "needs_correction"
    assert "denied" in [e.split(":")[0] for e in stack.story(claim_id).split(" | ")]
    await stack.wait_mail(smtp, f"claim {claim_id},")
    await stack.complete(item, CompleteRequest(action="resubmit", user="cody",
                                               corrections={"diagnoses": ["E11.65", "I10"]}))
    await stack.wait_status(claim_id, "resubmitted")
    await stack.pump()
    await stack.wait_status(claim_id, "paid")
    assert [s.frequency_code for s in submissions(stack, claim_id)] == ["1", "7"]
    assert "E1165" in submissions(stack, claim_id)[1].x12


async def test_appeal_letter_then_overturned_and_paid(stack: Stack) -> None:
    claim_id = await denied_by_payer(stack, "TEST-CO-50")
    await stack.wait_status(claim_id, "appealing")
    item = await stack.wait_item(claim_id, kind="appeal")
    assert item.queue == "appeal"
    await stack.wait_letter(item.id)
    with Session(stack.engine) as session:
        letter = session.get(WorkItem, item.id).data["letter_html"]  # type: ignore[union-attr]
    assert "CO-50" in letter
    assert "Appeal" in letter
    await stack.complete(item, CompleteRequest(action="appeal_sent", user="bill"))
    handle = stack.client.get_workflow_handle(f"claim-{claim_id}")
    await handle.signal(ClaimWorkflow.appeal_decision, AppealDecision(decision="overturned"))
    pcn = submissions(stack, claim_id)[0].patient_control_number
    await stack.pump.ingest(make_835(payment(pcn), number=901))
    await stack.wait_status(claim_id, "paid")


async def test_appeal_upheld_is_written_off_with_a_managers_approval(stack: Stack) -> None:
    claim_id = await denied_by_payer(stack, "TEST-CO-50")
    item = await stack.wait_item(claim_id, kind="appeal")
    await stack.complete(item, CompleteRequest(action="appeal_sent"))
    await stack.client.get_workflow_handle(f"claim-{claim_id}").signal(
        ClaimWorkflow.appeal_decision, AppealDecision(decision="upheld"))
    approval = await stack.wait_item(claim_id, kind="approval")
    assert approval.queue == "manager"
    await stack.complete(approval, CompleteRequest(action="approve", user="maria"))
    assert await stack.wait_status(claim_id, "written_off") == "written_off"
    with Session(stack.engine) as session:
        claim = session.get(Claim, claim_id)
    assert claim is not None
    assert claim.denied_at is not None
    assert (claim.overturned, claim.recovered_amount) == (False, 0)


async def test_front_desk_redirects_to_another_payer(stack: Stack, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # The demo payer's seeded random denials would make this test depend on the claim id.
    stack.payer.service = InProcessPayer(
        tmp_path / "payer2", rules_path=rules_without_random_denials(tmp_path)).service
    recent = (date.today() - timedelta(days=random.randint(6, 60))).isoformat()
    claim_id = await denied_by_payer(stack, "TEST-CO-22", service_date=recent)
    item = await stack.wait_item(claim_id, kind="denial")
    assert item.queue == "front_desk"
    await stack.complete(item, CompleteRequest(
        action="redirect", payer_id="ACMEHEALTH", user="frank",
        corrections={"patient": {"member_id": "W55512345"}}))
    await stack.wait_status(claim_id, "submitted")
    await stack.pump()
    await stack.wait_status(claim_id, "paid")
    second = submissions(stack, claim_id)[1]
    assert second.frequency_code == "1"
    assert "REF*F8" not in second.x12
    assert "*PI*ACMEHEALTH~" in second.x12


async def test_patient_responsibility(stack: Stack) -> None:
    claim_id = await denied_by_payer(stack, "TEST-PR-1")
    assert await stack.wait_status(claim_id, "patient_responsibility") == "patient_responsibility"


async def test_write_off_small_balance_needs_no_approval(stack: Stack) -> None:
    lines = [{"procedure": "99213", "modifiers": [], "units": 1, "charge": "60.00",
              "diagnosis_pointers": [1]}]
    claim_id = await denied_by_payer(stack, "TEST-CO-29", lines=lines)
    assert await stack.wait_status(claim_id, "written_off") == "written_off"


async def test_reminder_then_escalation_at_their_times(stack: Stack, smtp: SmtpSink) -> None:
    claim_id = await stack.post(claim_doc(diagnoses=["E11", "I10"]))
    item = await stack.wait_item(claim_id, kind="correction")
    await stack.wait_mail(smtp, "new")
    await stack.env.sleep(timedelta(days=1))
    assert not [m for m in smtp.messages if "reminder" in m["Subject"].lower()]
    await stack.env.sleep(timedelta(days=1, hours=1))
    await stack.wait_mail(smtp, "reminder")
    assert not [m for m in smtp.messages if "escalation" in m["Subject"].lower()]
    await stack.env.sleep(timedelta(days=3))
    escalation = await stack.wait_mail(smtp, "escalation")
    assert "maria@clinic.test" in str(escalation["To"])
    with Session(stack.engine) as session:
        row = session.get(WorkItem, item.id)
        assert row is not None
        assert row.reminded_at
        assert row.escalated_at


async def test_attempt_cap_escalates_to_a_manager(stack: Stack) -> None:
    claim_id = await stack.post(claim_doc())
    for attempt in (1, 2, 3):
        await stack.wait_status(claim_id, "submitted", "resubmitted")
        sub = submissions(stack, claim_id)[attempt - 1]
        await stack.pump.ingest(make_835(denial(sub.patient_control_number, group="CO",
                                                carc="11"), number=910 + attempt))
        if attempt < 3:
            item = await stack.wait_item(claim_id, kind="denial")
            # Each attempt a different claim: the same one again is refused (nothing changed).
            fixes = {1: ["E11.65", "I10"], 2: ["E11.65", "I10", "E78.5"]}
            await stack.complete(item, CompleteRequest(
                action="resubmit", corrections={"diagnoses": fixes[attempt]}))
            await stack.wait_item_status(item.id, "done")
    cap = await stack.wait_item(claim_id, kind="attempt_cap")
    assert cap.queue == "manager"
    await stack.complete(cap, CompleteRequest(action="approve", user="maria"))
    assert await stack.wait_status(claim_id, "written_off") == "written_off"
    assert len(submissions(stack, claim_id)) == 3


async def test_timely_filing_warning_then_missed(stack: Stack) -> None:
    old = (date.today() - timedelta(days=360)).isoformat()
    claim_id = await stack.post(claim_doc(service_date=old, diagnoses=["E11", "I10"]))
    await stack.wait_status(claim_id, "needs_correction")
    warning = await stack.wait_item(claim_id, kind="deadline")
    assert warning.queue == "front_desk"
    assert "approaching" in warning.title
    await stack.env.sleep(timedelta(days=6))
    missed = await stack.wait_item_where(claim_id, queue="manager", kind="deadline")
    assert "passed" in missed.title


async def test_ma130_goes_again_as_a_new_original(stack: Stack) -> None:
    claim_id = await denied_by_payer(stack, "TEST-CO-16-MA130")
    item = await stack.wait_item(claim_id, kind="denial")
    await stack.complete(item, CompleteRequest(
        action="resubmit", corrections={"patient": {"member_id": "W55598765"}}))
    await stack.wait_status(claim_id, "submitted")
    second = submissions(stack, claim_id)[1]
    assert second.frequency_code == "1"
    assert "REF*F8" not in second.x12
    await stack.pump()
    await stack.wait_status(claim_id, "paid")
    with Session(stack.engine) as session:
        claim = session.get(Claim, claim_id)
        assert claim is not None
        assert claim.attempts == 2


async def test_corrected_claim_window_warns_then_escalates(stack: Stack) -> None:
    claim_id = await denied_by_payer(stack, "TEST-CO-11")
    await stack.wait_item(claim_id, kind="denial")
    window = terms_for("SANDBOX").corrected_claim_window_days
    lead = stack.settings.deadline_warning_lead
    await stack.env.sleep(timedelta(days=window) - lead + timedelta(hours=1))
    warning = await stack.wait_item_where(claim_id, queue="coder", kind="deadline")
    assert "corrected-claim window closes soon" in warning.title
    await stack.env.sleep(lead)
    closed = await stack.wait_item_where(claim_id, queue="manager", kind="deadline")
    assert "has closed" in closed.title


async def test_appeal_window_is_watched_until_the_appeal_is_sent(stack: Stack) -> None:
    claim_id = await denied_by_payer(stack, "TEST-CO-50")
    item = await stack.wait_item(claim_id, kind="appeal")
    window = terms_for("SANDBOX").appeal_window_days
    await stack.env.sleep(timedelta(days=window) - stack.settings.deadline_warning_lead
                          + timedelta(hours=1))
    warning = await stack.wait_item_where(claim_id, queue="appeal", kind="deadline")
    assert "appeal window closes soon" in warning.title
    await stack.complete(item, CompleteRequest(action="appeal_sent"))
    await stack.wait_item_status(item.id, "done")
    await stack.env.sleep(timedelta(days=30))
    with Session(stack.engine) as session:
        missed = session.exec(select(WorkItem).where(
            WorkItem.claim_id == claim_id, WorkItem.queue == "manager",
            WorkItem.kind == "deadline")).all()
    assert missed == []  # the appeal went out in time: nothing to escalate
