"""What one step of the claim workflow decides: send the claim again, or stop.

Kept out of workflows/claim.py and imported passed through the sandbox: the sandbox runs the
workflow's own module again for every workflow run, and building these dataclasses there cost
more than the rest of that module.
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts.enums import ClaimStatus


@dataclass
class Resubmit:
    frequency_code: str
    original_reference: str | None
    note: str


@dataclass
class Final:
    status: ClaimStatus
    note: str


Next = Resubmit | Final
