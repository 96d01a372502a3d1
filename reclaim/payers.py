"""A payer's business terms the claim's timers and routing read: one source, the payer rule sets
of reclaim/scrub/payers.toml (timely filing, attempts, windows, modifier rules)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import BaseModel

from reclaim.denials.autofix import ModifierRule
from reclaim.scrub.payer_rules import load_payer_rules


class PayerTerms(BaseModel):
    payer_id: str
    name: str
    timely_filing_days: int
    max_attempts: int
    appeal_window_days: int
    corrected_claim_window_days: int


@lru_cache(maxsize=256)
def terms_for(payer_id: str) -> PayerTerms:
    rules = load_payer_rules(payer_id)
    return PayerTerms(
        payer_id=payer_id,
        name=getattr(rules, "name", None) or payer_id,
        timely_filing_days=rules.timely_filing_days,
        max_attempts=getattr(rules, "max_attempts", 3),
        appeal_window_days=getattr(rules, "appeal_window_days", 120),
        corrected_claim_window_days=getattr(rules, "corrected_claim_window_days", 90),
    )


def modifier_rules(payer_id: str) -> list[ModifierRule]:
    rules = load_payer_rules(payer_id)
    return [
        ModifierRule(payer_id=payer_id, procedure=r["procedure"], modifier=r["modifier"],
                     replaces=list(r.get("replaces", [])))
        for r in getattr(rules, "modifier_rules", []) or []
    ]
