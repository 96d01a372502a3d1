"""CPT codes: format only. The AMA owns the descriptions, so Reclaim ships none.

Category I codes are 5 digits (99214), or 4 digits and A for vaccine administration (0001A);
Category II end in F (1234F), Category III in T (0042T), proprietary lab analyses in U (0001U),
multianalyte assays in M (0002M).
"""

from __future__ import annotations

import re
from typing import Literal

CptCategory = Literal["I", "II", "III", "PLA", "MAAA"]

_CPT = re.compile(r"^[0-9]{4}[0-9AFTUM]$")
_CATEGORY_BY_SUFFIX: dict[str, CptCategory] = {"F": "II", "T": "III", "U": "PLA", "M": "MAAA"}


def is_cpt(code: str) -> bool:
    return bool(_CPT.match(code))


def category(code: str) -> CptCategory | None:
    if not is_cpt(code):
        return None
    return _CATEGORY_BY_SUFFIX.get(code[4], "I")


def in_range(code: str, first: str, last: str) -> bool:
    """Whether a Category I code lies in an inclusive numeric range such as 99202-99215."""
    return len(code) == 5 and code.isdigit() and first <= code <= last


def is_evaluation_and_management(code: str) -> bool:
    return in_range(code, "99202", "99499")


# Surgery (10004-69990) plus the medicine-section procedures payers bundle with a same-day visit:
# injections and infusions, and wound care.
_PROCEDURE_RANGES = (("10004", "69990"), ("96360", "96549"), ("97597", "97610"))


def is_procedure(code: str) -> bool:
    """A procedure that makes a same-day E/M visit need modifier 25."""
    return any(in_range(code, first, last) for first, last in _PROCEDURE_RANGES)


def is_lab(code: str) -> bool:
    return in_range(code, "80047", "89398") or category(code) in ("PLA", "MAAA")
