"""The payer's front door: locate each claim in the raw 837, run the basic checks, build the 999.

`read_837` gives the claims but not where they sit, and the 999 (IK3) and the 835 payee need
that: `locate_claims` walks the segments once for each CLM's transaction set, its position in it,
and the submitter and billing provider it was sent under.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel

from reclaim.x12.models import Ack999, AckError, AckTransaction, Envelope, ReceivedClaim837

_ISA_LENGTH = 106
FREQUENCY_CODES = frozenset({"1", "7", "8"})


class ClaimLocation(BaseModel):
    transaction_control_number: str  # ST02 of the transaction set holding the claim
    segment_position: int  # CLM's position in that set, ST = 1
    patient_control_number: str
    submitter_name: str | None = None  # NM1*41
    submitter_id: str | None = None  # NM1*41 NM109, the submitter's ETIN
    billing_name: str | None = None  # NM1*85
    billing_tax_id: str | None = None  # REF*EI in loop 2010AA


class _Walker:
    def __init__(self) -> None:
        self.st = ""
        self.position = 0
        self.submitter: str | None = None
        self.submitter_id: str | None = None
        self.billing: str | None = None
        self.tax_id: str | None = None
        self.in_billing = False
        self.found: list[ClaimLocation] = []

    def visit(self, elements: list[str]) -> None:
        seg = elements[0]
        self.position += 1
        if seg == "ST":
            self.st, self.position = _at(elements, 2), 1
        elif seg == "NM1":
            self._name(elements)
        elif seg == "REF" and self.in_billing and _at(elements, 1) == "EI":
            self.tax_id = _at(elements, 2) or None
        elif seg == "CLM":
            self.found.append(
                ClaimLocation(
                    transaction_control_number=self.st,
                    segment_position=self.position,
                    patient_control_number=_at(elements, 1),
                    submitter_name=self.submitter,
                    submitter_id=self.submitter_id,
                    billing_name=self.billing,
                    billing_tax_id=self.tax_id,
                )
            )

    def _name(self, elements: list[str]) -> None:
        entity = _at(elements, 1)
        self.in_billing = entity == "85"
        if entity == "41":
            self.submitter = _at(elements, 3) or None
            self.submitter_id = _at(elements, 9) or None
        elif entity == "85":
            self.billing, self.tax_id = _at(elements, 3) or None, None


def _at(elements: list[str], index: int) -> str:
    return elements[index].strip() if index < len(elements) else ""


def locate_claims(raw: str) -> list[ClaimLocation]:
    """Each CLM of the file in order; [] when the file has no readable ISA header."""
    text = raw.lstrip("\ufeff \r\n\t")
    if len(text) < _ISA_LENGTH or not text.startswith("ISA"):
        return []
    element, terminator = text[3], text[_ISA_LENGTH - 1]
    walker = _Walker()
    for chunk in text.split(terminator):
        segment = chunk.strip("\r\n\t ")
        if segment:
            walker.visit(segment.split(element))
    return walker.found


def claim_errors(claim: ReceivedClaim837, *, position: int) -> list[AckError]:
    """Checks a clearinghouse makes before a claim enters adjudication (999 level)."""
    errors: list[AckError] = []
    where = {"segment_position": position, "loop": "2300"}
    if claim.frequency_code not in FREQUENCY_CODES:
        message = f"claim {claim.patient_control_number}: frequency code must be 1, 7 or 8"
        errors.append(
            AckError(segment_id="CLM", code="I6", element_position=5, message=message, **where)
        )
    elif claim.frequency_code != "1" and not claim.payer_claim_control_number:
        message = f"claim {claim.patient_control_number}: REF*F8 is required on a replacement/void"
        errors.append(AckError(segment_id="REF", code="I6", message=message, **where))
    if not claim.lines:
        message = f"claim {claim.patient_control_number}: no service line"
        errors.append(AckError(segment_id="CLM", code="I7", message=message, **where))
    elif _line_total(claim) != claim.total_charge:
        message = (
            f"claim {claim.patient_control_number}: total {claim.total_charge} is not the sum "
            f"of its lines {_line_total(claim)}"
        )
        errors.append(
            AckError(segment_id="CLM", code="I12", element_position=2, message=message, **where)
        )
    return errors


def _line_total(claim: ReceivedClaim837) -> Decimal:
    return sum((line.charge for line in claim.lines), Decimal("0"))


def match_locations(
    claims: list[ReceivedClaim837], locations: list[ClaimLocation]
) -> list[ClaimLocation]:
    """The locations when they line up one to one with the claims read, else []."""
    if len(locations) != len(claims):
        return []
    pairs = zip(locations, claims, strict=True)
    if any(loc.patient_control_number != claim.patient_control_number for loc, claim in pairs):
        return []
    return locations


def transaction_errors(
    *,
    claims: list[ReceivedClaim837],
    locations: list[ClaimLocation],
    transactions: list[str],
) -> dict[str, list[AckError]]:
    """The errors of each transaction set (ST02), every claim's errors under its own set.

    Without `locations` (see match_locations) every error goes to the first set, at CLM 1.
    """
    by_set: dict[str, list[AckError]] = {st: [] for st in transactions or ["0001"]}
    first = next(iter(by_set))
    for index, claim in enumerate(claims):
        location = locations[index] if locations else None
        st = location.transaction_control_number if location else first
        position = location.segment_position if location else 1
        by_set.setdefault(st, []).extend(claim_errors(claim, position=position))
    return by_set


def build_ack(
    *,
    envelope: Envelope,
    received_envelope: Envelope,
    functional_id: str,
    implementation: str,
    errors_by_set: dict[str, list[AckError]],
) -> Ack999:
    transactions = [
        AckTransaction(
            control_number=st,
            implementation=implementation,
            status="R" if errors else "A",
            errors=errors,
        )
        for st, errors in errors_by_set.items()
    ]
    accepted = sum(1 for t in transactions if t.status == "A")
    group = "A" if accepted == len(transactions) else "R" if accepted == 0 else "P"
    return Ack999(
        envelope=envelope,
        functional_id=functional_id,
        group_control_number=received_envelope.group_control_number,
        implementation=implementation,
        transactions=transactions,
        group_status=group,
        received_count=len(transactions),
        accepted_count=accepted,
    )


def reply_envelope(received: Envelope, *, control_number: int, created: datetime) -> Envelope:
    """The envelope of a file sent back to the submitter: sender and receiver swapped."""
    return Envelope(
        sender_id=received.receiver_id,
        receiver_id=received.sender_id,
        sender_qualifier=received.receiver_qualifier,
        receiver_qualifier=received.sender_qualifier,
        interchange_control_number=control_number,
        group_control_number=control_number,
        transaction_control_number="0001",
        created=created,
        usage=received.usage,
        application_sender=received.application_receiver,
        application_receiver=received.application_sender,
    )
