"""Started by the `clearinghouse-poll` schedule: one long, heartbeating poll per run."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from contracts import activities as act
    from contracts.messages import PollRequest, PollResult


@workflow.defn
class ClearinghousePollWorkflow:
    @workflow.run
    async def run(self, request: PollRequest) -> PollResult:
        return await workflow.execute_activity(
            act.poll_clearinghouse,
            request,
            start_to_close_timeout=timedelta(seconds=request.run_seconds + 60),
            heartbeat_timeout=timedelta(seconds=15),
            retry_policy=RetryPolicy(maximum_attempts=3, maximum_interval=timedelta(seconds=5)),
        )
