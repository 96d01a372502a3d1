"""Reclaim's Temporal client: connecting the same way everywhere (pydantic payloads, PHI encrypted
by the codec), starting the claim and signal workflows, and receiving a payer file (its EDI
signals are delivered by reclaim.edi.outbox).

The API, the CLI, the worker and the activities call Temporal through this module; it imports the
workflows (to start them by their run method) and the domain, never the reverse."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client, TLSConfig
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.converter import DataConverter
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.runtime import Runtime
from temporalio.service import RPCError

from contracts.enums import ClaimStatus
from contracts.messages import ClaimInput, SignalFileRequest
from contracts.names import (
    CLAIM_STATUS,
    PAYER_ID,
    claim_workflow_id,
    signal_workflow_id,
)
from reclaim.claims.intake import ImportResult, Progress, import_837
from reclaim.claims.schemas import ClaimDocument
from reclaim.claims.service import create_claim
from reclaim.codec import KeyRing
from reclaim.codec import data_converter as codec_converter
from reclaim.config import Settings
from reclaim.db import session_scope
from reclaim.edi.ingest import IngestResult, ingest_file
from reclaim.edi.outbox import signal_file
from reclaim.models import Claim, utcnow
from workflows.claim import ClaimWorkflow
from workflows.edi_signals import EdiSignalWorkflow

log = logging.getLogger(__name__)


def data_converter(settings: Settings) -> DataConverter:
    """pydantic payloads, encrypted (failures too) with the RECLAIM_PAYLOAD_KEY key ring."""
    return codec_converter(KeyRing.from_setting(settings.payload_key))


async def connect(settings: Settings, *, address: str | None = None,
                  runtime: Runtime | None = None) -> Client:
    tls: TLSConfig | bool = False
    if settings.temporal_tls_cert and settings.temporal_tls_key:
        tls = TLSConfig(
            client_cert=settings.temporal_tls_cert.read_bytes(),
            client_private_key=settings.temporal_tls_key.read_bytes(),
        )
    elif settings.temporal_api_key:
        tls = True
    return await Client.connect(
        address or settings.resolved_temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
        tls=tls,
        api_key=settings.temporal_api_key,
        runtime=runtime,
    )


# ------------------------------------------------------------------ starting workflows


async def start_claim_workflow(
    client: Client, settings: Settings, *, claim_id: int, payer_id: str
) -> str:
    workflow_id = claim_workflow_id(claim_id)
    attributes = TypedSearchAttributes(
        [SearchAttributePair(CLAIM_STATUS, ClaimStatus.coding.value),
         SearchAttributePair(PAYER_ID, payer_id)]
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


async def import_claims(
    *, engine: Engine, client: Client, settings: Settings, raw: bytes, filename: str | None,
    username: str | None, progress: Progress | None = None,
) -> ImportResult:
    """An 837 from the practice's own system: each good claim created, then its workflow started
    as `POST /api/v1/claims` starts it. A start Temporal refuses leaves the claim in `coding` for
    the worker's `start_orphans` at its next start; the import does not fail for that."""
    result = await asyncio.to_thread(import_837, engine=engine, raw=raw, filename=filename,
                                     username=username, progress=progress)
    for claim_id, payer_id in result.started:
        try:
            await start_claim_workflow(client, settings, claim_id=claim_id, payer_id=payer_id)
        except RPCError as exc:
            log.warning("an imported claim's workflow did not start; start_orphans will",
                        extra={"claim_id": claim_id, "status": exc.status.name})
    return result


async def start_orphans(*, engine: Engine, client: Client, settings: Settings,
                        older_than_seconds: int = 30) -> int:
    """Claims stored but never started (the API died between the insert and the start)."""
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    with session_scope(engine) as session:
        rows = session.exec(
            select(Claim.id, Claim.payer_id).where(
                Claim.status == ClaimStatus.coding, col(Claim.created_at) < cutoff
            )
        ).all()
    for claim_id, payer_id in rows:
        assert claim_id is not None
        await start_claim_workflow(client, settings, claim_id=claim_id, payer_id=payer_id)
    return len(rows)


async def start_signal_workflow(client: Client, settings: Settings, file_id: int) -> str:
    """Hand a stored file's signals to the worker; its workflow id. Starting it again for the
    same file is harmless: while one runs, or after one has completed (the file is signalled),
    nothing new starts; only after a failed one does a new one start."""
    workflow_id = signal_workflow_id(file_id)
    try:
        await client.start_workflow(
            EdiSignalWorkflow.run,
            SignalFileRequest(file_id=file_id),
            id=workflow_id,
            task_queue=settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
        )
    except WorkflowAlreadyStartedError:
        pass
    return workflow_id


# ------------------------------------------------------------------ payer files received


async def receive_file(engine: Engine, client: Client, settings: Settings, raw: bytes, *,
                       source: str, filename: str | None) -> tuple[IngestResult, dict[str, str]]:
    """Store and read one payer file, then send its answers to their claims' workflows (see
    `_signal`; nothing to send for a file that could not be read). The API's POST and the
    payer files page's upload (whose upload and API share it)."""

    def ingest() -> IngestResult:
        with Session(engine, expire_on_commit=False) as session:
            return ingest_file(session=session, raw=raw, source=source, filename=filename,
                               collect_signals=False)

    result = await asyncio.to_thread(ingest)
    if result.error is not None:
        return result, {}
    return result, await _signal(client, settings, engine, result)


async def _signal(client: Client, settings: Settings, engine: Engine,
                  result: IngestResult) -> dict[str, str]:
    """`signals`: "sent" (before the answer: the file holds at most RECLAIM_EDI_INLINE_SIGNALS,
    or it was signalled before, or it holds none), "queued" (the worker sends them:
    `signal_workflow_id`), or "pending" (Temporal did not answer: the file is stored
    unsignalled and the poller's outbox sweep sends it after RECLAIM_RECONCILE_GRACE)."""
    if not result.pending_signals:
        return {"signals": "sent"}
    try:
        if result.signal_count <= settings.edi_inline_signals:
            await signal_file(client, engine, result.file_id)
            return {"signals": "sent"}
        # Thousands of signals would hold the request for seconds to minutes: the worker sends
        # them (EdiSignalWorkflow) and GET /api/v1/edi/{id} says when they are (`signalled`).
        workflow_id = await start_signal_workflow(client, settings, result.file_id)
        return {"signals": "queued", "signal_workflow_id": workflow_id}
    except RPCError as exc:
        # The file is stored and the sweep will signal it: the request does not fail for that.
        log.warning("Temporal did not take a stored file's signals; the outbox sweep will send "
                    "them", extra={"file_id": result.file_id, "count": result.signal_count,
                                   "status": exc.status.name})
        return {"signals": "pending"}
