"""What a careless change to ClaimWorkflow looks like: a new activity before its first command.
The replay test checks the saved histories refuse it (kept apart from the test module so the
workflow sandbox imports only workflow code)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.claims import ClaimActivities
    from contracts.messages import ClaimInput, ClaimResult
    from workflows.claim import ClaimWorkflow


@workflow.defn(name="ClaimWorkflow")
class ClaimWorkflowWithAnExtraFirstStep(ClaimWorkflow):
    @workflow.run
    async def run(self, start: ClaimInput) -> ClaimResult:
        await workflow.execute_activity_method(
            ClaimActivities.load_claim_context, start.claim_id,
            start_to_close_timeout=timedelta(seconds=60))
        return await super().run(start)
