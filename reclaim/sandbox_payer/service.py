"""The sandbox payer's work, without the web: receive an 837 (999 at once, outputs scheduled),
and release the outputs that are due as batched 277CA and 835 files."""

from __future__ import annotations

import hashlib
import re
import sqlite3
import time
from datetime import UTC, datetime
from decimal import Decimal

from pydantic import BaseModel

from reclaim.sandbox_payer.ack import (
    ClaimLocation,
    build_ack,
    locate_claims,
    match_locations,
    reply_envelope,
    transaction_errors,
)
from reclaim.sandbox_payer.adjudicate import Adjudication, adjudicate_claim
from reclaim.sandbox_payer.config import PayerConfig
from reclaim.sandbox_payer.rules import PayerRuleSet, load_rules
from reclaim.sandbox_payer.store import (
    NewFile,
    NewSubmission,
    OutputType,
    PayerStore,
    PendingOutput,
    Submission,
)
from reclaim.x12.common import X12Error
from reclaim.x12.models import (
    Ack999,
    AckError,
    ClaimPayment,
    ClaimStatus277,
    Envelope,
    Payment,
    Received837,
    ReceivedClaim837,
    Remittance835,
    Status277CA,
)
from reclaim.x12.read_837 import read_837
from reclaim.x12.write_payer import write_277ca, write_835, write_999

_NOT_ALNUM = re.compile(r"[^A-Z0-9]")


class Receipt(BaseModel):
    """The answer to POST /837, stored so the same bytes get the same answer."""

    file_id: str
    ack: str  # the 999
    accepted: bool  # at least one transaction set accepted (AK9 A or P)
    group_status: str  # AK9-01
    claims: int
    accepted_claims: int


class BatchKey(BaseModel):
    """What claims must share to travel in one 277CA / one 835 (one payer, one payee)."""

    payer_id: str
    payer_name: str
    payer_tax_id: str | None = None
    sender_id: str  # ours: the ISA08 of the 837
    sender_qualifier: str
    receiver_id: str  # the submitter's ISA06
    receiver_qualifier: str
    application_sender: str | None = None
    application_receiver: str | None = None
    usage: str
    submitter_name: str | None = None
    submitter_id: str | None = None
    billing_npi: str | None = None
    billing_name: str | None = None
    billing_tax_id: str | None = None

    def envelope(self, *, control_number: int, created: datetime) -> Envelope:
        return Envelope(
            sender_id=self.sender_id,
            receiver_id=self.receiver_id,
            sender_qualifier=self.sender_qualifier,
            receiver_qualifier=self.receiver_qualifier,
            interchange_control_number=control_number,
            group_control_number=control_number,
            created=created,
            usage="T" if self.usage == "T" else "P",
            application_sender=self.application_sender,
            application_receiver=self.application_receiver,
        )


class PayerService:
    def __init__(self, config: PayerConfig, *, rules: PayerRuleSet | None = None) -> None:
        self.config = config
        self.rules = rules or load_rules(config.resolved_rules_path)
        self.store = PayerStore(config.database_path)

    def close(self) -> None:
        self.store.close()

    # ------------------------------------------------------------ receiving

    def receive(self, body: bytes) -> Receipt:
        """Read, check, adjudicate and schedule an 837; raises X12Error when it cannot be read."""
        digest = hashlib.sha256(body).hexdigest()
        known = self.store.answer_for(sha256=digest)
        if known is not None:
            return Receipt.model_validate(known)
        groups = read_837(body)
        if not groups:
            raise X12Error("no 837 functional group (GS/ST) in the file")
        locations = locate_claims(body.decode("utf-8", errors="replace"))
        with self.store.transaction() as db:
            # A concurrent retry of the same bytes may have won the race for the lock.
            known = self.store.answer_for(sha256=digest)
            if known is not None:
                return Receipt.model_validate(known)
            return self._record(db, body=body, digest=digest, groups=groups, locations=locations)

    def _record(
        self,
        db: sqlite3.Connection,
        *,
        body: bytes,
        digest: str,
        groups: list[Received837],
        locations: list[ClaimLocation],
    ) -> Receipt:
        received_at = datetime.now(UTC)
        file_id = digest[:24]
        self.store.add_received_file(
            db, file_id=file_id, sha256=digest, content=body, received_at=received_at
        )
        acks: list[Ack999] = []
        accepted = offset = 0
        for group in groups:
            located = match_locations(group.claims, locations[offset : offset + len(group.claims)])
            offset += len(group.claims)
            errors = transaction_errors(
                claims=group.claims,
                locations=located,
                transactions=group.transaction_control_numbers,
            )
            accepted += self._record_group(
                db,
                group=group,
                locations=located,
                errors=errors,
                file_id=file_id,
                received_at=received_at,
            )
            acks.append(
                build_ack(
                    envelope=reply_envelope(
                        group.envelope,
                        control_number=self.store.next_counter(db, "interchange"),
                        created=received_at,
                    ),
                    received_envelope=group.envelope,
                    functional_id=group.functional_id,
                    implementation=group.implementation,
                    errors_by_set=errors,
                )
            )
        statuses = {ack.group_status for ack in acks}
        receipt = Receipt(
            file_id=file_id,
            ack="".join(write_999(ack) for ack in acks),
            accepted=bool(statuses & {"A", "E", "P"}),
            group_status=statuses.pop() if len(statuses) == 1 else "P",
            claims=offset,
            accepted_claims=accepted,
        )
        self.store.set_answer(db, file_id=file_id, answer=receipt.model_dump())
        return receipt

    def _record_group(
        self,
        db: sqlite3.Connection,
        *,
        group: Received837,
        locations: list[ClaimLocation],
        errors: dict[str, list[AckError]],
        file_id: str,
        received_at: datetime,
    ) -> int:
        """One submission row per claim; claims of accepted sets are adjudicated and queued."""
        accepted = 0
        for index, claim in enumerate(group.claims):
            location = locations[index] if locations else None
            st = location.transaction_control_number if location else next(iter(errors))
            rejected = bool(errors.get(st))
            sub_id = self.store.add_submission(
                db,
                claim=_new_submission(claim),
                file_id=file_id,
                received_at=received_at,
                status="rejected_999" if rejected else "accepted",
            )
            if not rejected:
                accepted += self._schedule(
                    db,
                    claim=claim,
                    submission_id=sub_id,
                    batch=group,
                    location=location,
                    received_at=received_at,
                )
        return accepted

    def _schedule(
        self,
        db: sqlite3.Connection,
        *,
        claim: ReceivedClaim837,
        submission_id: int,
        batch: Received837,
        location: ClaimLocation | None,
        received_at: datetime,
    ) -> int:
        """Adjudicate one claim now and queue its 277CA and 835 entries; 1 if it was accepted."""
        number = payer_claim_number(claim.payer_id, received_at, submission_id)
        result = adjudicate_claim(
            claim=claim,
            rules=self.rules,
            payer_claim_number=number,
            seed=self.config.seed,
            received_on=received_at.date(),
        )
        accepted = result.status.action == "accepted"
        self.store.settle_submission(
            db,
            submission_id=submission_id,
            payer_claim_control_number=number if accepted else None,
            status="accepted" if accepted else "rejected",
        )
        key = self._batch_key(claim=claim, batch=batch, location=location).model_dump_json()
        self._queue(db, submission_id=submission_id, key=key, result=result, at=received_at)
        return int(accepted)

    def _queue(
        self,
        db: sqlite3.Connection,
        *,
        submission_id: int,
        key: str,
        result: Adjudication,
        at: datetime,
    ) -> None:
        ack_at = at.timestamp() + self.config.ack_delay
        self.store.add_pending(
            db,
            submission_id=submission_id,
            type="277CA",
            batch_key=key,
            release_at=ack_at,
            item=result.status,
        )
        if result.payment is not None:
            self.store.add_pending(
                db,
                submission_id=submission_id,
                type="835",
                batch_key=key,
                # Never before the claim's 277CA, whatever the settings say.
                release_at=max(ack_at, at.timestamp() + self.config.era_delay),
                item=result.payment,
            )

    def _batch_key(
        self, *, claim: ReceivedClaim837, batch: Received837, location: ClaimLocation | None
    ) -> BatchKey:
        payer = self.rules.payer(claim.payer_id)
        envelope = batch.envelope
        return BatchKey(
            payer_id=payer.id if payer else claim.payer_id,
            payer_name=payer.name if payer else (claim.payer_name or claim.payer_id),
            payer_tax_id=payer.tax_id if payer else None,
            sender_id=envelope.receiver_id,
            sender_qualifier=envelope.receiver_qualifier,
            receiver_id=envelope.sender_id,
            receiver_qualifier=envelope.sender_qualifier,
            application_sender=envelope.application_receiver,
            application_receiver=envelope.application_sender,
            usage=envelope.usage,
            submitter_name=location.submitter_name if location else None,
            submitter_id=location.submitter_id if location else None,
            billing_npi=claim.billing_npi,
            billing_name=location.billing_name if location else None,
            billing_tax_id=location.billing_tax_id if location else None,
        )

    # ------------------------------------------------------------ releasing

    def release_due(self, *, now: float | None = None) -> list[int]:
        """Write every due output as files; the seqs of the files released."""
        return self.store.release_due(now=time.time() if now is None else now, build=self._build)

    def _build(
        self, db: sqlite3.Connection, kind: OutputType, key_json: str, items: list[PendingOutput]
    ) -> NewFile:
        key = BatchKey.model_validate_json(key_json)
        number = self.store.next_counter(db, "interchange")
        created = datetime.now(UTC)
        envelope = key.envelope(control_number=number, created=created)
        if kind == "277CA":
            content = write_277ca(_status_file(key, envelope, items))
        else:
            content = write_835(_remittance(key, envelope, items, trace=f"{number:09d}"))
        return NewFile(
            file_id=hashlib.sha256(content.encode()).hexdigest()[:24],
            type=kind,
            payer_id=key.payer_id,
            name=f"{kind}_{key.payer_id}_{number:09d}.x12",
            content=content,
            created_at=created,
        )

    # ------------------------------------------------------------ reading

    def submissions(self, *, patient_control_number: str | None = None) -> list[Submission]:
        return self.store.submissions(patient_control_number=patient_control_number)


def payer_claim_number(payer_id: str, received_at: datetime, submission_id: int) -> str:
    """The payer's claim control number (ICN): payer prefix, receipt date, submission number."""
    prefix = _NOT_ALNUM.sub("", payer_id.upper())[:4] or "PAYR"
    return f"{prefix}{received_at:%y%m%d}{submission_id:07d}"


def _new_submission(claim: ReceivedClaim837) -> NewSubmission:
    return NewSubmission(
        patient_control_number=claim.patient_control_number,
        frequency_code=claim.frequency_code,
        original_claim_number=claim.payer_claim_control_number,
        payer_id=claim.payer_id,
        member_id=claim.member_id,
        total_charge=claim.total_charge,
    )


def _status_file(key: BatchKey, envelope: Envelope, items: list[PendingOutput]) -> Status277CA:
    return Status277CA(
        envelope=envelope,
        payer_name=key.payer_name,
        payer_id=key.payer_id,
        receiver_name=key.submitter_name or "RECLAIM",
        receiver_id=key.submitter_id or key.receiver_id,
        provider_name=key.billing_name,
        provider_npi=key.billing_npi,
        claims=[ClaimStatus277.model_validate(item.item) for item in items],
    )


def _remittance(
    key: BatchKey, envelope: Envelope, items: list[PendingOutput], *, trace: str
) -> Remittance835:
    claims = [ClaimPayment.model_validate(item.item) for item in items]
    total = sum((claim.paid for claim in claims), Decimal("0"))
    return Remittance835(
        envelope=envelope,
        payer_name=key.payer_name,
        payer_id=key.payer_id,
        payee_name=key.billing_name or f"PROVIDER {key.billing_npi or 'UNKNOWN'}",
        payee_npi=key.billing_npi,
        payee_tax_id=key.billing_tax_id,
        production_date=envelope.created.date(),
        payment=Payment(
            amount=total,
            method="ACH" if total > 0 else "NON",
            date=envelope.created.date(),
            trace_number=trace,
            payer_identifier=f"1{key.payer_tax_id}" if key.payer_tax_id else None,
        ),
        claims=claims,
    )
