"""ICD-10-CM diagnoses through the `simple-icd-10-cm` package (public-domain CMS code set).

The package ships one release: the April 2026 update of FY2026, in effect for dates of service
2026-04-01 to 2026-09-30. ICD-10-CM changes every 1 October (and sometimes 1 April), so for a date
of service outside that window we can only say what the installed release says:
- a code that has children here (E11) was never billable and will not become so: always an error;
- a code missing here may be new in a later release: `is_billable` answers `None` ("cannot tell").
A newer release can be installed with `use_release`.
"""

from __future__ import annotations

import csv
import re
import warnings
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from importlib import resources
from types import ModuleType
from typing import Literal

SexLimit = Literal["F", "M"]

_CODE_SHAPE = re.compile(r"^[A-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4})?$")
_MANIFESTATION = re.compile(r"\bin (?:other )?(?:diseases|conditions) classified elsewhere", re.I)


@dataclass(frozen=True, slots=True)
class CodeSetRelease:
    name: str
    effective_from: date
    effective_through: date

    def covers(self, on: date) -> bool:
        return self.effective_from <= on <= self.effective_through


@dataclass(frozen=True, slots=True)
class Restriction:
    """A sex- or age-specific range from data/icd10_sex_age.csv."""

    first: str
    last: str
    sex: SexLimit | None
    min_age: int | None
    max_age: int | None
    label: str

    def matches(self, code: str) -> bool:
        return code[: len(self.first)] >= self.first and code[: len(self.last)] <= self.last


@dataclass(frozen=True, slots=True)
class IcdCode:
    code: str
    description: str
    billable: bool
    category: str
    kind: Literal["category", "subcategory"]
    manifestation: bool
    external_cause: bool
    restrictions: tuple[Restriction, ...]


RELEASE = CodeSetRelease("ICD-10-CM April 2026", date(2026, 4, 1), date(2026, 9, 30))
_release = RELEASE


@cache
def _lib() -> ModuleType:
    # Importing the package parses a 10 MB XML file (about 2 s): only when a code is looked up.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # its importlib.resources calls
        import simple_icd_10_cm

    library: ModuleType = simple_icd_10_cm
    return library


def preload() -> None:
    """Load the code set now (the worker's start-up) rather than on the first claim scrubbed."""
    _lib()


def release() -> CodeSetRelease:
    """The ICD-10-CM release codes are checked against."""
    return _release


def use_release(*, codes_path: str, tabular_path: str, release: CodeSetRelease) -> None:
    """Check codes against another CMS release (its code list and tabular XML files)."""
    global _release
    _lib().change_version(
        all_codes_file_path=codes_path, classification_data_file_path=tabular_path
    )
    _release = release
    lookup.cache_clear()


def normalise(code: str) -> str:
    """`e119` and `E11.9` both become `E11.9`; anything not shaped like a code is returned upper."""
    code = code.strip().upper()
    if len(code) > 3 and code[3] != "." and _CODE_SHAPE.match(code):
        return f"{code[:3]}.{code[3:]}"
    return code


@lru_cache(maxsize=65536)
def lookup(code: str) -> IcdCode | None:
    """The code as the installed release knows it, or None. Chapters and blocks (E08-E13) are not
    codes and give None."""
    code = normalise(code)
    if not _CODE_SHAPE.match(code):
        return None
    lib = _lib()
    if not lib.is_valid_item(code) or not lib.is_category_or_subcategory(code):
        return None
    bare = code.replace(".", "")
    return IcdCode(
        code=code,
        description=lib.get_description(code),
        billable=lib.is_leaf(code),
        category=code[:3],
        kind="category" if lib.is_category(code) else "subcategory",
        manifestation=_is_manifestation(code),
        external_cause="V00" <= bare[:3] <= "Y99",
        restrictions=tuple(r for r in _restrictions() if r.matches(bare)),
    )


def all_codes() -> list[str]:
    """Every category and subcategory of the release, with dots (E11, E11.9, ...)."""
    lib = _lib()
    return [c for c in lib.get_all_codes(with_dots=True) if lib.is_category_or_subcategory(c)]


def is_well_formed(code: str) -> bool:
    """Shaped like an ICD-10-CM code (a letter, a digit, a character, then up to 4 after a dot)."""
    return bool(_CODE_SHAPE.match(normalise(code)))


def is_valid(code: str) -> bool:
    return lookup(code) is not None


def is_billable(code: str, *, on: date) -> bool | None:
    """Whether the code is billable for a date of service; None when the installed release cannot
    tell (the code is unknown here and the date lies outside the release's window)."""
    found = lookup(code)
    if found is not None:
        # A code with children stays non-billable; a leaf may be split or new in other releases.
        if not found.billable or _release.covers(on):
            return found.billable
        return None
    return False if _release.covers(on) else None


def description(code: str) -> str | None:
    found = lookup(code)
    return found.description if found else None


def category(code: str) -> str | None:
    found = lookup(code)
    return found.category if found else None


@lru_cache(maxsize=4096)
def suggest_billable(code: str) -> str | None:
    """A billable code under `code` to offer a coder: the shortest leaf, preferring an unspecified
    `.9`-style one (E11 → E11.9, S52.521 → S52.521A)."""
    found = lookup(code)
    if found is None or found.billable:
        return None
    leaves = [str(c) for c in _lib().get_descendants(found.code) if _lib().is_leaf(c)]
    if not leaves:
        return None
    shortest = min(len(c) for c in leaves)
    candidates = [c for c in leaves if len(c) == shortest]
    return next((c for c in candidates if c.endswith("9")), candidates[0])


def age_on(birth_date: date, on: date) -> int:
    """Whole years of age on a date (negative if `on` precedes the birth)."""
    years = on.year - birth_date.year
    if (on.month, on.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def _is_manifestation(code: str) -> bool:
    lib = _lib()
    node = code
    while True:
        if _MANIFESTATION.search(lib.get_description(node)):
            return True
        if len(node) <= 3:  # the category; above it are blocks, whose names may repeat it
            return False
        node = lib.get_parent(node)


@cache
def _restrictions() -> tuple[Restriction, ...]:
    text = resources.files("reclaim.codes").joinpath("data/icd10_sex_age.csv").read_text("utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return tuple(
        Restriction(
            first=row["first"],
            last=row["last"],
            sex=_sex(row["sex"]),
            min_age=int(row["min_age"]) if row["min_age"] else None,
            max_age=int(row["max_age"]) if row["max_age"] else None,
            label=row["label"],
        )
        for row in rows
    )


def _sex(value: str) -> SexLimit | None:
    if value == "F":
        return "F"
    if value == "M":
        return "M"
    if value:
        raise ValueError(f"icd10_sex_age.csv: sex must be F, M or empty, not {value!r}")
    return None
