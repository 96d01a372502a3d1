"""The X12 contract: what the readers return and what the writers take.

Writers and readers share these models, so every file type round-trips: the sandbox payer writes a
`Remittance835` with `write_835`, Reclaim reads it back with `read_835` into an equal model.
Amounts are `Decimal`; they serialise as decimal strings in the API (DESIGN.md).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

from reclaim.claims.schemas import ClaimDocument

FileType = Literal["837P", "837I", "999", "277CA", "835"]


class ReadWarning(BaseModel):
    """Something a payer sent that strict validation would refuse but whose meaning is safe."""

    segment_index: int | None = None  # 1-based position of the segment in the file
    segment_id: str | None = None
    message: str


class Envelope(BaseModel):
    """ISA/GS/ST identifiers of one transaction set."""

    sender_id: str
    receiver_id: str
    sender_qualifier: str = "ZZ"
    receiver_qualifier: str = "ZZ"
    interchange_control_number: int = Field(ge=1, le=999_999_999)
    group_control_number: int = Field(ge=1, le=999_999_999)
    transaction_control_number: str = "0001"
    created: datetime
    usage: Literal["P", "T"] = "P"
    # GS02/GS03 application codes default to the ISA ids when None.
    application_sender: str | None = None
    application_receiver: str | None = None


# ---------------------------------------------------------------- 837


class Party(BaseModel):
    name: str
    id: str
    contact_name: str = "BILLING OFFICE"
    contact_phone: str = "2175550100"


class Claim837(BaseModel):
    """One claim as sent: the coder's document plus what the submission adds."""

    document: ClaimDocument
    patient_control_number: str = Field(min_length=1, max_length=20)
    frequency_code: Literal["1", "7", "8"] = "1"
    # REF*F8 on a replacement (7) or void (8): the payer's claim control number from the 835.
    payer_claim_control_number: str | None = None
    # REF*6R per line, so the 835 can echo it back; defaults to "<pcn>-<n>" when empty.
    line_control_numbers: list[str] = Field(default_factory=list)


class Batch837(BaseModel):
    envelope: Envelope
    submitter: Party
    receiver: Party
    payer_name: str
    claims: list[Claim837]


class ReceivedLine837(BaseModel):
    procedure: str
    modifiers: list[str] = Field(default_factory=list)
    charge: Decimal
    units: Decimal
    service_date: date | None = None
    line_control_number: str | None = None
    revenue_code: str | None = None
    diagnosis_pointers: list[int] = Field(default_factory=list)


class ReceivedClaim837(BaseModel):
    """A claim as the payer reads it out of an 837."""

    claim_type: Literal["professional", "institutional"]
    patient_control_number: str
    total_charge: Decimal
    frequency_code: str
    payer_claim_control_number: str | None = None
    place_of_service: str | None = None
    payer_id: str
    payer_name: str | None = None
    member_id: str
    patient_first_name: str | None = None
    patient_last_name: str | None = None
    billing_npi: str | None = None
    rendering_npi: str | None = None
    referring_npi: str | None = None
    service_date: date | None = None
    diagnoses: list[str] = Field(default_factory=list)  # without dots, as sent
    lines: list[ReceivedLine837] = Field(default_factory=list)


class Received837(BaseModel):
    """An 837 file as read (used by the sandbox payer to answer with a 999)."""

    envelope: Envelope
    functional_id: str = "HC"
    implementation: str  # GS08, e.g. 005010X222A1
    transaction_control_numbers: list[str]
    claims: list[ReceivedClaim837]
    warnings: list[ReadWarning] = Field(default_factory=list)


# ---------------------------------------------------------------- 999


class AckError(BaseModel):
    segment_id: str | None = None
    segment_position: int | None = None
    loop: str | None = None
    code: str
    element_position: int | None = None
    message: str | None = None


class AckTransaction(BaseModel):
    transaction_set_id: str = "837"  # AK2-01
    control_number: str  # AK2-02, the ST02 of the 837 acknowledged
    implementation: str | None = None  # AK2-03
    status: Literal["A", "E", "R", "M", "W", "X"]  # IK5-01
    errors: list[AckError] = Field(default_factory=list)


class Ack999(BaseModel):
    envelope: Envelope
    functional_id: str = "HC"  # AK1-01
    group_control_number: int  # AK1-02, the GS06 of the 837 acknowledged
    implementation: str | None = None  # AK1-03
    transactions: list[AckTransaction]
    # Answers (AK2 loops) that are malformed, refused on their own:
    # [{transaction_control_number, segment, reason}] (read only; the writer ignores it).
    refused: list[dict[str, Any]] = Field(default_factory=list)
    group_status: Literal["A", "E", "P", "R", "M", "W", "X"]  # AK9-01
    received_count: int
    accepted_count: int
    warnings: list[ReadWarning] = Field(default_factory=list)
    # Where the reader found its ISA and GS (1-based segment indexes), for warnings about its
    # envelope; never serialised (the file's parsed view and the writer ignore them).
    interchange_index: int | None = Field(default=None, exclude=True)
    group_index: int | None = Field(default=None, exclude=True)
    ak1_index: int | None = Field(default=None, exclude=True)


# ---------------------------------------------------------------- 277CA


class ClaimStatus277(BaseModel):
    patient_control_number: str  # TRN02 in loop 2200D
    payer_claim_control_number: str | None = None  # REF*1K
    status_category: str  # STC01-1: A1/A2 accepted, A3/A6/A7/A8 rejected
    status_code: str  # STC01-2
    entity_code: str | None = None  # STC01-3
    action: Literal["accepted", "rejected"]
    total_charge: Decimal | None = None  # STC04
    effective_date: date | None = None  # STC02
    message: str | None = None  # STC12
    member_id: str | None = None
    service_date: date | None = None
    # Where the reader found its TRN (1-based segment index), for a warning when it matches no
    # claim; never serialised.
    trn_index: int | None = Field(default=None, exclude=True)


class Status277CA(BaseModel):
    envelope: Envelope
    payer_name: str
    payer_id: str
    receiver_name: str = "RECLAIM"
    receiver_id: str = "RECLAIM"
    provider_name: str | None = None
    provider_npi: str | None = None
    claims: list[ClaimStatus277]
    warnings: list[ReadWarning] = Field(default_factory=list)
    # Claims whose loop is malformed, refused on their own: [{patient_control_number, segment,
    # reason}] (read only; the writer ignores it).
    refused: list[dict[str, Any]] = Field(default_factory=list)


# ---------------------------------------------------------------- 835


class Adjustment(BaseModel):
    group: str  # CO, PR, OA, PI, CR
    reason: str  # CARC
    amount: Decimal
    quantity: Decimal | None = None


class ServicePayment(BaseModel):
    procedure: str
    qualifier: str = "HC"
    modifiers: list[str] = Field(default_factory=list)
    charge: Decimal
    paid: Decimal
    units: Decimal | None = None
    revenue_code: str | None = None
    service_date: date | None = None
    line_control_number: str | None = None  # REF*6R
    adjustments: list[Adjustment] = Field(default_factory=list)
    remarks: list[str] = Field(default_factory=list)  # LQ*HE RARCs


class ClaimPayment(BaseModel):
    patient_control_number: str
    status_code: str  # CLP02: 1/2/3 processed, 4 denied, 22 reversal
    charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal = Decimal("0")
    filing_indicator: str = "12"  # CLP06 (CI is an 837 code, not valid here)
    payer_claim_control_number: str | None = None
    frequency_code: str | None = None  # CLP09
    patient_last_name: str | None = None
    patient_first_name: str | None = None
    member_id: str | None = None
    service_date: date | None = None
    adjustments: list[Adjustment] = Field(default_factory=list)
    remarks: list[str] = Field(default_factory=list)  # MOA/MIA remark codes
    lines: list[ServicePayment] = Field(default_factory=list)


class Payment(BaseModel):
    amount: Decimal  # BPR02
    credit_debit: Literal["C", "D"] = "C"
    method: str  # BPR04: ACH, CHK, NON, FWT, BOP
    date: date  # BPR16
    trace_number: str  # TRN02
    payer_identifier: str | None = None  # TRN03


class ProviderAdjustment(BaseModel):
    provider_id: str
    fiscal_period_date: date
    reason: str  # PLB03-1, e.g. WO, L6, FB
    reference: str | None = None  # PLB03-2
    amount: Decimal


class Remittance835(BaseModel):
    envelope: Envelope
    payer_name: str
    payer_id: str
    payee_name: str
    payee_npi: str | None = None
    payee_tax_id: str | None = None
    production_date: date | None = None  # DTM*405
    payment: Payment
    provider_adjustments: list[ProviderAdjustment] = Field(default_factory=list)
    claims: list[ClaimPayment]
    warnings: list[ReadWarning] = Field(default_factory=list)


# ---------------------------------------------------------------- detection


class DetectedFile(BaseModel):
    type: FileType
    interchanges: int
    implementation: str | None = None  # GS08 of the first group
