"""A segment as the readers see it: elements over pyx12's parsed composites, and the value
parsing every reader shares (numbers, amounts, dates, digit strings), each error naming its
segment and element."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache

import pyx12.errors
import pyx12.rawx12file
import pyx12.segment

from reclaim.x12.common import X12Error

_NUMBER = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)")
# str.isdigit() also accepts '²' and other Unicode digits that int() refuses: ASCII only.
DIGITS = re.compile(r"[0-9]+")
# Amounts are stored as NUMERIC(12, 2); no remittance line comes near ten billion dollars.
MAX_AMOUNT = Decimal("9999999999.99")


@dataclass(slots=True)
class Segment:
    """One segment over pyx12's parsed composites: `raw[0]` is element 01. Values are read from
    them when asked for (most segments are asked for two or three), never copied up front.
    Read-only by convention (not frozen: a frozen dataclass costs more to build, and a file has
    tens of thousands of segments)."""

    index: int
    id: str
    raw: list[pyx12.segment.Composite]

    @property
    def elements(self) -> tuple[tuple[str, ...], ...]:
        """Every element's components, as pyx12 split them."""
        return tuple(tuple(part.value for part in comp.elements) for comp in self.raw)

    def value(self, position: int, component: int = 1) -> str:
        raw = self.raw
        if position > len(raw):
            return ""
        parts = raw[position - 1].elements
        return parts[component - 1].value.strip() if component <= len(parts) else ""

    def components(self, position: int) -> tuple[str, ...]:
        if position > len(self.raw):
            return ()
        return tuple(part.value.strip() for part in self.raw[position - 1].elements)

    def error(self, message: str, position: int | None = None) -> X12Error:
        element = f"{position:02d}" if position is not None else None
        return X12Error(message, segment_index=self.index, segment_id=self.id, element=element)

    def required(self, position: int, component: int = 1, *, what: str = "") -> str:
        found = self.value(position, component)
        if not found:
            name = f"{self.id}{position:02d}" + (f"-{component}" if component > 1 else "")
            raise self.error(f"required element {name}{f' ({what})' if what else ''} is missing",
                             position)
        return found

    def limited(self, position: int, max_length: int, *, component: int = 1, what: str = "",
                required: bool = False) -> str:
        """An element the implementation guide caps at `max_length` (we store it or send it back):
        longer is refused rather than cut, since a cut identifier can match the wrong claim."""
        found = (self.required(position, component, what=what) if required
                 else self.value(position, component))
        if len(found) > max_length:
            name = f"{self.id}{position:02d}" + (f"-{component}" if component > 1 else "")
            raise self.error(f"{name}{f' ({what})' if what else ''} has {len(found)} characters; "
                             f"X12 allows at most {max_length}", position)
        return found

    def amount(self, position: int, *, what: str = "", stored: bool = False) -> Decimal:
        """`stored`: the amount goes into a NUMERIC(12, 2) column, so it must fit one."""
        value = _to_decimal(self, position, self.required(position, what=what))
        return _in_range(self, position, value) if stored else value

    def optional_amount(self, position: int, *, stored: bool = False) -> Decimal | None:
        found = self.value(position)
        if not found:
            return None
        value = _to_decimal(self, position, found)
        return _in_range(self, position, value) if stored else value


def _to_decimal(segment: Segment, position: int, text: str) -> Decimal:
    value = _number(text) if len(text) <= 18 else None  # X12 type R is at most 18 characters
    if value is None:
        raise segment.error(f"{segment.id}{position:02d} is not a number: {text[:30]!r}",
                            position)
    return value


@lru_cache(maxsize=4096)
def _number(text: str) -> Decimal | None:
    """Amounts repeat throughout a remittance (Decimal is immutable, so one is shared)."""
    return Decimal(text) if _NUMBER.fullmatch(text) else None


def _in_range(segment: Segment, position: int, value: Decimal) -> Decimal:
    if abs(value) > MAX_AMOUNT:
        raise segment.error(f"{segment.id}{position:02d} amount {value} is out of range "
                            f"(at most {MAX_AMOUNT})", position)
    return value


def is_digits(text: str, *, max_length: int) -> bool:
    """ASCII digits only, at most `max_length` of them (X12 type N0)."""
    return len(text) <= max_length and DIGITS.fullmatch(text) is not None


def parse_date(text: str) -> date:
    """CCYYMMDD, or the start of a CCYYMMDD-CCYYMMDD range (RD8)."""
    # A remittance repeats a handful of dates thousands of times (an RD8 range is 17 long).
    return _cached_date(text) if len(text) <= 17 else _date_from(text)


def _date_from(text: str) -> date:
    start = text.split("-", 1)[0].strip()
    if len(start) != 8 or not DIGITS.fullmatch(start):
        raise ValueError(f"not a CCYYMMDD date: {text!r}")
    return date(int(start[:4]), int(start[4:6]), int(start[6:]))


_cached_date = lru_cache(maxsize=1024)(_date_from)
