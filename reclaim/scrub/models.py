"""What the scrubber returns and what it needs to run."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Literal, NamedTuple, NotRequired

from pydantic import BaseModel, ConfigDict, Field, field_validator
from typing_extensions import TypedDict

from reclaim.claims.schemas import ClaimDocument
from reclaim.codes.hcpcs import HcpcsCodeSet, common_codes
from reclaim.codes.ncci import CodeEdits

Severity = Literal["error", "warning"]


class Issue(NamedTuple):
    """What a rule yields; the engine adds the rule's name and the payer's severity."""

    severity: Severity
    field: str
    message: str


def error(field: str, message: str) -> Issue:
    return Issue("error", field, message)


def warning(field: str, message: str) -> Issue:
    return Issue("warning", field, message)


class RequiredModifier(TypedDict):
    """A payer wants `modifier` on `procedure` (in place of any modifier in `replaces`)."""

    procedure: str
    modifier: str
    replaces: NotRequired[list[str]]


class PayerRules(BaseModel):
    """A payer's scrubbing rules, from payers.toml."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    payer_id: str
    name: str
    timely_filing_days: int = Field(gt=0)
    filing_warning_days: int = Field(default=14, ge=0)
    max_attempts: int = Field(ge=1)
    member_id_pattern: str
    member_id_hint: str
    em_modifier_25: bool = True
    rejected_modifiers: dict[str, str] = Field(default_factory=dict)
    modifier_rules: list[RequiredModifier] = Field(default_factory=list)
    appeal_window_days: int = Field(default=120, gt=0)
    corrected_claim_window_days: int = Field(default=90, gt=0)
    edits: tuple[str, ...]
    warn_only: frozenset[str] = frozenset()

    @field_validator("member_id_pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(
                f"member_id_pattern {value!r} is not a regular expression: {exc}"
            ) from exc
        return value

    @cached_property
    def member_id_regex(self) -> re.Pattern[str]:
        return re.compile(self.member_id_pattern)


class DirectoryEntry(NamedTuple):
    """A provider of the practice's directory, as the `provider_directory` edit reads it."""

    npi: str
    name: str
    billing_npi: str | None
    active_from: date | None
    active_to: date | None


@dataclass(frozen=True, kw_only=True)
class ScrubContext:
    payer: PayerRules
    today: date
    edits: CodeEdits
    is_duplicate: Callable[[ClaimDocument], bool] | None = None
    hcpcs: HcpcsCodeSet = field(default_factory=common_codes)
    # The practice's provider directory by NPI; None while the practice has entered none.
    directory: Callable[[str], DirectoryEntry | None] | None = None
