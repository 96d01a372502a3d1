"""Adjudication: one received claim in, its 277CA status and 835 entry out. Pure and deterministic.

Order of decisions (RULES.md): trigger member ids (`TEST-REJECT-…`, `TEST-<group>-<CARC>[-<RARC>]`),
then a void, then the payer's rules file: ineligible member, timely filing, a seeded random denial,
and per line bundling, diagnosis requirements and the fee schedule.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel

from reclaim.sandbox_payer.rules import (
    BYPASS_MODIFIERS,
    AdjudicationRules,
    Denial,
    PayerRuleSet,
    WeightedDenial,
)
from reclaim.x12.models import (
    Adjustment,
    ClaimPayment,
    ClaimStatus277,
    ReceivedClaim837,
    ReceivedLine837,
    ServicePayment,
)

CENT = Decimal("0.01")
ZERO = Decimal("0")
_TRIGGER = re.compile(r"^TEST-(CO|PR|OA|PI)-([A-Z0-9]{1,5})(?:-([A-Z]{1,2}[0-9]{1,4}))?$")
_REJECT = re.compile(r"^TEST-REJECT-([A-Z0-9]{1,5})(?:-([A-Z0-9]{2,3}))?$")
# 277CA claim status codes (STC01-2) the sandbox uses.
ACCEPTED_FOR_PROCESSING = "20"
WRONG_PAYER = "116"


class Adjudication(BaseModel):
    status: ClaimStatus277
    payment: ClaimPayment | None = None  # None when the 277CA rejects the claim: no 835 entry


@dataclass(frozen=True, slots=True)
class _Context:
    claim: ReceivedClaim837
    payer_claim_number: str
    received_on: date


def parse_trigger(member_id: str) -> Denial | None:
    """`TEST-CO-16-N290` -> the CO-16 adjustment with remark N290; None for a normal member."""
    match = _TRIGGER.match(member_id.strip().upper())
    if match is None:
        return None
    group, reason, remark = match.groups()
    return Denial(group=group, reason=reason, remark=remark, note="trigger member id")


def parse_reject(member_id: str) -> tuple[str, str | None] | None:
    """`TEST-REJECT-562-85` -> ("562", "85"): the 277CA status code and entity code."""
    match = _REJECT.match(member_id.strip().upper())
    return None if match is None else (match.group(1), match.group(2))


def claim_rng(*, seed: int, payer_claim_number: str) -> random.Random:
    # A string seed is hashed with SHA-512 by `random`, so draws do not depend on PYTHONHASHSEED.
    return random.Random(f"{seed}:{payer_claim_number}")


def adjudicate_claim(
    *,
    claim: ReceivedClaim837,
    rules: PayerRuleSet,
    payer_claim_number: str,
    seed: int,
    received_on: date,
) -> Adjudication:
    ctx = _Context(claim=claim, payer_claim_number=payer_claim_number, received_on=received_on)
    reject = parse_reject(claim.member_id)
    if reject is not None:
        code, entity = reject
        return Adjudication(status=_rejected(ctx, code=code, entity=entity))
    payer = rules.payer(claim.payer_id)
    if payer is None:
        message = f"payer {claim.payer_id} is not served by this clearinghouse"
        return Adjudication(status=_rejected(ctx, code=WRONG_PAYER, entity="PR", message=message))
    rng = claim_rng(seed=seed, payer_claim_number=payer_claim_number)
    return Adjudication(status=_accepted(ctx), payment=_payment(ctx, payer, rng))


def _rejected(
    ctx: _Context, *, code: str, entity: str | None, message: str | None = None
) -> ClaimStatus277:
    return ClaimStatus277(
        patient_control_number=ctx.claim.patient_control_number,
        status_category="A7",
        status_code=code,
        entity_code=entity,
        action="rejected",
        total_charge=ctx.claim.total_charge,
        effective_date=ctx.received_on,
        message=message,
        member_id=ctx.claim.member_id,
        service_date=ctx.claim.service_date,
    )


def _accepted(ctx: _Context) -> ClaimStatus277:
    return ClaimStatus277(
        patient_control_number=ctx.claim.patient_control_number,
        payer_claim_control_number=ctx.payer_claim_number,
        status_category="A2",
        status_code=ACCEPTED_FOR_PROCESSING,
        action="accepted",
        total_charge=ctx.claim.total_charge,
        effective_date=ctx.received_on,
        member_id=ctx.claim.member_id,
        service_date=ctx.claim.service_date,
    )


def _payment(ctx: _Context, payer: AdjudicationRules, rng: random.Random) -> ClaimPayment:
    claim = ctx.claim
    if claim.frequency_code == "8":
        return _reversal(ctx, payer)
    trigger = parse_trigger(claim.member_id)
    if trigger is not None:
        if claim.frequency_code == "1":
            return _whole_claim(ctx, payer, trigger)
        return _priced(ctx, payer, coinsurance=ZERO, edits=False)
    denial = _claim_denial(ctx, payer, rng)
    if denial is not None:
        return _whole_claim(ctx, payer, denial)
    return _priced(ctx, payer, coinsurance=payer.coinsurance_percent, edits=True)


def _claim_denial(ctx: _Context, payer: AdjudicationRules, rng: random.Random) -> Denial | None:
    claim = ctx.claim
    ineligible = payer.ineligible(claim.member_id)
    if ineligible is not None:
        return ineligible
    if _past_timely_filing(ctx, payer):
        return Denial(group="CO", reason="29", note="timely filing limit expired")
    # Corrected claims are never randomly denied, so the denial loop always converges.
    if claim.frequency_code == "1" and rng.random() * 100 < payer.random_denial_percent:
        return _weighted_choice(payer.random_denials, rng)
    return None


def _past_timely_filing(ctx: _Context, payer: AdjudicationRules) -> bool:
    dates = [d for d in [ctx.claim.service_date, *(ln.service_date for ln in ctx.claim.lines)] if d]
    if not dates:
        return False
    return min(dates) + timedelta(days=payer.timely_filing_days) < ctx.received_on


def _weighted_choice(denials: list[WeightedDenial], rng: random.Random) -> Denial:
    chosen = rng.choices(denials, weights=[d.weight for d in denials], k=1)[0]
    return Denial(group=chosen.group, reason=chosen.reason, remark=chosen.remark, note=chosen.note)


def _base(ctx: _Context, payer: AdjudicationRules, *, status: str) -> ClaimPayment:
    claim = ctx.claim
    return ClaimPayment(
        patient_control_number=claim.patient_control_number,
        status_code=status,
        charge=claim.total_charge,
        paid=ZERO,
        filing_indicator=payer.filing_indicator_for(claim.claim_type),
        payer_claim_control_number=ctx.payer_claim_number,
        frequency_code=claim.frequency_code,
        patient_last_name=claim.patient_last_name,
        patient_first_name=claim.patient_first_name,
        member_id=claim.member_id,
        service_date=claim.service_date,
    )


def _reversal(ctx: _Context, payer: AdjudicationRules) -> ClaimPayment:
    """A void (frequency 8) is answered with a zero reversal of the claim named in REF*F8."""
    payment = _base(ctx, payer, status="22")
    payment.charge = ZERO
    if ctx.claim.payer_claim_control_number:
        payment.payer_claim_control_number = ctx.claim.payer_claim_control_number
    return payment


def _whole_claim(ctx: _Context, payer: AdjudicationRules, denial: Denial) -> ClaimPayment:
    """Every line adjusted in full with one reason: a denial, or PR assigned to the patient."""
    patient_owes = denial.group == "PR"
    payment = _base(ctx, payer, status="1" if patient_owes else "4")
    remarks = [denial.remark] if denial.remark else []
    if ctx.claim.lines:
        payment.lines = [_denied_line(ctx, line, denial) for line in ctx.claim.lines]
    else:
        payment.adjustments = [_full(denial, ctx.claim.total_charge)]
    payment.remarks = remarks
    if patient_owes:
        payment.patient_responsibility = ctx.claim.total_charge
    return payment


def _full(denial: Denial, amount: Decimal) -> Adjustment:
    return Adjustment(group=denial.group, reason=denial.reason, amount=amount)


def _denied_line(ctx: _Context, line: ReceivedLine837, denial: Denial) -> ServicePayment:
    remarks = [denial.remark] if denial.remark else []
    adjustments = [_full(denial, line.charge)]
    return _service(ctx, line, paid=ZERO, adjustments=adjustments, remarks=remarks)


def _priced(ctx: _Context, payer: AdjudicationRules, *, coinsurance: Decimal,
            edits: bool) -> ClaimPayment:
    lines = [
        _price_line(ctx, payer, index=i, coinsurance=coinsurance, edits=edits)
        for i in range(len(ctx.claim.lines))
    ]
    paid = sum((line.paid for line in lines), ZERO)
    patient = sum((a.amount for line in lines for a in line.adjustments if a.group == "PR"), ZERO)
    status = "1" if paid > 0 or patient > 0 or not _all_denied(lines) else "4"
    payment = _base(ctx, payer, status=status)
    payment.paid = paid
    payment.patient_responsibility = patient
    payment.lines = lines
    # MOA holds at most five remark codes.
    payment.remarks = (
        sorted({r for line in lines for r in line.remarks})[:5] if status == "4" else []
    )
    return payment


def _all_denied(lines: list[ServicePayment]) -> bool:
    return bool(lines) and all(
        any(a.group != "PR" and a.reason != "45" for a in line.adjustments) for line in lines
    )


def _price_line(
    ctx: _Context, payer: AdjudicationRules, *, index: int, coinsurance: Decimal, edits: bool
) -> ServicePayment:
    line = ctx.claim.lines[index]
    denial = _line_denial(ctx, payer, index=index) if edits else None
    if denial is not None:
        return _denied_line(ctx, line, denial)
    allowed = min(line.charge, _allowed(payer, line))
    patient = _percent(allowed, coinsurance)
    adjustments = []
    if line.charge > allowed:
        adjustments.append(Adjustment(group="CO", reason="45", amount=line.charge - allowed))
    if patient > 0:
        adjustments.append(Adjustment(group="PR", reason="2", amount=patient))
    return _service(ctx, line, paid=allowed - patient, adjustments=adjustments, remarks=[])


def _allowed(payer: AdjudicationRules, line: ReceivedLine837) -> Decimal:
    fee = payer.fee_schedule.get(line.procedure.upper())
    if fee is None:
        return _percent(line.charge, payer.default_allowed_percent)
    return (fee * line.units).quantize(CENT, rounding=ROUND_HALF_UP)


def _percent(amount: Decimal, percent: Decimal) -> Decimal:
    return (amount * percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def _line_denial(ctx: _Context, payer: AdjudicationRules, *, index: int) -> Denial | None:
    if _bundled(ctx, payer, index=index):
        return Denial(group="CO", reason="97", remark="M15", note="bundled into another service")
    if not _diagnosis_supported(ctx, payer, index=index):
        return Denial(group="CO", reason="11", note="diagnosis does not support the procedure")
    return None


def _bundled(ctx: _Context, payer: AdjudicationRules, *, index: int) -> bool:
    line = ctx.claim.lines[index]
    if BYPASS_MODIFIERS.intersection(m.upper() for m in line.modifiers):
        return False
    same_day = {
        other.procedure.upper()
        for i, other in enumerate(ctx.claim.lines)
        if i != index and _day(ctx, other) == _day(ctx, line)
    }
    code = line.procedure.upper()
    return any(p.column2 == code and p.column1 in same_day for p in payer.bundled_pairs)


def _day(ctx: _Context, line: ReceivedLine837) -> date | None:
    return line.service_date or ctx.claim.service_date


def _diagnosis_supported(ctx: _Context, payer: AdjudicationRules, *, index: int) -> bool:
    line = ctx.claim.lines[index]
    needed = [r for r in payer.diagnosis_requirements if r.procedure == line.procedure.upper()]
    if not needed:
        return True
    pointed = [
        ctx.claim.diagnoses[p - 1]
        for p in line.diagnosis_pointers
        if 1 <= p <= len(ctx.claim.diagnoses)
    ] or ctx.claim.diagnoses
    codes = [d.replace(".", "").upper() for d in pointed]
    return all(any(c.startswith(p) for c in codes for p in r.diagnoses) for r in needed)


def _service(
    ctx: _Context,
    line: ReceivedLine837,
    *,
    paid: Decimal,
    adjustments: list[Adjustment],
    remarks: list[str],
) -> ServicePayment:
    by_revenue = not line.procedure
    return ServicePayment(
        procedure=(line.revenue_code or "") if by_revenue else line.procedure,
        qualifier="NU" if by_revenue else "HC",
        modifiers=list(line.modifiers),
        charge=line.charge,
        paid=paid,
        units=line.units,
        revenue_code=None if by_revenue else line.revenue_code,
        service_date=line.service_date or ctx.claim.service_date,
        line_control_number=line.line_control_number,
        adjustments=adjustments,
        remarks=list(remarks),
    )
