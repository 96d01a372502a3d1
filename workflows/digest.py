"""Started every morning by the `daily-digest` schedule: each coder's open items by email."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts import activities as act
    from contracts.messages import DigestRequest


@workflow.defn
class DailyDigestWorkflow:
    @workflow.run
    async def run(self) -> int:
        return await workflow.execute_activity(
            act.send_daily_digests,
            DigestRequest(day=workflow.now().date()),
            start_to_close_timeout=timedelta(minutes=5),
        )
