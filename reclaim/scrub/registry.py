"""The scrubber's edits, by name. A rule is a small function of the claim and the context that
yields issues; payers.toml says which rules each payer runs."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from reclaim.claims.schemas import ClaimDocument
from reclaim.scrub.models import Issue, ScrubContext

Rule = Callable[[ClaimDocument, ScrubContext], Iterator[Issue]]

RULES: dict[str, Rule] = {}


def rule(name: str) -> Callable[[Rule], Rule]:
    def register(function: Rule) -> Rule:
        if name in RULES:
            raise ValueError(f"scrub rule {name!r} is registered twice")
        RULES[name] = function
        return function

    return register
