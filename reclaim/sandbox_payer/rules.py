"""The payer rules file (rules.toml, documented in RULES.md): loading and validation."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

Percent = Annotated[Decimal, Field(ge=0, le=100)]
Group = Literal["CO", "PR", "OA", "PI"]
BYPASS_MODIFIERS = frozenset({"59", "XE", "XS", "XP", "XU"})


class RulesError(ValueError):
    """A rules file that cannot be used; the message names the file and the key."""


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _code(value: str) -> str:
    return value.replace(".", "").upper()


class BundledPair(_Rule):
    column1: str = Field(min_length=1)
    column2: str = Field(min_length=1)

    @field_validator("column1", "column2")
    @classmethod
    def _upper(cls, value: str) -> str:
        return _code(value)


class DiagnosisRequirement(_Rule):
    procedure: str = Field(min_length=1)
    diagnoses: list[str] = Field(min_length=1)  # prefixes, without dots

    @field_validator("procedure")
    @classmethod
    def _procedure(cls, value: str) -> str:
        return _code(value)

    @field_validator("diagnoses")
    @classmethod
    def _diagnoses(cls, value: list[str]) -> list[str]:
        return [_code(d) for d in value]


class Denial(_Rule):
    """An adjustment the payer applies to a whole claim: group, CARC and an optional RARC."""

    group: Group = "CO"
    reason: str = Field(min_length=1, max_length=5)
    remark: str | None = Field(default=None, max_length=5)
    note: str = ""


class IneligibleMember(Denial):
    member_id: str = Field(min_length=1)


class WeightedDenial(Denial):
    weight: int = Field(gt=0)


class AdjudicationRules(_Rule):
    id: str
    name: str = Field(min_length=1, max_length=60)
    tax_id: str = Field(pattern=r"^\d{9}$")
    timely_filing_days: int = Field(gt=0)
    filing_indicator: str = Field(default="CI", min_length=2, max_length=2)
    institutional_filing_indicator: str | None = Field(default=None, min_length=2, max_length=2)
    fee_schedule: dict[str, Decimal] = Field(default_factory=dict)
    default_allowed_percent: Percent = Decimal(100)
    coinsurance_percent: Percent = Decimal(0)
    random_denial_percent: Percent = Decimal(0)
    bundled_pairs: list[BundledPair] = Field(default_factory=list)
    diagnosis_requirements: list[DiagnosisRequirement] = Field(default_factory=list)
    ineligible_members: list[IneligibleMember] = Field(default_factory=list)
    random_denials: list[WeightedDenial] = Field(default_factory=list)

    @field_validator("fee_schedule")
    @classmethod
    def _fees(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        for code, fee in value.items():
            if fee < 0:
                raise ValueError(f"fee for {code} is negative")
        return {_code(code): fee.quantize(Decimal("0.01")) for code, fee in value.items()}

    @model_validator(mode="after")
    def _denials_when_random(self) -> AdjudicationRules:
        if self.random_denial_percent > 0 and not self.random_denials:
            raise ValueError("random_denial_percent > 0 needs a random_denials list")
        return self

    def filing_indicator_for(self, claim_type: str) -> str:
        if claim_type == "institutional" and self.institutional_filing_indicator:
            return self.institutional_filing_indicator
        return self.filing_indicator

    def ineligible(self, member_id: str) -> IneligibleMember | None:
        return next((m for m in self.ineligible_members if m.member_id == member_id), None)


class PayerRuleSet(BaseModel):
    payers: dict[str, AdjudicationRules]

    def payer(self, payer_id: str) -> AdjudicationRules | None:
        return self.payers.get(payer_id.upper())


def load_rules(path: Path) -> PayerRuleSet:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RulesError(f"{path}: cannot read the rules file: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{path}: not valid TOML: {exc}") from exc
    return parse_rules(raw, source=str(path))


def parse_rules(raw: dict[str, Any], *, source: str = "rules") -> PayerRuleSet:
    unknown = sorted(set(raw) - {"fee_schedules", "payers"})
    if unknown:
        raise RulesError(f"{source}: unknown top-level key {unknown[0]!r}")
    schedules = raw.get("fee_schedules", {})
    payers = raw.get("payers")
    if not isinstance(payers, dict) or not payers:
        raise RulesError(f"{source}: no [payers.<ID>] table")
    return PayerRuleSet(
        payers={
            payer_id.upper(): _payer(payer_id, body, schedules, source)
            for payer_id, body in payers.items()
        }
    )


def _payer(payer_id: str, body: Any, schedules: dict[str, Any], source: str) -> AdjudicationRules:
    where = f"payers.{payer_id}"
    if not isinstance(body, dict):
        raise RulesError(f"{source}: {where} must be a table")
    data = {**body, "id": payer_id.upper()}
    schedule = data.get("fee_schedule")
    if isinstance(schedule, str):
        if schedule not in schedules:
            raise RulesError(f"{source}: {where}.fee_schedule names no [fee_schedules.{schedule}]")
        data["fee_schedule"] = schedules[schedule]
    try:
        return AdjudicationRules.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in (where, *first["loc"]))
        raise RulesError(f"{source}: {key}: {first['msg']}") from exc
