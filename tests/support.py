"""Test helpers: an in-process sandbox payer behind the Clearinghouse interface, and a pump
that delivers what it released to Reclaim through the real ingestion path."""

from __future__ import annotations

import json
import time
import uuid
from copy import deepcopy
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client

from reclaim.claims.schemas import ClaimDocument
from reclaim.claims.service import create_claim
from reclaim.clearinghouse import InboundFile, Receipt
from reclaim.config import Settings
from reclaim.db import session_scope
from reclaim.edi.ingest import ingest_file
from reclaim.edi.outbox import deliver_signals, mark_signalled
from reclaim.edi.submissions import TradingPartners, build_submission
from reclaim.models import Submission
from reclaim.sandbox_payer.config import PayerConfig
from reclaim.sandbox_payer.service import PayerService
from reclaim.x12.models import (
    Adjustment,
    ClaimPayment,
    Envelope,
    Payment,
    Remittance835,
    ServicePayment,
)
from reclaim.x12.write_payer import write_835

EXAMPLE = Path(__file__).resolve().parent.parent / "docs" / "examples" / "claim.json"


def design_claim() -> dict[str, Any]:
    """The claim document of DESIGN.md (docs/examples/claim.json), a fresh copy each call."""
    return json.loads(EXAMPLE.read_text())


DESIGN_CLAIM: dict[str, Any] = design_claim()


def claim_doc(**changes: Any) -> dict[str, Any]:
    """The DESIGN.md claim, dated a few days ago, with `changes` applied (dotted keys allowed)."""
    doc = deepcopy(DESIGN_CLAIM)
    doc["service_date"] = (date.today() - timedelta(days=5)).isoformat()
    # A member of its own, so the scrubber's duplicate-claim edit never links two tests.
    doc["patient"]["member_id"] = f"W{uuid.uuid4().int % 10**9:09d}"
    for key, value in changes.items():
        target = doc
        parts = key.split("__")
        for part in parts[:-1]:
            target = target[part]
        target[parts[-1]] = value
    return doc


class InProcessPayer:
    """The real sandbox payer service, called directly instead of over HTTP."""

    def __init__(self, data_dir: Path, *, rules_path: Path | None = None) -> None:
        self.service = PayerService(PayerConfig(data_dir=data_dir, ack_delay=0, era_delay=0,
                                                rules_path=rules_path))
        self.submitted: list[str] = []

    async def submit(self, *, name: str, x12: str) -> Receipt:
        self.submitted.append(name)
        receipt = self.service.receive(x12.encode())
        return Receipt(reference=receipt.file_id, ack=receipt.ack)

    async def fetch(self, *, after: str) -> list[InboundFile]:
        files = self.service.store.released_files(after=int(after or 0), limit=500)
        return [InboundFile(position=str(f.seq), name=f.name, content=f.content) for f in files]

    async def done(self, file: InboundFile, *, ok: bool, reason: str = "") -> None:  # noqa: ARG002
        """Nothing to move: the in-process payer's files are read by position."""

    async def aclose(self) -> None:
        """Nothing to let go of: the service is called in process."""

    def release(self) -> None:
        self.service.release_due(now=time.time() + 10**6)


class Pump:
    """Moves the payer's released files into Reclaim the way the poller does."""

    def __init__(self, payer: InProcessPayer, engine: Engine, client: Client) -> None:
        self.payer, self.engine, self.client = payer, engine, client
        self.cursor = 0

    async def __call__(self) -> int:
        self.payer.release()
        files = await self.payer.fetch(after=str(self.cursor))
        for f in files:
            await self.ingest(f.content, filename=f.name)
            self.cursor = int(f.position)
        return len(files)

    async def ingest(self, content: str, *, filename: str = "test.x12") -> None:
        with session_scope(self.engine) as session:
            result = ingest_file(session=session, raw=content, source="test", filename=filename)
        assert result.error is None, result.error
        await deliver_signals(self.client, result.signals)
        with session_scope(self.engine) as session:
            mark_signalled(session=session, file_id=result.file_id)


def make_835(*payments: ClaimPayment, number: int = 900) -> str:
    """An 835 as a payer would send it, for answers the sandbox payer never gives (an overturned
    appeal, a second denial), written by our own writer and so valid X12."""
    today = date.today()
    total = sum((p.paid for p in payments), Decimal("0"))
    remit = Remittance835(
        envelope=Envelope(sender_id="SANDBOX", receiver_id="RECLAIM",
                          interchange_control_number=number, group_control_number=number,
                          created=datetime.combine(today, datetime.min.time())),
        payer_name="SANDBOX HEALTH PLAN", payer_id="SANDBOX",
        payee_name="SPRINGFIELD FAMILY MEDICINE", payee_npi="1234567893",
        payment=Payment(amount=total, method="ACH" if total else "NON", date=today,
                        trace_number=f"TRC{number}", payer_identifier="1990000001"),
        claims=list(payments),
    )
    return write_835(remit)


def denial(pcn: str, *, group: str, carc: str, rarcs: tuple[str, ...] = (),
           charge: str = "150.00", procedure: str = "99214",
           ccn: str = "PCC-TEST") -> ClaimPayment:
    amount = Decimal(charge)
    return ClaimPayment(
        patient_control_number=pcn, status_code="4", charge=amount, paid=Decimal("0"),
        payer_claim_control_number=ccn, remarks=list(rarcs),
        lines=[ServicePayment(procedure=procedure, charge=amount, paid=Decimal("0"),
                              units=Decimal(1), remarks=list(rarcs),
                              adjustments=[Adjustment(group=group, reason=carc, amount=amount)])],
    )


def payment(pcn: str, *, charge: str = "150.00", procedure: str = "99214",
            ccn: str = "PCC-TEST") -> ClaimPayment:
    amount = Decimal(charge)
    return ClaimPayment(
        patient_control_number=pcn, status_code="1", charge=amount, paid=amount,
        payer_claim_control_number=ccn,
        lines=[ServicePayment(procedure=procedure, charge=amount, paid=amount, units=Decimal(1))],
    )


def rules_without_random_denials(folder: Path) -> Path:
    """The packaged payer rules with every seeded random denial rate set to zero."""
    import re

    from reclaim.sandbox_payer.config import PACKAGED_RULES

    text = re.sub(r"(?m)^random_denial_percent = \d+", "random_denial_percent = 0",
                  PACKAGED_RULES.read_text())
    path = folder / "rules.toml"
    path.write_text(text)
    return path


def sent_submission(session: Session) -> Submission:
    """A new claim and its first 837, built as the worker builds it (from and to the default
    trading partners, so the sandbox's 999 answers it) and marked sent; flushed."""
    claim = create_claim(session=session, document=ClaimDocument.model_validate(claim_doc()))
    session.flush()
    assert claim.id is not None
    claim.status = "submitted"
    submission = build_submission(
        session=session, claim_id=claim.id, attempt=1, frequency_code="1",
        original_reference=None, payer_name="SANDBOX HEALTH PLAN",
        partners=TradingPartners.of(Settings()))
    submission.status = "sent"
    session.flush()
    assert submission.id is not None
    return submission
