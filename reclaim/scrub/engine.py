"""Run a payer's edits over a claim document."""

from __future__ import annotations

import reclaim.scrub.rules  # noqa: F401  (registers every rule)
from contracts.messages import Finding
from reclaim.claims.schemas import ClaimDocument
from reclaim.scrub.models import ScrubContext
from reclaim.scrub.registry import RULES


def scrub(doc: ClaimDocument, *, ctx: ScrubContext) -> list[Finding]:
    """Every finding of the payer's edits, errors and warnings, in the order payers.toml lists
    the edits."""
    payer = ctx.payer
    findings: list[Finding] = []
    for name in payer.edits:
        demote = name in payer.warn_only
        for issue in RULES[name](doc, ctx):
            findings.append(
                Finding(
                    rule=name,
                    severity="warning" if demote else issue.severity,
                    field=issue.field,
                    message=issue.message,
                )
            )
    return findings


def has_errors(findings: list[Finding]) -> bool:
    return any(finding.severity == "error" for finding in findings)
