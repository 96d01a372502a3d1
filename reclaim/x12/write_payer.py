"""Write what a payer sends back: the 999 (005010X231A1), the 277CA (005010X214), the 835
(005010X221A1). The sandbox payer uses these; every file they write validates in pyx12.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from decimal import Decimal
from typing import TypeVar

from pydantic import BaseModel

from reclaim.x12.common import DEFAULT_DELIMITERS, Delimiters
from reclaim.x12.models import (
    Ack999,
    AckError,
    AckTransaction,
    Adjustment,
    ClaimPayment,
    ClaimStatus277,
    ProviderAdjustment,
    Remittance835,
    ServicePayment,
    Status277CA,
)
from reclaim.x12.segments import Element, SegmentWriter, amount, clip, d8, interchange

IMPLEMENTATION_999 = "005010X231A1"
IMPLEMENTATION_277CA = "005010X214"
IMPLEMENTATION_835 = "005010X221A1"
MAX_IK5_CODES = 5
MAX_LOOP_ID = 4
MAX_MOA_REMARKS = 5
CAS_TRIPLES_PER_SEGMENT = 6
PLB_ADJUSTMENTS_PER_SEGMENT = 6
# SBR09 "CI" (commercial) has no CLP06 code in the 835 guide; commercial plans report 12 (PPO).
CLP06_FOR_SBR09 = {"CI": "12"}


class PayerContact(BaseModel):
    """The 835's 1000A payer address and technical contact (PER*BL), which Remittance835 lacks."""

    line1: str = "1 Sandbox Way"
    city: str = "Springfield"
    state: str = "IL"
    zip: str = "62701"
    contact_name: str = "EDI SUPPORT"
    phone: str = "2175550199"


SANDBOX_PAYER_CONTACT = PayerContact()
T = TypeVar("T")


# ---------------------------------------------------------------- 999


def write_999(ack: Ack999, *, delimiters: Delimiters = DEFAULT_DELIMITERS) -> str:
    """A 999 acknowledging one functional group: AK1, per transaction AK2/IK3/IK4/IK5, AK9."""
    if not ack.implementation:
        raise ValueError("999: implementation (AK103, the GS08 acknowledged) is required")
    out = SegmentWriter(delimiters)
    out.add("AK1", ack.functional_id, str(ack.group_control_number), ack.implementation)
    for transaction in ack.transactions:
        _ak2_loop(out, transaction)
    out.add(
        "AK9",
        ack.group_status,
        str(ack.received_count),
        str(ack.received_count),
        str(ack.accepted_count),
    )
    return interchange(
        envelope=ack.envelope,
        functional_id="FA",
        implementation=IMPLEMENTATION_999,
        transaction_set_id="999",
        body=out.segments,
        delimiters=delimiters,
    )


def _ak2_loop(out: SegmentWriter, transaction: AckTransaction) -> None:
    out.add(
        "AK2",
        transaction.transaction_set_id,
        transaction.control_number,
        transaction.implementation,
    )
    set_level = [e.code for e in transaction.errors if e.segment_id is None]
    if len(set_level) > MAX_IK5_CODES:
        raise ValueError(
            f"999 AK2 {transaction.control_number}: at most {MAX_IK5_CODES} transaction-level "
            f"error codes fit in IK5, got {len(set_level)}"
        )
    for segment_errors in _by_segment(transaction):
        _ik3_loop(out, transaction.control_number, segment_errors)
    out.add("IK5", transaction.status, *set_level)


def _by_segment(transaction: AckTransaction) -> Iterator[list[AckError]]:
    """One IK3 per segment in error: a segment error (IK3 code) followed by the element errors
    (IK4) of that same segment; element errors with no segment error of their own get IK3 code 8."""
    group: list[AckError] = []
    for error in transaction.errors:
        if error.segment_id is None:
            continue
        joins = group and error.element_position is not None and _key(group[0]) == _key(error)
        if not joins:
            if group:
                yield group
            group = []
        group.append(error)
    if group:
        yield group


def _key(error: AckError) -> tuple[str | None, int | None, str | None]:
    return (error.segment_id, error.segment_position, error.loop)


def _ik3_loop(out: SegmentWriter, control_number: str, errors: list[AckError]) -> None:
    first = errors[0]
    if first.segment_position is None:
        raise ValueError(
            f"999 AK2 {control_number}: error {first.code} on {first.segment_id} needs "
            "segment_position (IK302)"
        )
    segment_code = first.code if first.element_position is None else "8"
    # IK303 is the LS/LE bounded-loop id (1-4 characters); guide loop names such as 2010BA are
    # not loop identifiers and the 999 guide has no place for them.
    loop = first.loop if first.loop and len(first.loop) <= MAX_LOOP_ID else None
    out.add("IK3", first.segment_id, str(first.segment_position), loop, segment_code)
    for error in errors:
        if error.element_position is not None:
            out.add("IK4", str(error.element_position), None, error.code)


# ---------------------------------------------------------------- 277CA


def write_277ca(status: Status277CA, *, delimiters: Delimiters = DEFAULT_DELIMITERS) -> str:
    """A 277CA: payer (2000A), receiver with the batch status (2000B), provider (2000C) and
    one patient level (2000D) per claim with its STC."""
    if not status.claims:
        raise ValueError("277CA: at least one claim status is needed")
    if not status.provider_name or not status.provider_npi:
        raise ValueError("277CA: provider_name and provider_npi are required (2100C NM1*85)")
    out = SegmentWriter(delimiters)
    env = status.envelope
    reference = str(env.interchange_control_number)
    today = env.created.date()
    out.add("BHT", "0085", "08", reference, d8(today), env.created.strftime("%H%M"), "TH")
    _source_level(out, status, reference, today)
    _receiver_level(out, status, reference, today)
    _provider_level(out, status, reference)
    for hl, claim in enumerate(status.claims, start=4):
        _patient_level(out, claim, hl=hl, today=today)
    return interchange(
        envelope=env,
        functional_id="HN",
        implementation=IMPLEMENTATION_277CA,
        transaction_set_id="277",
        body=out.segments,
        delimiters=delimiters,
    )


def _source_level(out: SegmentWriter, status: Status277CA, reference: str, today: date) -> None:
    out.add("HL", "1", None, "20", "1")
    out.add(
        "NM1", "PR", "2", clip(status.payer_name, 60), None, None, None, None, "PI", status.payer_id
    )
    out.add("TRN", "1", reference)
    out.add("DTP", "050", "D8", d8(today))
    out.add("DTP", "009", "D8", d8(today))


def _receiver_level(out: SegmentWriter, status: Status277CA, reference: str, today: date) -> None:
    out.add("HL", "2", "1", "21", "1")
    out.add(
        "NM1",
        "41",
        "2",
        clip(status.receiver_name, 60),
        None,
        None,
        None,
        None,
        "46",
        status.receiver_id,
    )
    out.add("TRN", "2", reference)
    accepted, rejected = _split(status.claims)
    category = "A1" if accepted else "A3"
    out.add(
        "STC",
        [category, "19", "PR"],
        d8(today),
        _action(bool(accepted)),
        amount(_total(status.claims)),
    )
    _totals(out, accepted, rejected, quantity_codes=("90", "AA"))


def _provider_level(out: SegmentWriter, status: Status277CA, reference: str) -> None:
    out.add("HL", "3", "2", "19", "1")
    out.add(
        "NM1",
        "85",
        "2",
        clip(status.provider_name or "", 60),
        None,
        None,
        None,
        None,
        "XX",
        status.provider_npi,
    )
    out.add("TRN", "1", reference)
    accepted, rejected = _split(status.claims)
    category = "A1" if accepted else "A3"
    out.add(
        "STC", [category, "19", "PR"], None, _action(bool(accepted)), amount(_total(status.claims))
    )
    _totals(out, accepted, rejected, quantity_codes=("QA", "QC"))


def _patient_level(out: SegmentWriter, claim: ClaimStatus277, *, hl: int, today: date) -> None:
    pcn = claim.patient_control_number
    if not claim.member_id:
        raise ValueError(f"277CA claim {pcn}: member_id is required (2100D NM109)")
    if claim.total_charge is None:
        raise ValueError(f"277CA claim {pcn}: total_charge is required (STC04)")
    if claim.service_date is None:
        raise ValueError(f"277CA claim {pcn}: service_date is required (2200D DTP*472)")
    out.add("HL", str(hl), "3", "PT")
    # ClaimStatus277 carries no patient name; the member id identifies the patient.
    last_name = getattr(claim, "patient_last_name", None) or "UNKNOWN"
    first_name = getattr(claim, "patient_first_name", None)
    out.add(
        "NM1",
        "QC",
        "1",
        clip(last_name, 60),
        first_name and clip(first_name, 35),
        None,
        None,
        None,
        "MI",
        claim.member_id,
    )
    out.add("TRN", "2", pcn)
    out.add(
        "STC",
        [claim.status_category, claim.status_code, claim.entity_code],
        d8(claim.effective_date or today),
        _action(claim.action == "accepted"),
        amount(claim.total_charge),
        *([None] * 7),
        claim.message,
    )
    if claim.payer_claim_control_number:
        out.add("REF", "1K", claim.payer_claim_control_number)
    out.add("DTP", "472", "D8", d8(claim.service_date))


def _split(claims: list[ClaimStatus277]) -> tuple[list[ClaimStatus277], list[ClaimStatus277]]:
    accepted = [c for c in claims if c.action == "accepted"]
    rejected = [c for c in claims if c.action == "rejected"]
    return accepted, rejected


def _action(accepted: bool) -> str:
    return "WQ" if accepted else "U"


def _total(claims: Iterable[ClaimStatus277]) -> Decimal:
    return sum((c.total_charge or Decimal(0) for c in claims), Decimal(0))


def _totals(
    out: SegmentWriter,
    accepted: list[ClaimStatus277],
    rejected: list[ClaimStatus277],
    *,
    quantity_codes: tuple[str, str],
) -> None:
    if accepted:
        out.add("QTY", quantity_codes[0], str(len(accepted)))
    if rejected:
        out.add("QTY", quantity_codes[1], str(len(rejected)))
    if accepted:
        out.add("AMT", "YU", amount(_total(accepted)))
    if rejected:
        out.add("AMT", "YY", amount(_total(rejected)))


# ---------------------------------------------------------------- 835


def write_835(
    remit: Remittance835,
    *,
    delimiters: Delimiters = DEFAULT_DELIMITERS,
    payer_contact: PayerContact = SANDBOX_PAYER_CONTACT,
) -> str:
    """An 835 remittance. Refuses (ValueError) a model whose BPR02 is not the sum of CLP04 less
    the PLB amounts."""
    _check_balance(remit)
    out = SegmentWriter(delimiters)
    _payment_header(out, remit)
    _payer(out, remit, payer_contact)
    _payee(out, remit)
    if remit.claims:
        out.add("LX", "1")
    for claim in remit.claims:
        _claim_payment(out, claim)
    _provider_adjustments(out, remit.provider_adjustments)
    return interchange(
        envelope=remit.envelope,
        functional_id="HP",
        implementation=IMPLEMENTATION_835,
        transaction_set_id="835",
        body=out.segments,
        delimiters=delimiters,
        implementation_in_st=False,
    )


def _check_balance(remit: Remittance835) -> None:
    paid = sum((c.paid for c in remit.claims), Decimal(0))
    provider = sum((p.amount for p in remit.provider_adjustments), Decimal(0))
    expected = paid - provider
    payment = remit.payment
    signed = payment.amount if payment.credit_debit == "C" else -payment.amount
    if signed != expected:
        raise ValueError(
            f"835 does not balance: BPR02 is {signed} but the claims paid {paid} less provider "
            f"adjustments {provider} is {expected}"
        )


def _payment_header(out: SegmentWriter, remit: Remittance835) -> None:
    payment = remit.payment
    identifier = payment.payer_identifier or ""
    if len(identifier) != 10:
        raise ValueError(
            "835: payment.payer_identifier (TRN03) must be 10 characters, '1' followed by the "
            f"payer's 9-digit tax id, got {payment.payer_identifier!r}"
        )
    handling = "H" if payment.method == "NON" else "I"
    blanks: list[Element] = [None] * 11
    out.add(
        "BPR",
        handling,
        amount(payment.amount),
        payment.credit_debit,
        payment.method,
        *blanks,
        d8(payment.date),
    )
    out.add("TRN", "1", payment.trace_number, identifier)
    out.add("REF", "EV", remit.envelope.receiver_id)
    if remit.production_date is not None:
        out.add("DTM", "405", d8(remit.production_date))


def _payer(out: SegmentWriter, remit: Remittance835, contact: PayerContact) -> None:
    out.add("N1", "PR", clip(remit.payer_name, 60))
    out.add("N3", clip(contact.line1, 55))
    out.add("N4", contact.city, contact.state, contact.zip)
    out.add("REF", "2U", remit.payer_id)
    out.add("PER", "BL", contact.contact_name, "TE", contact.phone)


def _payee(out: SegmentWriter, remit: Remittance835) -> None:
    if remit.payee_npi:
        out.add("N1", "PE", clip(remit.payee_name, 60), "XX", remit.payee_npi)
        if remit.payee_tax_id:
            out.add("REF", "TJ", remit.payee_tax_id)
    elif remit.payee_tax_id:
        out.add("N1", "PE", clip(remit.payee_name, 60), "FI", remit.payee_tax_id)
    else:
        raise ValueError("835: payee_npi or payee_tax_id is required (1000B N103/N104)")


def _claim_payment(out: SegmentWriter, claim: ClaimPayment) -> None:
    pcn = claim.patient_control_number
    if not claim.payer_claim_control_number:
        raise ValueError(f"835 claim {pcn}: payer_claim_control_number is required (CLP07)")
    out.add(
        "CLP",
        pcn,
        claim.status_code,
        amount(claim.charge),
        amount(claim.paid),
        amount(claim.patient_responsibility),
        CLP06_FOR_SBR09.get(claim.filing_indicator, claim.filing_indicator),
        claim.payer_claim_control_number,
        None,
        claim.frequency_code,
    )
    _adjustments(out, claim.adjustments)
    _patient(out, claim)
    if claim.remarks:
        if len(claim.remarks) > MAX_MOA_REMARKS:
            raise ValueError(
                f"835 claim {pcn}: at most {MAX_MOA_REMARKS} claim remarks fit in MOA, "
                f"got {len(claim.remarks)}"
            )
        out.add("MOA", None, None, *claim.remarks)
    if claim.service_date is not None:
        out.add("DTM", "232", d8(claim.service_date))
    for line in claim.lines:
        _service_payment(out, line)


def _patient(out: SegmentWriter, claim: ClaimPayment) -> None:
    last = claim.patient_last_name and clip(claim.patient_last_name, 60)
    first = claim.patient_first_name and clip(claim.patient_first_name, 35)
    if claim.member_id:
        out.add("NM1", "QC", "1", last, first, None, None, None, "MI", claim.member_id)
    else:
        out.add("NM1", "QC", "1", last, first)


def _service_payment(out: SegmentWriter, line: ServicePayment) -> None:
    out.add(
        "SVC",
        [line.qualifier, line.procedure, *line.modifiers],
        amount(line.charge),
        amount(line.paid),
        line.revenue_code,
        None if line.units is None else amount(line.units),
    )
    if line.service_date is not None:
        out.add("DTM", "472", d8(line.service_date))
    _adjustments(out, line.adjustments)
    if line.line_control_number:
        out.add("REF", "6R", line.line_control_number)
    for remark in line.remarks:
        out.add("LQ", "HE", remark)


def _adjustments(out: SegmentWriter, adjustments: Sequence[Adjustment]) -> None:
    """One CAS per group code, at most six reason/amount/quantity triples each."""
    groups: dict[str, list[Adjustment]] = {}
    for adjustment in adjustments:
        groups.setdefault(adjustment.group, []).append(adjustment)
    for group, items in groups.items():
        for chunk in _chunks(items, CAS_TRIPLES_PER_SEGMENT):
            elements: list[Element] = []
            for item in chunk:
                quantity = None if item.quantity is None else amount(item.quantity)
                elements += [item.reason, amount(item.amount), quantity]
            out.add("CAS", group, *elements)


def _provider_adjustments(out: SegmentWriter, adjustments: list[ProviderAdjustment]) -> None:
    """PLB per provider and fiscal period date, at most six adjustments each."""
    groups: dict[tuple[str, date], list[ProviderAdjustment]] = {}
    for adjustment in adjustments:
        key = (adjustment.provider_id, adjustment.fiscal_period_date)
        groups.setdefault(key, []).append(adjustment)
    for (provider_id, period), items in groups.items():
        for chunk in _chunks(items, PLB_ADJUSTMENTS_PER_SEGMENT):
            elements: list[Element] = []
            for item in chunk:
                elements += [[item.reason, item.reference], amount(item.amount)]
            out.add("PLB", provider_id, d8(period), *elements)


def _chunks(items: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
