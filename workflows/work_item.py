"""A person's task about a claim: assign, notify, remind, escalate, wait for the decision."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts import activities as act
    from contracts.messages import (
        CompleteRequest,
        CorrectionCheck,
        NoticeKind,
        NoticeRequest,
        WorkItemClose,
        WorkItemInput,
        WorkItemResult,
    )
    from contracts.names import COMPLETE_UPDATE, STATUS_QUERY

# Activities are short database writes; a worker killed mid-activity is noticed this soon.
SHORT = timedelta(seconds=20)


@workflow.defn
class WorkItemWorkflow:
    # The input is taken at construction: an update can arrive with the start itself, and its
    # validator runs before `run` has begun.
    @workflow.init
    def __init__(self, item: WorkItemInput) -> None:
        self._input = item
        self._result: WorkItemResult | None = None
        self._completing = False

    @workflow.run
    async def run(self, item: WorkItemInput) -> WorkItemResult:
        await self._notify(item, "new_work_item")
        try:
            if not await self._wait_for_result(item.remind_after):
                await self._notify(item, "reminder")
                rest = max(item.escalate_after - item.remind_after, timedelta(seconds=1))
                if not await self._wait_for_result(rest):
                    await self._notify(item, "escalation")
                    await workflow.wait_condition(lambda: self._result is not None)
        except asyncio.CancelledError:
            # The claim no longer needs this (e.g. the 835 came while a follow-up was open).
            await workflow.execute_activity(
                act.close_work_item,
                WorkItemClose(work_item_id=item.work_item_id, status="cancelled"),
                start_to_close_timeout=SHORT,
            )
            raise
        assert self._result is not None
        await workflow.execute_activity(
            act.close_work_item,
            WorkItemClose(work_item_id=item.work_item_id, status="done", result=self._result),
            start_to_close_timeout=SHORT,
        )
        return self._result

    async def _wait_for_result(self, timeout: timedelta) -> bool:
        try:
            await workflow.wait_condition(lambda: self._result is not None, timeout=timeout)
        except TimeoutError:
            return False
        return True

    async def _notify(self, item: WorkItemInput, kind: NoticeKind) -> None:
        await workflow.execute_activity(
            act.notify,
            NoticeRequest(work_item_id=item.work_item_id, kind=kind),
            start_to_close_timeout=SHORT,
            # Mail is never dropped: retried until the SMTP server takes it.
            retry_policy=None,
        )

    @workflow.update(name=COMPLETE_UPDATE)
    async def complete(self, request: CompleteRequest) -> WorkItemResult:
        self._completing = True
        try:
            if request.corrections and self._input.requires_clean_scrub:
                outcome = await workflow.execute_activity(
                    act.check_correction,
                    CorrectionCheck(
                        claim_id=self._input.claim_id, corrections=request.corrections
                    ),
                    start_to_close_timeout=SHORT,
                )
                if outcome.errors:
                    raise ApplicationError(
                        "the corrected claim still fails the scrubber",
                        [f.model_dump() for f in outcome.errors],
                        type="CorrectionRejected",
                        non_retryable=True,
                    )
        except BaseException:
            self._completing = False
            raise
        self._result = WorkItemResult(
            work_item_id=self._input.work_item_id,
            action=request.action,
            note=request.note,
            corrections=request.corrections,
            payer_id=request.payer_id,
            user=request.user,
        )
        return self._result

    @complete.validator
    def _validate_complete(self, request: CompleteRequest) -> None:
        if self._result is not None or self._completing:
            raise ValueError("this work item is already completed")
        allowed = self._input.allowed_actions
        if request.action not in allowed:
            raise ValueError(
                f"action '{request.action}' is not allowed here; allowed: {', '.join(allowed)}"
            )
        if request.action == "redirect" and not request.payer_id:
            raise ValueError("action 'redirect' needs payer_id: the payer to send the claim to")
        if (
            self._input.requires_clean_scrub
            and request.action == "resubmit"
            and not request.corrections
            and self._input.kind == "correction"
        ):
            raise ValueError("a correction needs 'corrections': the fields of the claim to change")

    @workflow.query(name=STATUS_QUERY)
    def status(self) -> str:
        return "done" if self._result is not None else "open"
