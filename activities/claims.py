"""Claim activities: the only place the claim's story touches the database and the payer.

Each is idempotent: writes are keyed upserts, the 837 of an attempt is built once and re-sent as
the same bytes (the clearinghouse dedupes them), so a retry or a killed worker submits nothing
twice.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from contracts.messages import (
    ApplyCorrection,
    AutoFixOutcome,
    AutoFixRequest,
    ClaimContext,
    RejectionRequest,
    RejectionRoute,
    RemittanceOutcome,
    RemittanceRequest,
    ScrubOutcome,
    ScrubRequest,
    StatusChange,
    SubmissionRef,
    SubmitRequest,
)
from reclaim import metrics, payers
from reclaim.claims.service import CorrectionError, record_event
from reclaim.claims.service import apply_correction as apply_claim_correction
from reclaim.clearinghouse import Clearinghouse, ClearinghouseError, Receipt
from reclaim.config import Settings
from reclaim.db import session_scope
from reclaim.denials.corrections import load_default_map
from reclaim.denials.posting import auto_fix, post_remittance
from reclaim.denials.store import current_table
from reclaim.edi.ingest import IngestResult, ingest_file
from reclaim.edi.outbox import COLLECT_SIGNALS, signal_ingested
from reclaim.edi.submissions import TradingPartners, build_submission, mark_sent
from reclaim.models import Claim
from reclaim.scrub import service as scrubbing

log = logging.getLogger(__name__)


class ClaimActivities:
    def __init__(
        self,
        *,
        engine: Engine,
        settings: Settings,
        clearinghouse: Clearinghouse,
        client: Client | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.clearinghouse = clearinghouse
        self.client = client
        self.partners = TradingPartners.of(settings)

    @activity.defn
    def load_claim_context(self, claim_id: int) -> ClaimContext:
        with session_scope(self.engine) as session:
            claim = _claim(session, claim_id)
            terms = payers.claim_terms(session=session, claim=claim)
            filing = datetime.combine(claim.service_date, time(), tzinfo=UTC) + timedelta(
                days=terms.timely_filing_days
            )
            s = self.settings
            return ClaimContext(
                claim_id=claim_id,
                payer_id=claim.payer_id,
                max_attempts=terms.max_attempts,
                ack_deadline=s.payer_ack_after,
                status_deadline=s.payer_ack_after,
                # The payer's follow-up schedule, when it has one: ask first on its first day.
                adjudication_deadline=timedelta(days=terms.follow_up_days[0])
                if terms.follow_up_days else s.payer_follow_up_after,
                remind_after=s.work_item_remind_after,
                escalate_after=s.work_item_escalate_after,
                timely_filing_deadline=filing,
                appeal_window=timedelta(days=terms.appeal_window_days),
                corrected_claim_window=timedelta(days=terms.corrected_claim_window_days),
                deadline_warning_lead=s.deadline_warning_lead,
            )

    @activity.defn
    def record_status(self, change: StatusChange) -> None:
        with session_scope(self.engine) as session:
            require_claim(session, change.claim_id)
            record_event(
                session=session,
                claim_id=change.claim_id,
                key=change.key,
                kind=change.kind,
                message=change.message,
                status=change.status,
                data=change.data,
            )

    @activity.defn
    def scrub_claim(self, request: ScrubRequest) -> ScrubOutcome:
        with session_scope(self.engine) as session:
            claim = _claim(session, request.claim_id)
            outcome = scrubbing.scrub_claim(session=session, claim=claim)
            claim.findings = [f.model_dump() for f in outcome.errors + outcome.warnings]
            if request.first_pass and claim.clean_first_pass is None:
                claim.clean_first_pass = outcome.ok
            session.add(claim)
            return outcome

    @activity.defn
    def apply_correction(self, request: ApplyCorrection) -> None:
        with session_scope(self.engine) as session:
            require_claim(session, request.claim_id)
            who = request.user or "a coder"
            try:
                apply_claim_correction(
                    session=session,
                    claim_id=request.claim_id,
                    corrections=request.corrections,
                    key=request.key,
                    message=f"Corrected by {who}" + (f": {request.note}" if request.note else ""),
                )
            except CorrectionError as exc:
                raise ApplicationError(str(exc), type="CorrectionError",
                                       non_retryable=True) from exc

    @activity.defn
    async def submit_claim(self, request: SubmitRequest) -> SubmissionRef:
        # Database work and X12 reading run in threads: this activity is async (it awaits the
        # clearinghouse) and must not hold the worker's event loop while it builds or reads.
        ref, x12 = await asyncio.to_thread(self._build, request)
        name = f"837-{ref.patient_control_number}.x12"
        try:
            receipt = await self.clearinghouse.submit(name=name, x12=x12)
        except ClearinghouseError as exc:
            raise ApplicationError(str(exc), type="ClearinghouseError") from exc
        first_send, ack = await asyncio.to_thread(self._record_receipt, ref.submission_id,
                                                  receipt, f"999-{name}")
        if first_send:
            metrics.claim_submitted(frequency_code=ref.frequency_code)
        if ack is not None and self.client is not None:
            await signal_ingested(self.client, self.engine, ack)
        return ref

    def _build(self, request: SubmitRequest) -> tuple[SubmissionRef, str]:
        with session_scope(self.engine) as session:
            claim = _claim(session, request.claim_id)
            submission = build_submission(
                session=session,
                claim_id=request.claim_id,
                attempt=request.attempt,
                frequency_code=request.frequency_code,
                original_reference=request.original_reference,
                payer_name=payers.claim_terms(session=session, claim=claim).name,
                partners=self.partners,
            )
            ref = SubmissionRef(
                submission_id=submission.id,
                patient_control_number=submission.patient_control_number,
                frequency_code=submission.frequency_code,
            )
            return ref, submission.x12

    def _record_receipt(self, submission_id: int, receipt: Receipt,
                        ack_name: str) -> tuple[bool, IngestResult | None]:
        """The send recorded, and the 999 the clearinghouse answered with (if it did) stored
        with it and read, its signals collected: one session. Whether this was the first send."""
        with session_scope(self.engine) as session:
            first = mark_sent(session=session, submission_id=submission_id,
                              reference=receipt.reference)
            if not receipt.ack:
                return first, None
            # The file's first commit records the send too. A copy of the same 999 stored at
            # the same moment rolls that back: marking again is a no-op otherwise.
            ack = ingest_file(session=session, raw=receipt.ack, source="clearinghouse",
                              filename=ack_name, collect_signals=COLLECT_SIGNALS)
            mark_sent(session=session, submission_id=submission_id, reference=receipt.reference)
            return first, ack

    @activity.defn
    def record_remittance(self, request: RemittanceRequest) -> RemittanceOutcome:
        with session_scope(self.engine) as session:
            claim = _claim(session, request.claim_id)
            return post_remittance(
                session=session,
                claim_id=request.claim_id,
                attempt=request.attempt,
                remittance_id=request.remittance_id,
                table=current_table(session=session),
                max_attempts=payers.claim_terms(session=session, claim=claim).max_attempts,
                modifier_rules=payers.modifier_rules(claim.payer_id),
            )

    @activity.defn
    def apply_auto_fix(self, request: AutoFixRequest) -> AutoFixOutcome:
        with session_scope(self.engine) as session:
            claim = _claim(session, request.claim_id)
            return auto_fix(
                session=session,
                claim_id=request.claim_id,
                attempt=request.attempt,
                denial_ids=request.denial_ids,
                table=current_table(session=session),
                max_attempts=payers.claim_terms(session=session, claim=claim).max_attempts,
                modifier_rules=payers.modifier_rules(claim.payer_id),
            )

    @activity.defn
    def route_rejection(self, request: RejectionRequest) -> RejectionRoute:
        """Who fixes a front-door rejection, by the correction map (an activity: the history
        keeps the decision when the map changes). Reads no claim: nothing to repeat."""
        cmap = load_default_map()
        entry = cmap.for_rejection(request.code)
        if entry is None:
            return RejectionRoute(queue=cmap.rejection_queue(request.code),
                                  fields=list(cmap.default.fields), hint=cmap.default.hint)
        return RejectionRoute(queue=entry.queue, rule_id=entry.id, fields=list(entry.fields),
                              hint=entry.hint)

    @activity.defn
    def write_off_needs_approval(self, claim_id: int) -> bool:
        with session_scope(self.engine) as session:
            claim = _claim(session, claim_id)
            balance = claim.total_charge - claim.paid_amount - claim.patient_responsibility
            return balance > Decimal(self.settings.write_off_approval_above)


def _claim(session: Session, claim_id: int) -> Claim:
    claim = session.get(Claim, claim_id)
    if claim is None:
        raise claim_not_found(claim_id)
    return claim


def require_claim(session: Session, claim_id: int) -> None:
    """Fail unless the claim is in this worker's database (its id only: no document read)."""
    if session.exec(select(Claim.id).where(Claim.id == claim_id)).first() is None:
        raise claim_not_found(claim_id)


def claim_not_found(claim_id: int) -> ApplicationError:
    """A task for a claim this database does not hold: most likely this worker polls another
    install's task queue (reclaim.install). Loud and final, never written elsewhere."""
    info = activity.info()
    log.error("claim not found in this worker's database; refusing the task",
              extra={"claim_id": claim_id, "activity": info.activity_type,
                     "workflow_id": info.workflow_id, "task_queue": info.task_queue})
    return ApplicationError(f"claim {claim_id} not found in this worker's database "
                            f"(task queue {info.task_queue})", type="NotFound",
                            non_retryable=True)
