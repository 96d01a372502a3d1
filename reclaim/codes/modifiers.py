"""Procedure modifiers: 2 letters or digits. The table (data/modifiers.csv) has the common ones
with our own labels and a kind saying what a modifier does to a claim."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal, get_args

ModifierKind = Literal["pricing", "ncci", "anatomic", "telehealth", "liability", "info"]
_KINDS: dict[str, ModifierKind] = {kind: kind for kind in get_args(ModifierKind)}
_SHAPE = re.compile(r"^[A-Z0-9]{2}$")

X_MODIFIERS = frozenset({"XE", "XP", "XS", "XU"})
TELEHEALTH = frozenset({"95", "93", "FQ", "GT"})


@dataclass(frozen=True, slots=True)
class Modifier:
    code: str
    kind: ModifierKind
    label: str


def is_well_formed(code: str) -> bool:
    return bool(_SHAPE.match(code))


def lookup(code: str) -> Modifier | None:
    return _table().get(code)


def label(code: str) -> str | None:
    found = _table().get(code)
    return found.label if found else None


def separates_ncci_pair(code: str) -> bool:
    """An NCCI-associated modifier (59, X{EPSU}, 25, 91, …) that may let a pair be billed."""
    found = _table().get(code)
    return found is not None and found.kind == "ncci"


def is_anatomic(code: str) -> bool:
    found = _table().get(code)
    return found is not None and found.kind == "anatomic"


@cache
def _table() -> dict[str, Modifier]:
    text = resources.files("reclaim.codes").joinpath("data/modifiers.csv").read_text("utf-8")
    table: dict[str, Modifier] = {}
    for row in csv.DictReader(line for line in text.splitlines() if not line.startswith("#")):
        kind = _KINDS.get(row["kind"])
        if kind is None or not is_well_formed(row["code"]):
            raise ValueError(f"modifiers.csv: bad row {row}")
        table[row["code"]] = Modifier(row["code"], kind, row["label"])
    return table
