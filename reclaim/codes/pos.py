"""Place-of-service codes (CMS, public domain) with our labels, the facility/non-facility split of
the physician fee schedule, and which places a procedure range belongs to."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources

TELEHEALTH = frozenset({"02", "10"})


@dataclass(frozen=True, slots=True)
class PlaceOfService:
    code: str
    label: str
    facility: bool


@dataclass(frozen=True, slots=True)
class ProcedurePlaces:
    first: str
    last: str
    allowed: frozenset[str]
    label: str

    def covers(self, procedure: str) -> bool:
        return len(procedure) == len(self.first) and self.first <= procedure <= self.last


def lookup(code: str) -> PlaceOfService | None:
    return _places().get(code)


def is_valid(code: str) -> bool:
    return code in _places()


def is_facility(code: str) -> bool:
    found = _places().get(code)
    if found is None:
        raise ValueError(f"unknown place of service {code!r}")
    return found.facility


def rule_for(procedure: str) -> ProcedurePlaces | None:
    """The place-of-service rule a procedure falls under, if any."""
    return next((rule for rule in _procedure_rules() if rule.covers(procedure)), None)


def _rows(name: str) -> Iterator[dict[str, str]]:
    text = resources.files("reclaim.codes").joinpath(f"data/{name}").read_text("utf-8")
    return csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))


@cache
def _places() -> dict[str, PlaceOfService]:
    return {
        row["code"]: PlaceOfService(row["code"], row["label"], row["facility"] == "1")
        for row in _rows("place_of_service.csv")
    }


@cache
def _procedure_rules() -> tuple[ProcedurePlaces, ...]:
    rules = tuple(
        ProcedurePlaces(row["first"], row["last"], frozenset(row["allowed"].split()), row["label"])
        for row in _rows("pos_procedure_rules.csv")
    )
    unknown = {code for rule in rules for code in rule.allowed} - _places().keys()
    if unknown:
        raise ValueError(f"pos_procedure_rules.csv names unknown places of service {unknown}")
    return rules
