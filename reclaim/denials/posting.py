"""Posting an 835 to its claim: amounts, denials found by group + reason, and their routes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlmodel import Session, select

from contracts.enums import AutoFixKind, Route
from contracts.messages import AutoFixOutcome, RemittanceOutcome, RoutedDenial
from reclaim.claims.schemas import Provider
from reclaim.claims.service import apply_correction, document_of
from reclaim.denials.autofix import (
    AutoFixError,
    EncounterRecord,
    ModifierRule,
    ProviderDirectory,
    apply_auto_fix,
    corrector_of,
    facts_on_file,
)
from reclaim.denials.detect import DenialFinding, claim_outcome, detect_denials
from reclaim.denials.facts import refresh_denial_facts
from reclaim.denials.routing import (
    RouteDecision,
    RoutingTable,
    best_rule,
    claim_route,
    route_denial,
)
from reclaim.models import Claim, Denial, DirectoryProvider, Remittance, utcnow
from reclaim.x12.models import ClaimPayment


def provider_directory(session: Session, *, on: date | None = None) -> ProviderDirectory:
    """The practice's people (organisations render nothing), only those active on `on` (the
    date of service) when it is given."""
    providers: dict[str, Provider] = {}
    by_billing: dict[str, list[str]] = {}
    for row in session.exec(select(DirectoryProvider)).all():
        if not (row.first_name and row.last_name):
            continue
        if on is not None and ((row.active_from and on < row.active_from)
                               or (row.active_to and on > row.active_to)):
            continue
        providers[row.npi] = Provider(npi=row.npi, first_name=row.first_name,
                                      last_name=row.last_name)
        if row.billing_npi:
            by_billing.setdefault(row.billing_npi, []).append(row.npi)
    return ProviderDirectory(providers=providers, rendering_by_billing_npi=by_billing)


def encounter_of(claim: Claim) -> EncounterRecord | None:
    return EncounterRecord.model_validate(claim.encounter) if claim.encounter else None


def post_remittance(
    *,
    session: Session,
    claim_id: int,
    attempt: int,
    remittance_id: int,
    table: RoutingTable,
    max_attempts: int,
    modifier_rules: list[ModifierRule],
) -> RemittanceOutcome:
    claim = session.get(Claim, claim_id)
    remittance = session.get(Remittance, remittance_id)
    if claim is None or remittance is None:
        raise LookupError(f"claim {claim_id} or remittance {remittance_id} not found")
    payment = ClaimPayment.model_validate(remittance.data)
    outcome = claim_outcome(payment)
    findings = [f for f in detect_denials(payment, attempt=max(attempt, 1)) if f.is_denial]
    routed: list[RoutedDenial] = []
    decisions: list[RouteDecision] = []
    if findings:
        # What routing reads from the claim and the directory (most remittances deny nothing).
        document = document_of(claim)
        directory = provider_directory(session, on=claim.service_date)
        encounter = encounter_of(claim)
    for finding in findings:
        context = facts_on_file(
            document, finding, directory=directory, encounter=encounter,
            modifier_rules=modifier_rules, max_attempts=max_attempts,
        )
        decision = route_denial(finding, table=table, context=context)
        decisions.append(decision)
        denial = _upsert_denial(session, claim, remittance, finding, decision)
        assert denial.id is not None
        routed.append(
            RoutedDenial(
                denial_id=denial.id,
                group=finding.group,
                carc=finding.carc,
                rarcs=finding.rarcs,
                amount=finding.amount,
                level=finding.level,
                route=decision.route,
                reason=decision.reason,
                auto_fix_kind=decision.auto_fix_kind,
                plain=finding.plain,
            )
        )
    driving = claim_route(decisions) if decisions else None
    route = driving.route if driving else None
    if outcome in ("paid", "partially_paid", "patient_responsibility", "denied"):
        claim.paid_amount = payment.paid
        claim.patient_responsibility = payment.patient_responsibility
    if payment.payer_claim_control_number:
        claim.payer_claim_control_number = payment.payer_claim_control_number
    if attempt <= 1 and claim.denied_first_pass is None and outcome != "reversed":
        claim.denied_first_pass = bool(findings) or outcome == "denied"
    if route:
        claim.denial_route = route
    claim.updated_at = utcnow()
    remittance.outcome = outcome
    session.add(claim)
    session.add(remittance)
    if findings or claim.denied_at is not None:  # a claim never denied has no facts to keep
        refresh_denial_facts(session, [claim_id])
    return RemittanceOutcome(
        outcome=outcome,
        paid=payment.paid,
        patient_responsibility=payment.patient_responsibility,
        payer_claim_control_number=payment.payer_claim_control_number,
        denials=routed,
        route=route,
        denied_amount=sum((f.amount for f in findings), Decimal("0")),
        new_original=any(d.new_original_claim for d in decisions),
        escalate=bool(driving and driving.escalate_to_manager),
    )


def _upsert_denial(
    session: Session,
    claim: Claim,
    remittance: Remittance,
    finding: DenialFinding,
    decision: RouteDecision,
) -> Denial:
    assert claim.id is not None
    assert remittance.id is not None
    line_index = finding.line_index if finding.line_index is not None else -1
    existing = session.exec(
        select(Denial).where(
            Denial.remittance_id == remittance.id,
            Denial.level == finding.level,
            Denial.line_index == line_index,
            Denial.carc == finding.carc,
        )
    ).first()
    denial = existing or Denial(
        claim_id=claim.id,
        remittance_id=remittance.id,
        attempt=finding.attempt,
        level=finding.level,
        line_index=line_index,
        group=finding.group,
        carc=finding.carc,
        amount=finding.amount,
        payer_id=claim.payer_id,
    )
    denial.procedure = finding.procedure
    denial.rarcs = finding.rarcs
    denial.route = decision.route
    denial.route_reason = decision.reason[:255]
    denial.rule_id = decision.rule_id
    session.add(denial)
    session.flush()
    return denial


def auto_fix(
    *,
    session: Session,
    claim_id: int,
    attempt: int,
    denial_ids: list[int],
    table: RoutingTable,
    max_attempts: int,
    modifier_rules: list[ModifierRule],
) -> AutoFixOutcome:
    claim = session.get(Claim, claim_id)
    if claim is None:
        raise LookupError(f"claim {claim_id} not found")
    document = document_of(claim)
    directory = provider_directory(session, on=claim.service_date)
    changes: list[str] = []
    new_original = False
    for denial_id in denial_ids:
        row = session.get(Denial, denial_id)
        if row is None:
            continue
        remittance = session.get(Remittance, row.remittance_id)
        assert remittance is not None
        payment = ClaimPayment.model_validate(remittance.data)
        finding = next(
            (f for f in detect_denials(payment, attempt=max(attempt, 1))
             if f.carc == row.carc and f.level == row.level
             and (f.line_index if f.line_index is not None else -1) == row.line_index),
            None,
        )
        if finding is None:
            continue
        context = facts_on_file(document, finding, directory=directory,
                                encounter=encounter_of(claim), modifier_rules=modifier_rules,
                                max_attempts=max_attempts)
        decision = route_denial(finding, table=table, context=context)
        if decision.route != Route.auto_fix:
            rule = best_rule(finding, table=table)
            return _not_fixed(f"{finding.codes}: {decision.reason}",
                              rule.auto_fix_kind if rule else None)
        try:
            result = apply_auto_fix(document, finding, decision, directory=directory,
                                    encounter=encounter_of(claim), modifier_rules=modifier_rules)
        except AutoFixError as exc:
            return _not_fixed(str(exc), decision.auto_fix_kind)
        document = result.document
        changes.extend(result.changes)
        new_original = new_original or result.new_original
    if not changes:
        return _not_fixed("no certain fix for these denials", None)
    corrections: dict[str, Any] = document.model_dump(mode="json")
    apply_correction(
        session=session,
        claim_id=claim_id,
        corrections=corrections,
        key=f"autofix-{attempt}",
        message="Auto-fix: " + "; ".join(changes),
    )
    return AutoFixOutcome(fixed=True, new_original=new_original, changes=changes)


def _not_fixed(reason: str, kind: AutoFixKind | None) -> AutoFixOutcome:
    return AutoFixOutcome(fixed=False, reason=reason, kind=kind, queue=corrector_of(kind))
