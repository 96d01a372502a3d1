"""Claim documents for scrubber tests: the DESIGN.md claim, changed one path at a time."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from datetime import date
from typing import Any

from reclaim.claims.schemas import ClaimDocument
from reclaim.codes.ncci import sample_edits
from reclaim.scrub import Finding, ScrubContext, load_payer_rules, scrub
from reclaim.scrub.models import DirectoryEntry
from tests.support import design_claim

TODAY = date(2026, 11, 27)

DESIGN_CLAIM: dict[str, Any] = design_claim()

_STEP = re.compile(r"([a-z_]+)(?:\[(\d+)\])?")


def set_path(doc: dict[str, Any], path: str, value: Any) -> None:
    """Set a value at a finding-style path such as `lines[0].modifiers`."""
    steps = [(m.group(1), m.group(2)) for m in _STEP.finditer(path)]
    target: Any = doc
    for i, (key, index) in enumerate(steps):
        last = i == len(steps) - 1
        if index is None:
            if last:
                target[key] = value
            else:
                target = target[key]
        else:
            items = target[key]
            while len(items) <= int(index):
                items.append(copy.deepcopy(items[-1]))
            if last:
                items[int(index)] = value
            else:
                target = items[int(index)]


def claim(changes: dict[str, Any] | None = None) -> dict[str, Any]:
    doc = copy.deepcopy(DESIGN_CLAIM)
    for path, value in (changes or {}).items():
        set_path(doc, path, value)
    return doc


def run(
    doc: dict[str, Any],
    *,
    today: date = TODAY,
    is_duplicate: Callable[[ClaimDocument], bool] | None = None,
    directory: Callable[[str], DirectoryEntry | None] | None = None,
) -> list[Finding]:
    document = ClaimDocument.model_validate(doc)
    ctx = ScrubContext(
        payer=load_payer_rules(document.payer_id),
        today=today,
        edits=sample_edits(),
        is_duplicate=is_duplicate,
        directory=directory,
    )
    return scrub(document, ctx=ctx)
