"""The claim's story, from coding to money: scrub, submit, wait for the payer or the deadline,
route the denial, wait for the person or the SLA, resubmit — until paid, patient's or closed."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate
from temporalio.workflow import ChildWorkflowHandle, ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from contracts import activities as act
    from contracts.enums import (
        CORRECTING_QUEUES,
        QUEUE_ACTIONS,
        UNFILED_STATUSES,
        ClaimStatus,
        Queue,
        Route,
    )
    from contracts.messages import (
        AppealDecision,
        ApplyCorrection,
        AutoFixRequest,
        ClaimContext,
        ClaimInput,
        ClaimResult,
        EdiEvent,
        LetterRequest,
        RejectionRequest,
        RemittanceOutcome,
        RemittanceRequest,
        ScrubRequest,
        StatusChange,
        SubmitRequest,
        WorkItemInput,
        WorkItemRef,
        WorkItemResult,
        WorkItemSpec,
    )
    from contracts.names import (
        APPEAL_DECISION_SIGNAL,
        ASSIGNED_TO,
        CLAIM_STATUS,
        DENIAL_ROUTE,
        EDI_EVENT_SIGNAL,
        PAYER_ID,
        STATUS_QUERY,
    )
    from workflows.steps import Final, Next, Resubmit
    from workflows.work_item import WorkItemWorkflow

# Activities are short database writes; a worker killed mid-activity is noticed this soon.
SHORT = timedelta(seconds=20)
SUBMIT_TIMEOUT = timedelta(seconds=45)
SEEN_KEEP = 500
# Patch ids (workflow.patched): histories recorded before each change replay without it.
STATUS_WHILE_CORRECTING = "needs-correction-status"
ROUTED_REJECTIONS = "rejection-routing"


@workflow.defn
class ClaimWorkflow:
    def __init__(self) -> None:
        self._status = ClaimStatus.coding
        self._inbox: list[EdiEvent] = []
        self._seen: list[str] = []
        self._seq = 0
        self._claim_id = 0
        self._attempt = 0
        self._appeal: AppealDecision | None = None
        self._paid = "0"
        self._ctx: ClaimContext | None = None
        self._search_attributes = True
        self._max_attempts = 3
        # The payer has adjudicated an attempt: a claim it denied counts as filed even while it
        # waits `needs_correction` for a person (the timely-filing watch reads this).
        self._adjudicated = False

    # ------------------------------------------------------------------ the story

    @workflow.run
    async def run(self, start: ClaimInput) -> ClaimResult:
        self._claim_id = start.claim_id
        self._search_attributes = start.search_attributes
        self._status = start.status
        self._seq = start.event_seq
        self._seen = list(start.seen_events)
        self._attempt = start.attempt
        self._adjudicated = start.frequency_code == "7"
        ctx = await workflow.execute_activity(
            act.load_claim_context, start.claim_id, start_to_close_timeout=SHORT
        )
        self._ctx = ctx
        self._max_attempts = start.max_attempts or ctx.max_attempts
        self._upsert(PAYER_ID.value_set(ctx.payer_id))
        deadline_watch = asyncio.create_task(self._watch_timely_filing(ctx))
        try:
            if start.attempt == 0:
                await self._scrub_until_clean()
            final = await self._submit_until_resolved(
                ctx, start.frequency_code, start.original_reference
            )
        finally:
            deadline_watch.cancel()
        await self._set(final.status, final.note, kind="closed")
        return ClaimResult(
            claim_id=start.claim_id, status=final.status, attempts=self._attempt
        )

    async def _scrub_until_clean(self) -> None:
        await self._set(ClaimStatus.scrubbing, "Scrubbing the claim before it leaves")
        outcome = await workflow.execute_activity(
            act.scrub_claim,
            ScrubRequest(claim_id=self._claim_id, first_pass=True),
            start_to_close_timeout=SHORT,
        )
        while outcome.errors:
            summary = "; ".join(f.message for f in outcome.errors[:3])
            await self._set(ClaimStatus.needs_correction, f"Scrubber found problems: {summary}")
            result = await self._work_item(
                queue=Queue.coder,
                kind="correction",
                title=f"Claim {self._claim_id}: fix before submission",
                detail=summary,
                data={"findings": [f.model_dump() for f in outcome.errors]},
                key=f"scrub-{self._seq}",
            )
            await self._apply_corrections(result)
            await self._set(ClaimStatus.scrubbing, "Correction received; scrubbing again")
            outcome = await workflow.execute_activity(
                act.scrub_claim,
                ScrubRequest(claim_id=self._claim_id),
                start_to_close_timeout=SHORT,
            )

    async def _submit_until_resolved(
        self, ctx: ClaimContext, frequency: str, reference: str | None
    ) -> Final:
        while True:
            if self._attempt >= self._max_attempts:
                step = await self._cap_reached(reference)
                if isinstance(step, Final):
                    return step
                frequency, reference = step.frequency_code, step.original_reference
            if workflow.info().is_continue_as_new_suggested():
                workflow.continue_as_new(self._carry(frequency, reference))
            self._attempt += 1
            step = await self._one_attempt(ctx, frequency, reference)
            if isinstance(step, Final):
                return step
            frequency, reference = step.frequency_code, step.original_reference

    async def _cap_reached(self, reference: str | None,
                           data: dict[str, Any] | None = None) -> Next:
        """The payer's attempt limit: a manager writes the claim off, or allows one more try."""
        decision = await self._work_item(
            queue=Queue.manager,
            kind="attempt_cap",
            title=f"Claim {self._claim_id}: {self._attempt} attempts used",
            detail="The payer's attempt limit is reached. Approve to write the claim off, or "
            "reject to allow one more corrected attempt.",
            key=f"cap-{self._attempt}",
        )
        if decision.action == "approve":
            return Final(ClaimStatus.written_off, "Written off after the attempt cap")
        await self._awaiting_correction(Queue.coder)
        fix = await self._work_item(
            queue=Queue.coder,
            kind="correction",
            title=f"Claim {self._claim_id}: correct for one more attempt",
            detail=decision.note or "A manager allowed one more attempt.",
            data=data,
            key=f"cap-fix-{self._attempt}",
        )
        await self._apply_corrections(fix)
        self._max_attempts = self._attempt + 1
        if reference:
            return Resubmit("7", reference, "One more attempt allowed by a manager")
        return Resubmit("1", None, "One more attempt allowed by a manager")

    async def _one_attempt(self, ctx: ClaimContext, frequency: str, reference: str | None) -> Next:
        attempt = self._attempt
        sub = await workflow.execute_activity(
            act.submit_claim,
            SubmitRequest(
                claim_id=self._claim_id,
                attempt=attempt,
                frequency_code=frequency,
                original_reference=reference,
            ),
            start_to_close_timeout=SUBMIT_TIMEOUT,
        )
        first = sub.frequency_code == "1"
        await self._set(
            ClaimStatus.submitted if first else ClaimStatus.resubmitted,
            f"Attempt {attempt} sent as {sub.patient_control_number} (frequency {frequency})",
            data={"submission_id": sub.submission_id},
        )
        follow_up: ChildWorkflowHandle[Any, Any] | None = None
        timeout = ctx.ack_deadline
        acked = False
        try:
            while True:
                event = await self._next_event(attempt, timeout, follow_up)
                if event is None and follow_up is not None and follow_up.done():
                    result: WorkItemResult = follow_up.result()
                    follow_up = None
                    if result.action == "write_off":
                        return await self._write_off("No answer from the payer", None)
                    await self._apply_corrections(result)
                    return Resubmit("1", None, "Sent again after the payer did not answer")
                if event is None:
                    if follow_up is None:
                        follow_up = await self._start_follow_up(attempt, acked)
                    timeout = ctx.adjudication_deadline
                    continue
                if event.kind == "999":
                    if not event.accepted:
                        return await self._rejected(event, "The clearinghouse rejected the file")
                    acked = True
                    await self._set(None, "999: file accepted", kind="999")
                    timeout = ctx.status_deadline
                elif event.kind == "277CA":
                    if not event.accepted:
                        return await self._rejected(event, "The payer rejected the claim")
                    acked = True
                    await self._set(ClaimStatus.accepted, "277CA: accepted into adjudication",
                                    kind="277CA")
                    timeout = ctx.adjudication_deadline
                else:
                    outcome = await self._remittance(event)
                    if outcome is None:
                        continue
                    return await self._after_remittance(ctx, outcome)
        finally:
            if follow_up is not None and not follow_up.done():
                follow_up.cancel()

    # ------------------------------------------------------------------ payer answers

    async def _next_event(
        self,
        attempt: int,
        timeout: timedelta,
        follow_up: ChildWorkflowHandle[Any, Any] | None,
    ) -> EdiEvent | None:
        def ready() -> bool:
            if follow_up is not None and follow_up.done():
                return True
            return any(e.attempt == attempt for e in self._inbox)

        try:
            await workflow.wait_condition(ready, timeout=timeout)
        except TimeoutError:
            return None
        for i, event in enumerate(self._inbox):
            if event.attempt == attempt:
                return self._inbox.pop(i)
        return None

    async def _remittance(self, event: EdiEvent) -> RemittanceOutcome | None:
        assert event.remittance_id is not None
        outcome = await workflow.execute_activity(
            act.record_remittance,
            RemittanceRequest(
                claim_id=self._claim_id, attempt=event.attempt, remittance_id=event.remittance_id
            ),
            start_to_close_timeout=SHORT,
        )
        if outcome.outcome == "reversed":
            await self._set(None, "835: the payer reversed an earlier payment", kind="835")
            return None
        return outcome

    async def _after_remittance(self, ctx: ClaimContext, outcome: RemittanceOutcome) -> Next:
        self._paid = str(outcome.paid)
        self._adjudicated = True
        if outcome.outcome != "denied" and not outcome.denials:
            return Final(ClaimStatus(outcome.outcome), f"835: {outcome.outcome.replace('_', ' ')}")
        route = outcome.route or Route.coder
        self._upsert(DENIAL_ROUTE.value_set(route.value))
        codes = ", ".join(f"{d.group}-{d.carc}" for d in outcome.denials) or "no reason given"
        await self._set(ClaimStatus.denied, f"835: denied ({codes}); routed to {route}",
                        kind="denial", data={"route": route.value})
        if outcome.escalate:
            return await self._cap_reached(
                outcome.payer_claim_control_number,
                {"denials": [d.model_dump(mode="json") for d in outcome.denials]})
        return await self._route(ctx, outcome, route)

    async def _route(self, ctx: ClaimContext, outcome: RemittanceOutcome, route: Route) -> Next:
        # Line and claim level often carry the same reason: say each once.
        plain = "; ".join(dict.fromkeys(d.plain for d in outcome.denials if d.plain))
        reference = outcome.payer_claim_control_number
        # A partly paid claim whose denied lines are closed or written off stays partly paid.
        settled = ClaimStatus.partially_paid if outcome.outcome == "partially_paid" else None
        if route == Route.patient:
            return Final(settled or ClaimStatus.patient_responsibility,
                         "The balance is the patient's")
        denials = {"denials": [d.model_dump(mode="json") for d in outcome.denials]}
        if route in (Route.write_off, Route.close):
            return await self._write_off(plain or "Denial routed to write-off", reference,
                                         settled=settled, data=denials)
        if route == Route.auto_fix:
            fix = await workflow.execute_activity(
                act.apply_auto_fix,
                AutoFixRequest(
                    claim_id=self._claim_id,
                    attempt=self._attempt,
                    denial_ids=[d.denial_id for d in outcome.denials],
                ),
                start_to_close_timeout=SHORT,
            )
            if fix.fixed:
                note = "Auto-fixed: " + "; ".join(fix.changes)
                await self._set(None, note, kind="auto_fix")
                if fix.new_original:
                    return Resubmit("1", None, note)
                return Resubmit("7", reference, note)
            route = Route(fix.queue or Queue.coder)
            await self._set(None, f"Auto-fix not possible: {fix.reason}", kind="auto_fix")
        if route == Route.appeal:
            return await self._appeal_flow(ctx, outcome, plain)
        queue = Queue.front_desk if route == Route.front_desk else Queue.coder
        await self._awaiting_correction(queue)
        window = self._watch_window(ctx.corrected_claim_window, queue, "corrected-claim window",
                                    f"ccw-{self._attempt}")
        try:
            result = await self._work_item(
                queue=queue,
                kind="denial",
                title=f"Claim {self._claim_id}: denied — {plain[:120]}",
                detail=plain,
                data=denials,
                key=f"denial-{self._attempt}",
                due_in=ctx.corrected_claim_window,
            )
        finally:
            if window is not None:
                window.cancel()
        if result.action == "write_off":
            return await self._write_off(result.note or plain, reference, data=denials)
        if result.action == "redirect":
            await self._apply_corrections(result, extra={"payer_id": result.payer_id})
            return Resubmit("1", None, f"Redirected to payer {result.payer_id}")
        await self._apply_corrections(result)
        if outcome.new_original or not reference:
            return Resubmit("1", None, "Sent as a new original claim (MA130)")
        return Resubmit("7", reference, "Corrected claim replaces the denied one")

    async def _appeal_flow(self, ctx: ClaimContext, outcome: RemittanceOutcome, plain: str) -> Next:
        await self._set(ClaimStatus.appealing, "Denial routed to appeal", kind="appeal")
        ref = await self._open_item(
            key=f"claim-{self._claim_id}-appeal-{self._attempt}",
            queue=Queue.appeal,
            kind="appeal",
            title=f"Claim {self._claim_id}: appeal — {plain[:120]}",
            detail=plain,
            data={"denials": [d.model_dump(mode="json") for d in outcome.denials]},
            due_in=ctx.appeal_window,
        )
        await workflow.execute_activity(
            act.write_appeal_letter,
            LetterRequest(
                claim_id=self._claim_id,
                work_item_id=ref.work_item_id,
                denial_ids=[d.denial_id for d in outcome.denials],
            ),
            start_to_close_timeout=SHORT,
        )
        window = self._watch_window(ctx.appeal_window, Queue.appeal, "appeal window",
                                    f"aw-{self._attempt}")
        try:
            result = await self._run_work_item(ref.work_item_id, ref.workflow_id, Queue.appeal,
                                               "appeal", ref.assignee)
        finally:
            if window is not None:
                window.cancel()
        reference = outcome.payer_claim_control_number
        if result.action == "write_off":
            return await self._write_off(result.note or "Appeal not pursued", reference)
        await self._set(None, "Appeal sent to the payer; waiting for the decision", kind="appeal")
        try:
            await workflow.wait_condition(
                lambda: self._appeal is not None
                or any(e.kind == "835" and e.attempt == self._attempt for e in self._inbox),
                timeout=ctx.adjudication_deadline,
            )
        except TimeoutError:
            await self._set(None, "No appeal decision by the deadline", kind="appeal")
        decision = self._appeal
        if decision is not None and decision.decision == "upheld":
            await self._set(None, "The payer upheld the denial", kind="appeal")
            return await self._write_off("Appeal upheld", reference)
        # Overturned (or no word yet): the payer's new 835 for this attempt settles it.
        while True:
            event = await self._next_event(self._attempt, ctx.adjudication_deadline, None)
            if event is None:
                await self._start_follow_up(self._attempt, True)
                continue
            if event.kind != "835":
                continue
            outcome2 = await self._remittance(event)
            if outcome2 is None:
                continue
            if outcome2.outcome != "denied" and not outcome2.denials:
                return Final(ClaimStatus(outcome2.outcome), "Appeal overturned the denial")
            return await self._write_off("Appeal upheld on the new remittance", reference)

    async def _rejected(self, event: EdiEvent, what: str) -> Next:
        detail = f"{what}: {event.code or ''} {event.message or ''}".strip()
        await self._set(ClaimStatus.rejected, detail, kind=event.kind)
        queue, data = Queue.coder, None
        if workflow.patched(ROUTED_REJECTIONS):
            # The correction map says who can fix this rejection (a member id: the front desk).
            routed = await workflow.execute_activity(
                act.route_rejection,
                RejectionRequest(claim_id=self._claim_id, attempt=self._attempt,
                                 code=event.code, message=event.message),
                start_to_close_timeout=SHORT,
            )
            queue = routed.queue
            data = {"rejection": {"kind": event.kind, "code": event.code,
                                  "message": event.message, "rule_id": routed.rule_id}}
        await self._awaiting_correction(queue)
        result = await self._work_item(
            queue=queue,
            kind="correction",
            title=f"Claim {self._claim_id}: rejected at the front door",
            detail=detail,
            data=data,
            key=f"rejected-{self._attempt}",
        )
        await self._apply_corrections(result)
        # A rejected claim never entered adjudication: it goes again as an original.
        return Resubmit("1", None, "Corrected after a front-end rejection")

    async def _write_off(self, why: str, reference: str | None, *,
                         settled: ClaimStatus | None = None,
                         data: dict[str, Any] | None = None) -> Next:
        final = settled or ClaimStatus.written_off
        needs_approval = await workflow.execute_activity(
            act.write_off_needs_approval, self._claim_id, start_to_close_timeout=SHORT
        )
        if not needs_approval:
            return Final(final, why)
        decision = await self._work_item(
            queue=Queue.manager,
            kind="approval",
            title=f"Claim {self._claim_id}: approve write-off",
            detail=why,
            key=f"writeoff-{self._attempt}",
        )
        if decision.action == "approve":
            return Final(final, why)
        # The manager wants it worked: a coder corrects it and it goes again.
        await self._awaiting_correction(Queue.coder)
        fix = await self._work_item(
            queue=Queue.coder,
            kind="correction",
            title=f"Claim {self._claim_id}: write-off refused, correct and resubmit",
            detail=decision.note or why,
            data=data,  # the denials, so the form shows what the payer named first
            key=f"writeoff-fix-{self._attempt}",
        )
        await self._apply_corrections(fix)
        if reference:
            return Resubmit("7", reference, "Corrected after a refused write-off")
        return Resubmit("1", None, "Corrected after a refused write-off")

    async def _watch_timely_filing(self, ctx: ClaimContext) -> None:
        """A durable timer per claim: warn before the payer's filing limit, escalate after it."""
        deadline = ctx.timely_filing_deadline
        warn_at = deadline - ctx.deadline_warning_lead
        if warn_at > workflow.now():
            await workflow.sleep(warn_at - workflow.now())
        if not self._filed():
            await self._start_notice_item(
                Queue.front_desk, "deadline", "timely filing deadline approaching",
                f"tf-warn-{self._claim_id}",
            )
        if deadline > workflow.now():
            await workflow.sleep(deadline - workflow.now())
        if not self._filed():
            await self._start_notice_item(
                Queue.manager, "deadline", "timely filing deadline passed",
                f"tf-missed-{self._claim_id}",
            )

    def _watch_window(self, window: timedelta, queue: Queue, what: str,
                      key: str) -> asyncio.Task[None] | None:
        """A durable timer for a payer window that opens with a denial (appeal, corrected
        claim): a warning item before it closes, a manager's item once it has closed. Runs while
        the person's work item is open; cancelled when it is done."""
        # Histories recorded before these timers existed replay without them.
        if not workflow.patched("payer-window-timers"):
            return None
        closes = workflow.now() + window
        return asyncio.create_task(self._window_timers(closes, queue, what, key))

    async def _window_timers(self, closes: datetime, queue: Queue, what: str, key: str) -> None:
        assert self._ctx is not None
        detail = f"The payer's {what} closes {closes:%Y-%m-%d}."
        warn_at = closes - self._ctx.deadline_warning_lead
        if warn_at > workflow.now():
            await workflow.sleep(warn_at - workflow.now())
        await self._start_notice_item(queue, "deadline", f"{what} closes soon",
                                      f"claim-{self._claim_id}-{key}-warn", detail)
        if closes > workflow.now():
            await workflow.sleep(closes - workflow.now())
        await self._start_notice_item(Queue.manager, "deadline", f"{what} has closed",
                                      f"claim-{self._claim_id}-{key}-missed", detail)

    def _filed(self) -> bool:
        if self._status == ClaimStatus.needs_correction and self._adjudicated:
            return True  # denied and being corrected: it was filed
        return self._status not in UNFILED_STATUSES

    async def _awaiting_correction(self, queue: Queue) -> None:
        """The claim waits for a person to correct it: its status says so (DESIGN.md)."""
        if workflow.patched(STATUS_WHILE_CORRECTING):
            who = "front desk" if queue == Queue.front_desk else queue.value
            await self._set(ClaimStatus.needs_correction,
                            f"Waiting for the {who} to correct the claim")

    # ------------------------------------------------------------------ people

    async def _work_item(
        self,
        *,
        queue: Queue,
        kind: str,
        title: str,
        key: str,
        detail: str = "",
        data: dict[str, Any] | None = None,
        due_in: timedelta | None = None,
    ) -> WorkItemResult:
        ref = await self._open_item(
            key=f"claim-{self._claim_id}-{key}", queue=queue, kind=kind, title=title,
            detail=detail, data=data, due_in=due_in,
        )
        return await self._run_work_item(ref.work_item_id, ref.workflow_id, queue, kind,
                                         ref.assignee)

    async def _open_item(
        self, *, key: str, queue: Queue, kind: str, title: str, detail: str = "",
        data: dict[str, Any] | None = None, due_in: timedelta | None = None,
    ) -> WorkItemRef:
        assert self._ctx is not None
        return await workflow.execute_activity(
            act.create_work_item,
            WorkItemSpec(
                claim_id=self._claim_id,
                key=key,
                queue=queue,
                kind=kind,
                title=title,
                detail=detail,
                data=data or {},
                due_in=due_in or self._ctx.escalate_after,
            ),
            start_to_close_timeout=SHORT,
        )

    def _item_input(self, ref: WorkItemRef, queue: Queue, kind: str, *,
                    clean_scrub: bool = False) -> WorkItemInput:
        assert self._ctx is not None
        return WorkItemInput(
            work_item_id=ref.work_item_id,
            claim_id=self._claim_id,
            queue=queue,
            kind=kind,
            allowed_actions=list(QUEUE_ACTIONS[queue]),
            remind_after=self._ctx.remind_after,
            escalate_after=self._ctx.escalate_after,
            requires_clean_scrub=clean_scrub,
        )

    async def _run_work_item(
        self, item_id: int, workflow_id: str, queue: Queue, kind: str, assignee: str | None
    ) -> WorkItemResult:
        self._upsert(ASSIGNED_TO.value_set(assignee or queue.value))
        ref = WorkItemRef(work_item_id=item_id, workflow_id=workflow_id, assignee=assignee)
        result: WorkItemResult = await workflow.execute_child_workflow(
            WorkItemWorkflow.run,
            self._item_input(ref, queue, kind, clean_scrub=queue in CORRECTING_QUEUES),
            id=workflow_id,
        )
        self._upsert(ASSIGNED_TO.value_unset())
        await self._set(
            None,
            f"Work item {item_id} completed: {result.action}"
            + (f" — {result.note}" if result.note else ""),
            kind="work_item",
        )
        return result

    async def _start_follow_up(self, attempt: int, acked: bool) -> ChildWorkflowHandle[Any, Any]:
        what = "adjudication" if acked else "acknowledgment"
        ref = await self._open_item(
            key=f"claim-{self._claim_id}-followup-{attempt}-{self._seq}",
            queue=Queue.front_desk,
            kind="follow_up",
            title=f"Claim {self._claim_id}: payer has not answered",
            detail=f"No {what} from the payer by the deadline. Check the claim's status "
            "with the payer; resubmit if they never received it.",
        )
        await self._set(None, f"Payer has not answered ({what}); follow-up opened",
                        kind="follow_up")
        return await workflow.start_child_workflow(
            WorkItemWorkflow.run, self._item_input(ref, Queue.front_desk, "follow_up"),
            id=ref.workflow_id,
        )

    async def _start_notice_item(self, queue: Queue, kind: str, title: str, key: str,
                                 detail: str | None = None) -> None:
        assert self._ctx is not None
        ref = await self._open_item(
            key=key,
            queue=queue,
            kind=kind,
            title=f"Claim {self._claim_id}: {title}",
            detail=detail
            or f"Timely filing deadline: {self._ctx.timely_filing_deadline:%Y-%m-%d}",
            due_in=self._ctx.deadline_warning_lead,
        )
        await workflow.start_child_workflow(
            WorkItemWorkflow.run,
            self._item_input(ref, queue, kind),
            id=ref.workflow_id,
            parent_close_policy=ParentClosePolicy.ABANDON,
        )

    async def _apply_corrections(
        self, result: WorkItemResult, extra: dict[str, Any] | None = None
    ) -> None:
        corrections = dict(result.corrections or {})
        corrections.update(extra or {})
        if not corrections:
            return
        await workflow.execute_activity(
            act.apply_correction,
            ApplyCorrection(
                claim_id=self._claim_id,
                corrections=corrections,
                key=f"wi-{result.work_item_id}",
                user=result.user,
                note=result.note,
            ),
            start_to_close_timeout=SHORT,
        )

    # ------------------------------------------------------------------ projection

    async def _set(
        self, status: ClaimStatus | None, message: str, *, kind: str = "status",
        data: dict[str, Any] | None = None,
    ) -> None:
        if status is not None:
            self._status = status
            self._upsert(CLAIM_STATUS.value_set(status.value))
        self._seq += 1
        await workflow.execute_local_activity(
            act.record_status,
            StatusChange(
                claim_id=self._claim_id,
                key=f"e{self._seq}",
                status=status,
                kind=kind,
                message=message,
                data=data or {},
            ),
            start_to_close_timeout=SHORT,
        )

    def _upsert(self, update: SearchAttributeUpdate[Any]) -> None:
        if self._search_attributes:
            workflow.upsert_search_attributes([update])

    def _carry(self, frequency: str, reference: str | None) -> ClaimInput:
        return ClaimInput(
            claim_id=self._claim_id,
            search_attributes=self._search_attributes,
            attempt=self._attempt,
            frequency_code=frequency,
            original_reference=reference,
            status=self._status,
            event_seq=self._seq,
            seen_events=self._seen[-SEEN_KEEP:],
            max_attempts=self._max_attempts,
        )

    # ------------------------------------------------------------------ messages

    @workflow.signal(name=EDI_EVENT_SIGNAL)
    def edi_event(self, event: EdiEvent) -> None:
        # The same file posted twice, or a retried ingestion, must not move the claim twice.
        if event.key in self._seen:
            return
        self._seen.append(event.key)
        if event.attempt < self._attempt:
            return
        self._inbox.append(event)

    @workflow.signal(name=APPEAL_DECISION_SIGNAL)
    def appeal_decision(self, decision: AppealDecision) -> None:
        self._appeal = decision

    @workflow.query(name=STATUS_QUERY)
    def status(self) -> dict[str, Any]:
        return {
            "claim_id": self._claim_id,
            "status": self._status,
            "attempt": self._attempt,
            "pending_events": len(self._inbox),
        }
