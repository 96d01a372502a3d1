"""The claim document: what a coder hands to Reclaim (DESIGN.md, `POST /api/v1/claims`).

The schema checks shape only (a missing field or a wrong type is a 422 at the door). Whether the
codes are valid, the NPI passes its check digit or the charges add up is the scrubber's job: such a
claim is still created and lands in `needs_correction` with findings a coder can act on.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ClaimType = Literal["professional", "institutional"]
Sex = Literal["F", "M", "U"]
# CTP05-1 units of a drug's quantity (X222A1/X223A2 loop 2410): international unit, gram,
# milligram, milliliter, unit.
NdcUnit = Literal["F2", "GR", "ME", "ML", "UN"]
FrequencyCode = Literal["1", "7", "8"]

_short = Field(min_length=1, max_length=60)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_CLAIM_TOTAL = Decimal("99999999.99")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_control_characters(cls, value: object) -> object:
        # NUL and other control characters have no place in a claim (and break X12 and
        # PostgreSQL text); refuse them at the door instead of failing later.
        if isinstance(value, str) and _CONTROL.search(value):
            raise ValueError("contains a control character")
        return value


class Address(Strict):
    line1: str = _short
    line2: str | None = Field(default=None, max_length=55)
    city: str = Field(min_length=1, max_length=30)
    state: str = Field(min_length=2, max_length=2)
    zip: str = Field(min_length=5, max_length=10)


class Patient(Strict):
    first_name: str = Field(min_length=1, max_length=35)
    last_name: str = Field(min_length=1, max_length=60)
    birth_date: date
    sex: Sex
    member_id: str = Field(min_length=1, max_length=80)
    address: Address


class Subscriber(Strict):
    """The insured, when the patient is someone else (a dependant): loop 2000C then carries the
    patient, and `patient.member_id` is still the subscriber's member id (NM1*IL NM109)."""

    first_name: str = Field(min_length=1, max_length=35)
    last_name: str = Field(min_length=1, max_length=60)
    # PAT01, the patient's relationship to the subscriber (01 spouse, 19 child, G8 other, ...).
    relationship: str = Field(min_length=2, max_length=2)
    birth_date: date | None = None
    sex: Sex | None = None
    address: Address | None = None


_TAXONOMY = Field(default=None, min_length=10, max_length=10)  # PRV03, a NUCC taxonomy code


class BillingProvider(Strict):
    npi: str = Field(min_length=1, max_length=15)
    name: str = _short
    tax_id: str = Field(min_length=1, max_length=15)
    address: Address
    taxonomy: str | None = _TAXONOMY


class Provider(Strict):
    npi: str = Field(min_length=1, max_length=15)
    first_name: str = Field(min_length=1, max_length=35)
    last_name: str = Field(min_length=1, max_length=60)
    taxonomy: str | None = _TAXONOMY


class ServiceLine(Strict):
    procedure: str = Field(min_length=1, max_length=48)
    modifiers: list[str] = Field(default_factory=list, max_length=4)
    units: Decimal = Field(default=Decimal(1), max_digits=10, decimal_places=3)
    charge: Decimal = Field(max_digits=12, decimal_places=2)
    diagnosis_pointers: list[int] = Field(default_factory=lambda: [1], max_length=4)
    service_date: date | None = None
    revenue_code: str | None = Field(default=None, max_length=4)
    # The drug given (loop 2410: LIN*N4 with the 11-digit NDC, CTP with its quantity and unit).
    ndc: str | None = Field(default=None, min_length=11, max_length=11, pattern=r"^[0-9]{11}$")
    ndc_quantity: Decimal | None = Field(default=None, gt=0, max_digits=13, decimal_places=3)
    ndc_unit: NdcUnit | None = None

    @model_validator(mode="after")
    def _ndc_whole(self) -> ServiceLine:
        given = [self.ndc is not None, self.ndc_quantity is not None, self.ndc_unit is not None]
        if any(given) and not all(given):
            raise ValueError("ndc, ndc_quantity and ndc_unit go together (LIN*N4 needs its CTP)")
        return self

    @field_validator("procedure")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @field_validator("modifiers")
    @classmethod
    def _upper_modifiers(cls, value: list[str]) -> list[str]:
        return [m.strip().upper() for m in value]


class ClaimDocument(Strict):
    """A coded claim. Field names are the contract of DESIGN.md; findings point into it with paths
    such as `lines[0].modifiers`."""

    claim_type: ClaimType = "professional"
    payer_id: str = Field(min_length=1, max_length=80)
    patient: Patient
    subscriber: Subscriber | None = None
    billing_provider: BillingProvider
    rendering_provider: Provider | None = None
    referring_provider: Provider | None = None
    service_date: date
    place_of_service: str = Field(default="11", min_length=1, max_length=2)
    diagnoses: list[str] = Field(max_length=12)
    lines: list[ServiceLine] = Field(min_length=1, max_length=50)
    prior_authorization: str | None = Field(default=None, max_length=50)
    referral_number: str | None = Field(default=None, max_length=50)  # REF*9F
    # A claim brought in from another system as a replacement (7) or void (8) of a claim the
    # payer already has: its first submission keeps that frequency and the payer's number.
    frequency_code: FrequencyCode | None = None
    payer_claim_control_number: str | None = Field(default=None, max_length=50)
    # Institutional (837I) only.
    type_of_bill: str | None = Field(default=None, max_length=4)
    admission_date: date | None = None
    discharge_date: date | None = None

    @field_validator("diagnoses")
    @classmethod
    def _normalise_diagnoses(cls, value: list[str]) -> list[str]:
        return [d.strip().upper() for d in value]

    @model_validator(mode="after")
    def _total_in_range(self) -> ClaimDocument:
        if self.total_charge > MAX_CLAIM_TOTAL:
            raise ValueError(f"lines: the charges add up to more than {MAX_CLAIM_TOTAL}")
        if self.frequency_code in ("7", "8") and not self.payer_claim_control_number:
            raise ValueError(f"payer_claim_control_number: frequency {self.frequency_code} "
                             "needs the payer's claim control number of the original claim")
        return self

    @property
    def total_charge(self) -> Decimal:
        return sum((line.charge for line in self.lines), Decimal("0"))
