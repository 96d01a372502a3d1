"""The claim scrubber: catch what a payer would deny before the claim leaves.

ctx = ScrubContext(payer=load_payer_rules(doc.payer_id), today=date.today(), edits=edits)
findings = scrub(doc, ctx=ctx)
"""

from contracts.messages import Finding
from reclaim.scrub.engine import has_errors, scrub
from reclaim.scrub.models import PayerRules, ScrubContext
from reclaim.scrub.payer_rules import known_payers, load_payer_rules
from reclaim.scrub.registry import RULES

__all__ = [
    "RULES",
    "Finding",
    "PayerRules",
    "ScrubContext",
    "has_errors",
    "known_payers",
    "load_payer_rules",
    "scrub",
]
