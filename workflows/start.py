"""Starting claim workflows — from the API, `reclaim claims load`, the demo and the reconciler."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import col, select
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from reclaim.claims import create_claim
from reclaim.config import Settings
from reclaim.db import session_scope
from reclaim.models import Claim, utcnow
from reclaim.schemas import ClaimDocument
from workflows.claim import CLAIM_STATUS, PAYER_ID, ClaimWorkflow, workflow_id_for
from workflows.types import ClaimInput


async def start_claim_workflow(
    client: Client, settings: Settings, *, claim_id: int, payer_id: str
) -> str:
    workflow_id = workflow_id_for(claim_id)
    attributes = TypedSearchAttributes(
        [SearchAttributePair(CLAIM_STATUS, "coding"), SearchAttributePair(PAYER_ID, payer_id)]
    )
    try:
        await client.start_workflow(
            ClaimWorkflow.run,
            ClaimInput(claim_id=claim_id, search_attributes=settings.search_attributes),
            id=workflow_id,
            task_queue=settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=attributes if settings.search_attributes else None,
        )
    except WorkflowAlreadyStartedError:
        pass  # started before (a retried request, or the reconciler got there first)
    return workflow_id


async def create_and_start(
    *, engine: Engine, client: Client, settings: Settings, document: ClaimDocument
) -> Claim:
    with session_scope(engine) as session:
        claim = create_claim(session=session, document=document)
    assert claim.id is not None
    await start_claim_workflow(client, settings, claim_id=claim.id, payer_id=claim.payer_id)
    return claim


async def start_orphans(*, engine: Engine, client: Client, settings: Settings,
                        older_than_seconds: int = 30) -> int:
    """Claims stored but never started (the API died between the insert and the start)."""
    from datetime import timedelta

    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    with session_scope(engine) as session:
        rows = session.exec(
            select(Claim.id, Claim.payer_id).where(
                Claim.status == "coding", col(Claim.created_at) < cutoff
            )
        ).all()
    for claim_id, payer_id in rows:
        assert claim_id is not None
        await start_claim_workflow(client, settings, claim_id=claim_id, payer_id=payer_id)
    return len(rows)
