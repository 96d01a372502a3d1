"""Work items and the mail about them."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import Engine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.claims import claim_not_found, require_claim
from contracts.messages import (
    CorrectionCheck,
    DigestRequest,
    Finding,
    LetterRequest,
    NoticeRequest,
    ScrubOutcome,
    WorkItemClose,
    WorkItemRef,
    WorkItemSpec,
)
from reclaim import metrics
from reclaim.claims.service import (
    CorrectionError,
    corrected_document,
    nothing_changed,
    unchanged_since,
)
from reclaim.config import Settings
from reclaim.db import session_scope
from reclaim.mail import mark_mail, send_mail
from reclaim.models import Claim, MailMessage
from reclaim.scrub import service as scrubbing
from reclaim.work import items as work

log = logging.getLogger(__name__)


class WorkActivities:
    def __init__(self, *, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings

    @activity.defn
    def create_work_item(self, spec: WorkItemSpec) -> WorkItemRef:
        with session_scope(self.engine) as session:
            require_claim(session, spec.claim_id)
            item = work.open_work_item(session=session, spec=spec,
                                       sla=self.settings.work_item_sla(spec.queue))
            assert item.id is not None
            assert item.workflow_id is not None
            return WorkItemRef(
                work_item_id=item.id,
                workflow_id=item.workflow_id,
                assignee=item.assignee,
                due_at=item.due_at,
            )

    @activity.defn
    def close_work_item(self, close: WorkItemClose) -> None:
        with session_scope(self.engine) as session:
            work.close_work_item(session=session, close=close)

    @activity.defn
    def check_correction(self, check: CorrectionCheck) -> ScrubOutcome:
        with session_scope(self.engine) as session:
            claim = session.get(Claim, check.claim_id)
            if claim is None:
                raise claim_not_found(check.claim_id)
            try:
                document = corrected_document(claim.document, check.corrections)
            except CorrectionError as exc:
                return ScrubOutcome(
                    errors=[Finding(rule="schema", field=e["field"], message=e["message"])
                            for e in exc.errors]
                )
            attempt = unchanged_since(session=session, claim_id=check.claim_id,
                                      document=document)
            if attempt is not None:
                return ScrubOutcome(errors=[Finding(rule="unchanged", field="",
                                                    message=nothing_changed(attempt))])
            return scrubbing.scrub_document(session=session, document=document,
                                            claim_id=check.claim_id)

    @activity.defn
    def write_appeal_letter(self, request: LetterRequest) -> None:
        with session_scope(self.engine) as session:
            work.attach_appeal_letter(session=session, request=request)

    @activity.defn
    async def send_daily_digests(self, request: DigestRequest) -> int:
        """Each coder's open items, once a day; returns how many digests went out."""
        public = self.settings.resolved_public_url

        def queue() -> list[int]:
            with session_scope(self.engine) as session:
                return work.queue_digests(session=session, day=request.day, public_url=public)

        ids = await asyncio.to_thread(queue)
        for message_id in ids:
            await self._send(message_id)
        return len(ids)

    @activity.defn
    async def notify(self, request: NoticeRequest) -> None:
        """Queue the notice (once) and send whatever of it is still unsent. An SMTP failure
        raises, so Temporal retries until the server takes the mail: never lost."""
        public = self.settings.resolved_public_url

        def queue() -> list[int]:
            with session_scope(self.engine) as session:
                return work.queue_notices(session=session, request=request, public_url=public)

        ids = await asyncio.to_thread(queue)
        for message_id in ids:
            await self._send(message_id)

    async def _send(self, message_id: int) -> None:
        def load() -> MailMessage | None:
            with session_scope(self.engine) as session:
                return session.get(MailMessage, message_id)

        message = await asyncio.to_thread(load)
        if message is None or message.status == "sent":
            return
        try:
            await send_mail(self.settings, message)
        except Exception as exc:  # aiosmtplib's errors are many kinds; all mean "not yet"
            await asyncio.to_thread(self._mark_mail, message_id, str(exc))
            metrics.smtp_failure()
            log.warning("mail not sent; will retry", extra={"mail_id": message_id})
            raise ApplicationError(f"SMTP send failed: {exc}", type="SmtpError") from exc
        await asyncio.to_thread(self._mark_mail, message_id, None)

    def _mark_mail(self, message_id: int, error: str | None) -> None:
        with session_scope(self.engine) as session:
            mark_mail(session=session, message_id=message_id, error=error)
