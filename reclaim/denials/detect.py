"""Denial detection from an 835 claim payment, at claim and line level.

Whether an adjustment is a denial is decided from its group and reason code, never from the paid
amount alone: a zero-paid claim whose only adjustments are contract reductions (CO-45, CO-253,
CO-24, OA-23) or the patient's share (PR-1/2/3) is settled, while OA-96 or CO-16 is a denial
whatever was paid. A payer's CLP02 = 4 marks the whole claim denied; CLP02 = 22 is a reversal of
an earlier payment and produces no denials.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from reclaim.codes.carc import (
    CARC_PATTERN,
    GROUP_LABELS,
    RARC_PATTERN,
    carc_category,
    plain_denial,
)
from reclaim.x12.models import Adjustment, ClaimPayment, ServicePayment

DENIED_STATUS = "4"
REVERSAL_STATUS = "22"
# CLP02 = 4 with no CAS at all still needs a reason to route on; A1 is the generic "denied" CARC.
GENERIC_DENIAL_CARC = "A1"

ClaimOutcome = Literal["paid", "partially_paid", "patient_responsibility", "denied", "reversed"]


class DenialInputError(ValueError):
    """An 835 claim payment that cannot be judged safely; says which claim and where."""


class DenialVerdict(BaseModel):
    is_denial: bool
    reasoning: str


class DenialFinding(BaseModel):
    """One denied adjustment on a claim or one of its service lines."""

    level: Literal["claim", "line"]
    line_index: int | None = None  # 0-based position in ClaimPayment.lines
    line_control_number: str | None = None
    procedure: str | None = None
    modifiers: list[str] = Field(default_factory=list)
    group: str
    carc: str
    rarcs: list[str] = Field(default_factory=list)
    amount: Decimal
    paid: Decimal  # what the payer paid at this level (claim or line)
    attempt: int = Field(ge=1)
    patient_control_number: str
    payer_claim_control_number: str | None = None
    is_denial: bool = True
    reasoning: str

    @property
    def codes(self) -> str:
        return "-".join((self.group, self.carc)) + "".join(f"/{r}" for r in self.rarcs)

    @property
    def plain(self) -> str:
        return plain_denial(self.group, self.carc, self.rarcs)


def judge_adjustment(group: str, carc: str) -> DenialVerdict:
    """Is an adjustment with this group and reason a denial? Decided from the codes alone."""
    category = carc_category(carc)
    if group == "CR":
        return DenialVerdict(is_denial=False, reasoning=f"CR-{carc} corrects an earlier claim")
    if category == "patient_share":
        return DenialVerdict(
            is_denial=False, reasoning=f"{group}-{carc} is the patient's share, not a denial"
        )
    if category == "contractual":
        return DenialVerdict(
            is_denial=False, reasoning=f"{group}-{carc} is a contract adjustment, not a denial"
        )
    return DenialVerdict(is_denial=True, reasoning=f"{group}-{carc} is a {category} denial reason")


def _validate_adjustment(adj: Adjustment, *, where: str) -> tuple[str, str]:
    group = adj.group.strip().upper()
    carc = adj.reason.strip().upper()
    if group not in GROUP_LABELS:
        raise DenialInputError(f"{where}: unknown adjustment group {adj.group!r}")
    if not CARC_PATTERN.match(carc):
        raise DenialInputError(f"{where}: malformed reason code {adj.reason!r}")
    return group, carc


def _clean_rarcs(remarks: list[str], *, where: str) -> list[str]:
    cleaned: list[str] = []
    for remark in remarks:
        code = remark.strip().upper()
        if not RARC_PATTERN.match(code):
            raise DenialInputError(f"{where}: malformed remark code {remark!r}")
        if code not in cleaned:
            cleaned.append(code)
    return cleaned


class _Level(BaseModel):
    """The claim or one line, reduced to what detection needs."""

    level: Literal["claim", "line"]
    where: str
    line_index: int | None = None
    line: ServicePayment | None = None
    adjustments: list[Adjustment]
    rarcs: list[str]
    paid: Decimal


def _levels(payment: ClaimPayment) -> list[_Level]:
    claim_where = f"claim {payment.patient_control_number}"
    claim_rarcs = _clean_rarcs(payment.remarks, where=claim_where)
    levels = [
        _Level(
            level="claim",
            where=claim_where,
            adjustments=payment.adjustments,
            rarcs=claim_rarcs,
            paid=payment.paid,
        )
    ]
    for index, line in enumerate(payment.lines):
        where = f"{claim_where} line {index + 1} ({line.procedure})"
        line_rarcs = _clean_rarcs(line.remarks, where=where)
        # Claim-level remarks (MOA/MIA, e.g. MA130) apply to every line as well.
        rarcs = line_rarcs + [r for r in claim_rarcs if r not in line_rarcs]
        levels.append(
            _Level(
                level="line",
                where=where,
                line_index=index,
                line=line,
                adjustments=line.adjustments,
                rarcs=rarcs,
                paid=line.paid,
            )
        )
    return levels


def _finding(
    level: _Level,
    payment: ClaimPayment,
    *,
    group: str,
    carc: str,
    amount: Decimal,
    attempt: int,
    reasoning: str,
) -> DenialFinding:
    line = level.line
    return DenialFinding(
        level=level.level,
        line_index=level.line_index,
        line_control_number=line.line_control_number if line else None,
        procedure=line.procedure if line else None,
        modifiers=list(line.modifiers) if line else [],
        group=group,
        carc=carc,
        rarcs=level.rarcs,
        amount=amount,
        paid=level.paid,
        attempt=attempt,
        patient_control_number=payment.patient_control_number,
        payer_claim_control_number=payment.payer_claim_control_number,
        reasoning=reasoning,
    )


def _scan(payment: ClaimPayment, *, attempt: int, payer_denied: bool) -> list[DenialFinding]:
    """Denial-reason adjustments; with `payer_denied`, every positive adjustment counts."""
    findings: list[DenialFinding] = []
    for level in _levels(payment):
        for adj in level.adjustments:
            group, carc = _validate_adjustment(adj, where=level.where)
            if adj.amount <= 0:
                continue  # a zero or negative CAS denies no money (negative undoes an earlier one)
            verdict = judge_adjustment(group, carc)
            if not verdict.is_denial and not payer_denied:
                continue
            reasoning = verdict.reasoning
            if not verdict.is_denial:
                reasoning = f"payer marked the claim denied (CLP02=4); {verdict.reasoning} alone"
            if level.paid == 0:
                reasoning += f"; nothing paid on the {level.level}"
            findings.append(
                _finding(
                    level,
                    payment,
                    group=group,
                    carc=carc,
                    amount=adj.amount,
                    attempt=attempt,
                    reasoning=reasoning,
                )
            )
    return findings


def detect_denials(payment: ClaimPayment, *, attempt: int) -> list[DenialFinding]:
    """Every denied adjustment of one 835 claim, claim level first, then lines in order."""
    if attempt < 1:
        raise DenialInputError(f"claim {payment.patient_control_number}: attempt must be >= 1")
    status = payment.status_code.strip()
    if status == REVERSAL_STATUS:
        return []
    findings = _scan(payment, attempt=attempt, payer_denied=False)
    if status != DENIED_STATUS or findings:
        return findings
    findings = _scan(payment, attempt=attempt, payer_denied=True)
    if findings:
        return findings
    claim_level = _levels(payment)[0]
    return [
        _finding(
            claim_level,
            payment,
            group="OA",
            carc=GENERIC_DENIAL_CARC,
            amount=payment.charge,
            attempt=attempt,
            reasoning="payer marked the claim denied (CLP02=4) without an adjustment reason",
        )
    ]


def _patient_owes(payment: ClaimPayment) -> bool:
    if payment.patient_responsibility > 0:
        return True
    adjustments = list(payment.adjustments)
    for line in payment.lines:
        adjustments.extend(line.adjustments)
    return any(a.group.strip().upper() == "PR" and a.amount > 0 for a in adjustments)


def claim_outcome(payment: ClaimPayment) -> ClaimOutcome:
    """How the payer settled the claim, in the claim statuses of DESIGN.md."""
    status = payment.status_code.strip()
    if status == REVERSAL_STATUS:
        return "reversed"
    denials = detect_denials(payment, attempt=1)
    if status == DENIED_STATUS:
        return "denied"
    if payment.paid > 0:
        return "partially_paid" if denials else "paid"
    if denials:
        return "denied"
    # Nothing paid and nothing denied: either the patient owes it or the contract absorbed it.
    return "patient_responsibility" if _patient_owes(payment) else "paid"
