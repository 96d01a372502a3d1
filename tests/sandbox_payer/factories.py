"""Claims as the payer receives them, and 837 files built with the real writer."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from reclaim.claims.schemas import ClaimDocument
from reclaim.x12.models import (
    Adjustment,
    Batch837,
    Claim837,
    ClaimPayment,
    Envelope,
    Party,
    ReceivedClaim837,
    ReceivedLine837,
)
from reclaim.x12.write_837 import write_837

SERVICE_DAY = date(2026, 3, 2)
RECEIVED_ON = date(2026, 3, 20)


def line(
    procedure: str = "99214",
    charge: str = "150.00",
    *,
    units: str = "1",
    modifiers: list[str] | None = None,
    pointers: list[int] | None = None,
    service_date: date | None = None,
) -> ReceivedLine837:
    return ReceivedLine837(
        procedure=procedure,
        modifiers=modifiers or [],
        charge=Decimal(charge),
        units=Decimal(units),
        service_date=service_date,
        diagnosis_pointers=pointers or [1],
        line_control_number=f"L{procedure}",
    )


def received_claim(
    *,
    member_id: str = "W123456789",
    payer_id: str = "SANDBOX",
    lines: list[ReceivedLine837] | None = None,
    diagnoses: list[str] | None = None,
    frequency_code: str = "1",
    original: str | None = None,
    service_date: date = SERVICE_DAY,
    pcn: str = "CLM1001",
) -> ReceivedClaim837:
    claim_lines = lines if lines is not None else [line()]
    return ReceivedClaim837(
        claim_type="professional",
        patient_control_number=pcn,
        total_charge=sum((ln.charge for ln in claim_lines), Decimal("0")),
        frequency_code=frequency_code,
        payer_claim_control_number=original,
        place_of_service="11",
        payer_id=payer_id,
        member_id=member_id,
        patient_first_name="ANN",
        patient_last_name="LEE",
        billing_npi="1234567893",
        service_date=service_date,
        diagnoses=diagnoses if diagnoses is not None else ["E119", "I10"],
        lines=claim_lines,
    )


def assert_balanced(payment: ClaimPayment) -> None:
    """Billed − adjustments = paid, for the claim and for each line; PR adds up to the patient."""

    def total(adjustments: list[Adjustment]) -> Decimal:
        return sum((a.amount for a in adjustments), Decimal("0"))

    line_adjustments = [a for ln in payment.lines for a in ln.adjustments]
    assert payment.charge - total(payment.adjustments) - total(line_adjustments) == payment.paid
    for service in payment.lines:
        assert service.charge - total(service.adjustments) == service.paid
    if payment.lines:
        assert sum((ln.paid for ln in payment.lines), Decimal("0")) == payment.paid
    patient = [a for a in [*payment.adjustments, *line_adjustments] if a.group == "PR"]
    assert total(patient) == payment.patient_responsibility


DOCUMENT: dict[str, Any] = {
    "claim_type": "professional",
    "payer_id": "SANDBOX",
    "patient": {
        "first_name": "Ann",
        "last_name": "Lee",
        "birth_date": "1960-04-02",
        "sex": "F",
        "member_id": "W123456789",
        "address": {"line1": "1 Main St", "city": "Springfield", "state": "IL", "zip": "62701"},
    },
    "billing_provider": {
        "npi": "1234567893",
        "name": "Springfield Family Medicine",
        "tax_id": "371234567",
        "address": {"line1": "9 Oak Ave", "city": "Springfield", "state": "IL", "zip": "62704"},
    },
    "rendering_provider": {"npi": "1245319599", "first_name": "Raj", "last_name": "Patel"},
    "service_date": SERVICE_DAY.isoformat(),
    "place_of_service": "11",
    "diagnoses": ["E11.9", "I10"],
    "lines": [
        {
            "procedure": "99214",
            "modifiers": ["25"],
            "units": 1,
            "charge": "150.00",
            "diagnosis_pointers": [1, 2],
        },
        {"procedure": "36415", "units": 1, "charge": "12.00", "diagnosis_pointers": [1]},
    ],
}


def claim837(
    pcn: str,
    *,
    member_id: str = "W123456789",
    payer_id: str = "SANDBOX",
    frequency_code: str = "1",
    original: str | None = None,
    service_date: date | None = None,
) -> Claim837:
    document = {**DOCUMENT, "payer_id": payer_id}
    document["patient"] = {**DOCUMENT["patient"], "member_id": member_id}
    # Recent by default: the payer checks timely filing against the real day it receives the file.
    document["service_date"] = (service_date or date.today() - timedelta(days=10)).isoformat()
    return Claim837(
        document=ClaimDocument.model_validate(document),
        patient_control_number=pcn,
        frequency_code=frequency_code,  # type: ignore[arg-type]
        payer_claim_control_number=original,
    )


def file837(claims: list[Claim837], *, number: int = 101) -> str:
    batch = Batch837(
        envelope=Envelope(
            sender_id="RECLAIM",
            receiver_id="SANDBOXCH",
            interchange_control_number=number,
            group_control_number=number,
            created=datetime(2026, 3, 20, 9, 30, tzinfo=UTC),
        ),
        submitter=Party(name="RECLAIM BILLING", id="RECLAIM01"),
        receiver=Party(name="SANDBOX CLEARINGHOUSE", id="SANDBOXCH"),
        payer_name="SANDBOX HEALTH PLAN",
        claims=claims,
    )
    return write_837(batch)
