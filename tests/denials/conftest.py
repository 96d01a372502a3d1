from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from reclaim.claims.schemas import ClaimDocument
from reclaim.denials.detect import DenialFinding
from reclaim.denials.routing import RoutingTable, load_default_table
from reclaim.x12.models import Adjustment, ClaimPayment, ServicePayment

BILLING_NPI = "1234567893"


def adj(code: str, amount: str) -> Adjustment:
    group, reason = code.split("-", 1)
    return Adjustment(group=group, reason=reason, amount=Decimal(amount))


def line(
    procedure: str, charge: str, paid: str, *codes: tuple[str, str], remarks: tuple[str, ...] = ()
) -> ServicePayment:
    return ServicePayment(
        procedure=procedure,
        charge=Decimal(charge),
        paid=Decimal(paid),
        adjustments=[adj(c, a) for c, a in codes],
        remarks=list(remarks),
    )


def payment(
    *,
    status: str = "1",
    charge: str = "100.00",
    paid: str = "0",
    patient_resp: str = "0",
    claim_codes: tuple[tuple[str, str], ...] = (),
    remarks: tuple[str, ...] = (),
    lines: tuple[ServicePayment, ...] = (),
) -> ClaimPayment:
    return ClaimPayment(
        patient_control_number="PCN1",
        status_code=status,
        charge=Decimal(charge),
        paid=Decimal(paid),
        patient_responsibility=Decimal(patient_resp),
        payer_claim_control_number="PAYER-CCN-9",
        adjustments=[adj(c, a) for c, a in claim_codes],
        remarks=list(remarks),
        lines=list(lines),
    )


def finding(
    code: str,
    *rarcs: str,
    attempt: int = 1,
    level: str = "claim",
    procedure: str | None = None,
    line_index: int | None = None,
) -> DenialFinding:
    group, carc = code.split("-", 1)
    return DenialFinding(
        level=level,
        line_index=line_index,
        procedure=procedure,
        group=group,
        carc=carc,
        rarcs=list(rarcs),
        amount=Decimal("100.00"),
        paid=Decimal("0"),
        attempt=attempt,
        patient_control_number="PCN1",
        payer_claim_control_number="PAYER-CCN-9",
        reasoning="test",
    )


def claim_doc(**overrides: Any) -> ClaimDocument:
    data: dict[str, Any] = {
        "claim_type": "professional",
        "payer_id": "SANDBOX",
        "patient": {
            "first_name": "Ann",
            "last_name": "Lee",
            "birth_date": date(1960, 4, 2),
            "sex": "F",
            "member_id": "W123456789",
            "address": {"line1": "1 Main St", "city": "Springfield", "state": "IL", "zip": "62701"},
        },
        "billing_provider": {
            "npi": BILLING_NPI,
            "name": "Springfield Family Medicine",
            "tax_id": "371234567",
            "address": {"line1": "9 Oak Ave", "city": "Springfield", "state": "IL", "zip": "62704"},
        },
        "rendering_provider": None,
        "service_date": date(2026, 11, 2),
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
            {"procedure": "93000", "units": 1, "charge": "60.00", "diagnosis_pointers": [2]},
        ],
    }
    data.update(overrides)
    return ClaimDocument.model_validate(data)


@pytest.fixture(scope="session")
def table() -> RoutingTable:
    return load_default_table()


@pytest.fixture
def make_finding() -> Callable[..., DenialFinding]:
    return finding


@pytest.fixture
def make_payment() -> Callable[..., ClaimPayment]:
    return payment


@pytest.fixture
def make_line() -> Callable[..., ServicePayment]:
    return line


@pytest.fixture
def make_doc() -> Callable[..., ClaimDocument]:
    return claim_doc
