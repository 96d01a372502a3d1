"""Fixes certain enough to resubmit without a person: data the payer says is missing, taken from
records on file (provider directory, encounter, payer modifier rules).

`facts_on_file` tells routing which fixes are possible, using the same look-ups `apply_auto_fix`
uses, so a route of `auto_fix` is only chosen when the fix will find its data. A fix that would
change nothing is refused: resubmitting the same claim would only be denied again.

The result is the corrected document; the 837 writer turns it into a replacement (CLM05-3 = 7,
REF*F8) unless `new_original` is set (MA130: the payer wants a new original claim).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import BaseModel, Field

from contracts.enums import AutoFixKind, Queue
from reclaim.claims.schemas import ClaimDocument, Provider, ServiceLine
from reclaim.denials.detect import DenialFinding
from reclaim.denials.routing import NEW_ORIGINAL_RARC, RouteDecision, RoutingContext

_POS = re.compile(r"^\d{2}$")
MAX_MODIFIERS = 4


# The fixes whose data the front desk keeps on file (the provider directory, the encounter): when
# one cannot be made, the front desk corrects the claim; a coder corrects the rest.
FRONT_DESK_FIXES: frozenset[AutoFixKind] = frozenset({
    AutoFixKind.rendering_provider, AutoFixKind.place_of_service,
    AutoFixKind.referring_provider, AutoFixKind.ordering_provider,
})


def corrector_of(kind: AutoFixKind | None) -> Queue:
    """Who corrects a claim whose auto-fix of this kind (None: no fix applied) could not be
    made."""
    return Queue.front_desk if kind in FRONT_DESK_FIXES else Queue.coder


class AutoFixError(ValueError):
    """An auto-fix that cannot be applied; the claim goes to the route's fallback instead."""


class DataNotOnFile(AutoFixError):
    def __init__(self, kind: str, detail: str) -> None:
        self.kind = kind
        self.detail = detail
        super().__init__(f"auto-fix {kind}: {detail}")


class ProviderDirectory(BaseModel):
    """Providers of the practice: by NPI, and the rendering providers billing under each NPI."""

    providers: dict[str, Provider] = Field(default_factory=dict)
    rendering_by_billing_npi: dict[str, list[str]] = Field(default_factory=dict)

    def rendering_for(self, *, billing_npi: str, current: Provider | None) -> Provider | None:
        """The rendering provider the claim should carry, when the directory settles it."""
        if current is not None and current.npi in self.providers:
            return self.providers[current.npi]
        group = [
            self.providers[n]
            for n in self.rendering_by_billing_npi.get(billing_npi, [])
            if n in self.providers
        ]
        if current is not None:
            named = [p for p in group if _same_name(p, current)]
            if len(named) == 1:
                return named[0]
        return group[0] if len(group) == 1 else None


class EncounterRecord(BaseModel):
    """What the encounter (visit) record says, independent of what was billed."""

    place_of_service: str | None = None
    referring_provider: Provider | None = None
    ordering_provider: Provider | None = None


class ModifierRule(BaseModel):
    """A payer rule: this procedure needs this modifier (replacing any in `replaces`)."""

    payer_id: str
    procedure: str
    modifier: str = Field(min_length=2, max_length=2)
    replaces: list[str] = Field(default_factory=list)


class AutoFixResult(BaseModel):
    document: ClaimDocument
    kind: AutoFixKind
    changes: list[str]
    new_original: bool


def _same_name(a: Provider, b: Provider) -> bool:
    return (a.first_name.casefold(), a.last_name.casefold()) == (
        b.first_name.casefold(),
        b.last_name.casefold(),
    )


def _who(provider: Provider | None) -> str:
    if provider is None:
        return "none"
    return f"NPI {provider.npi} ({provider.last_name}, {provider.first_name})"


# ---------------------------------------------------------------- look-ups


def _rendering(doc: ClaimDocument, directory: ProviderDirectory) -> Provider | None:
    found = directory.rendering_for(
        billing_npi=doc.billing_provider.npi, current=doc.rendering_provider
    )
    return None if found == doc.rendering_provider else found


def _place_of_service(doc: ClaimDocument, encounter: EncounterRecord | None) -> str | None:
    pos = encounter.place_of_service if encounter else None
    if pos is None or not _POS.match(pos) or pos == doc.place_of_service:
        return None
    return pos


def _encounter_provider(
    doc: ClaimDocument, encounter: EncounterRecord | None, *, ordering: bool
) -> Provider | None:
    if encounter is None:
        return None
    found = encounter.ordering_provider if ordering else encounter.referring_provider
    return None if found == doc.referring_provider else found


def _target_lines(doc: ClaimDocument, denial: DenialFinding) -> list[int]:
    """Document lines a line-level denial points at (payers may drop modifiers or reorder)."""
    if denial.level == "claim":
        return list(range(len(doc.lines)))
    same = [i for i, line in enumerate(doc.lines) if line.procedure == denial.procedure]
    if not same:
        raise DataNotOnFile("modifier", f"denied line {denial.procedure} is not on the claim")
    if len(same) > 1 and denial.line_index in same:
        return [denial.line_index]
    if len(same) > 1:
        raise DataNotOnFile(
            "modifier", f"denied line {denial.procedure} matches {len(same)} claim lines"
        )
    return same


def _rule_for(
    doc: ClaimDocument, line: ServiceLine, rules: Sequence[ModifierRule]
) -> ModifierRule | None:
    for rule in rules:
        if rule.payer_id != doc.payer_id or rule.procedure.upper() != line.procedure:
            continue
        if rule.modifier.upper() not in line.modifiers:
            return rule
    return None


def _modifier_fixes(
    doc: ClaimDocument, denial: DenialFinding, rules: Sequence[ModifierRule]
) -> dict[int, ModifierRule]:
    fixes: dict[int, ModifierRule] = {}
    for index in _target_lines(doc, denial):
        rule = _rule_for(doc, doc.lines[index], rules)
        if rule is not None:
            fixes[index] = rule
    return fixes


def facts_on_file(
    doc: ClaimDocument,
    denial: DenialFinding,
    *,
    directory: ProviderDirectory,
    encounter: EncounterRecord | None = None,
    modifier_rules: Sequence[ModifierRule] = (),
    timely_filing_proof: bool = False,
    max_attempts: int = 3,
) -> RoutingContext:
    """The routing context for one denial: which corrections the records on file can supply."""
    try:
        modifier_ok = bool(_modifier_fixes(doc, denial, modifier_rules))
    except DataNotOnFile:
        modifier_ok = False
    return RoutingContext(
        rendering_provider_on_file=_rendering(doc, directory) is not None,
        place_of_service_on_file=_place_of_service(doc, encounter) is not None,
        referring_provider_on_file=_encounter_provider(doc, encounter, ordering=False) is not None,
        ordering_provider_on_file=_encounter_provider(doc, encounter, ordering=True) is not None,
        modifier_rule_on_file=modifier_ok,
        timely_filing_proof=timely_filing_proof,
        max_attempts=max_attempts,
    )


# ---------------------------------------------------------------- fixes


def _fix_rendering(
    doc: ClaimDocument, directory: ProviderDirectory
) -> tuple[ClaimDocument, list[str]]:
    found = _rendering(doc, directory)
    if found is None:
        raise DataNotOnFile(
            "rendering_provider",
            f"the directory has no different rendering provider for billing NPI "
            f"{doc.billing_provider.npi} (claim has {_who(doc.rendering_provider)})",
        )
    change = f"rendering provider {_who(doc.rendering_provider)} -> {_who(found)} from directory"
    return doc.model_copy(update={"rendering_provider": found}), [change]


def _fix_place_of_service(
    doc: ClaimDocument, encounter: EncounterRecord | None
) -> tuple[ClaimDocument, list[str]]:
    pos = _place_of_service(doc, encounter)
    if pos is None:
        raise DataNotOnFile(
            "place_of_service",
            f"the encounter has no valid place of service other than {doc.place_of_service!r}",
        )
    change = f"place of service {doc.place_of_service} -> {pos} from the encounter"
    return doc.model_copy(update={"place_of_service": pos}), [change]


def _fix_encounter_provider(
    doc: ClaimDocument, encounter: EncounterRecord | None, *, ordering: bool
) -> tuple[ClaimDocument, list[str]]:
    kind = "ordering_provider" if ordering else "referring_provider"
    found = _encounter_provider(doc, encounter, ordering=ordering)
    if found is None:
        raise DataNotOnFile(kind, "the encounter names no provider different from the claim's")
    # The claim document has one referring-provider slot (837P NM1*DN); an ordering provider
    # the payer asks for travels there.
    role = "ordering" if ordering else "referring"
    change = f"{role} provider {_who(doc.referring_provider)} -> {_who(found)} from the encounter"
    return doc.model_copy(update={"referring_provider": found}), [change]


def _apply_modifier(line: ServiceLine, rule: ModifierRule) -> ServiceLine:
    replaced = {m.upper() for m in rule.replaces}
    kept = [m for m in line.modifiers if m not in replaced]
    if len(kept) >= MAX_MODIFIERS:
        raise DataNotOnFile("modifier", f"line {line.procedure} already has 4 modifiers")
    return line.model_copy(update={"modifiers": [rule.modifier.upper(), *kept]})


def _fix_modifier(
    doc: ClaimDocument, denial: DenialFinding, rules: Sequence[ModifierRule]
) -> tuple[ClaimDocument, list[str]]:
    fixes = _modifier_fixes(doc, denial, rules)
    if not fixes:
        raise DataNotOnFile(
            "modifier", f"no payer rule for {doc.payer_id} names a missing modifier for the line"
        )
    lines = list(doc.lines)
    changes: list[str] = []
    for index, rule in fixes.items():
        lines[index] = _apply_modifier(lines[index], rule)
        changes.append(
            f"lines[{index}] {lines[index].procedure} modifiers {doc.lines[index].modifiers} -> "
            f"{lines[index].modifiers} by payer rule"
        )
    return doc.model_copy(update={"lines": lines}), changes


def apply_auto_fix(
    doc: ClaimDocument,
    denial: DenialFinding,
    decision: RouteDecision,
    *,
    directory: ProviderDirectory,
    encounter: EncounterRecord | None = None,
    modifier_rules: Sequence[ModifierRule] = (),
) -> AutoFixResult:
    """The corrected claim for an `auto_fix` decision; `DataNotOnFile` when the data is missing."""
    kind = decision.auto_fix_kind
    if decision.route != "auto_fix" or kind is None:
        raise AutoFixError(f"decision routes to {decision.route!r}, not to an auto-fix")
    if kind == "rendering_provider":
        fixed, changes = _fix_rendering(doc, directory)
    elif kind == "place_of_service":
        fixed, changes = _fix_place_of_service(doc, encounter)
    elif kind in ("referring_provider", "ordering_provider"):
        fixed, changes = _fix_encounter_provider(
            doc, encounter, ordering=kind == "ordering_provider"
        )
    else:
        fixed, changes = _fix_modifier(doc, denial, modifier_rules)
    # Re-validate: model_copy skips validation, and a corrected claim must still be well formed.
    document = ClaimDocument.model_validate(fixed.model_dump())
    new_original = decision.new_original_claim or NEW_ORIGINAL_RARC in denial.rarcs
    if new_original:
        changes.append(f"{NEW_ORIGINAL_RARC}: send as a new original claim, not a replacement")
    return AutoFixResult(document=document, kind=kind, changes=changes, new_original=new_original)
