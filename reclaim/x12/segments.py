"""Segment writing shared by every X12 writer: elements, components, amounts, the envelope.

Data never breaks a file: a delimiter or a character outside the X12 extended set found in a value
is replaced with a space, and trailing empty elements and components are dropped (pyx12 flags a
trailing element terminator).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from reclaim.x12.common import DEFAULT_DELIMITERS, Delimiters
from reclaim.x12.models import Envelope

Component = str | None
Element = str | Sequence[Component] | None

# The 5010 extended character set (X12.6), less nothing: delimiters are removed separately.
_OUTSIDE_CHARSET = re.compile(r"""[^A-Za-z0-9!"&'()*+,\-./:;?= %~@\[\]_{}\\|<>^`#$]""")
_SPACES = re.compile(r" {2,}")
_ISA_ID_WIDTH = 15


def clean(value: str, *, delimiters: Delimiters = DEFAULT_DELIMITERS) -> str:
    """The value as safe X12 data: ASCII, no delimiter, no control character, single spaces."""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    text = _OUTSIDE_CHARSET.sub(" ", ascii_text)
    for delimiter in delimiters.all():
        text = text.replace(delimiter, " ")
    return _SPACES.sub(" ", text).strip()


def clip(value: str, max_length: int) -> str:
    """Cut a free-text value (a name, a street) to the element's maximum length."""
    return value[:max_length].rstrip()


def amount(value: Decimal) -> str:
    """An X12 R value: no exponent, no trailing zeros (150.00 -> 150, 150.50 -> 150.5)."""
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def d8(value: date) -> str:
    return value.strftime("%Y%m%d")


def rd8(start: date, end: date) -> str:
    return f"{d8(start)}-{d8(end)}"


def _trim(items: list[str]) -> list[str]:
    while items and not items[-1]:
        items.pop()
    return items


def _element(value: Element, delimiters: Delimiters) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return clean(value, delimiters=delimiters)
    components = _trim([clean(c, delimiters=delimiters) if c else "" for c in value])
    return delimiters.component.join(components)


def render(seg_id: str, elements: Sequence[Element], delimiters: Delimiters) -> str:
    """One segment without its terminator, e.g. `SV1*HC:99214:25*150*UN*1***1:2`."""
    values = _trim([_element(e, delimiters) for e in elements])
    return delimiters.element.join([seg_id, *values])


class SegmentWriter:
    """Collects the segments of one transaction set body (between ST and SE)."""

    def __init__(self, delimiters: Delimiters = DEFAULT_DELIMITERS) -> None:
        self.delimiters = delimiters
        self.segments: list[str] = []

    def add(self, seg_id: str, *elements: Element) -> None:
        self.segments.append(render(seg_id, elements, self.delimiters))


def _isa_id(value: str, field: str, delimiters: Delimiters) -> str:
    text = clean(value, delimiters=delimiters)
    if not text or len(text) > _ISA_ID_WIDTH:
        raise ValueError(f"envelope {field} must be 1-{_ISA_ID_WIDTH} characters: {value!r}")
    return text.ljust(_ISA_ID_WIDTH)


def _isa(envelope: Envelope, delimiters: Delimiters) -> str:
    fields = [
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        envelope.sender_qualifier,
        _isa_id(envelope.sender_id, "sender_id", delimiters),
        envelope.receiver_qualifier,
        _isa_id(envelope.receiver_id, "receiver_id", delimiters),
        envelope.created.strftime("%y%m%d"),
        envelope.created.strftime("%H%M"),
        delimiters.repetition,
        "00501",
        f"{envelope.interchange_control_number:09d}",
        "0",
        envelope.usage,
        delimiters.component,
    ]
    return delimiters.element.join(fields)


def _check_delimiters(delimiters: Delimiters) -> None:
    chosen = [delimiters.segment, delimiters.element, delimiters.component, delimiters.repetition]
    if any(len(d) != 1 for d in chosen) or len(set(chosen)) != len(chosen):
        raise ValueError(f"delimiters must be four distinct single characters: {chosen}")
    if any(d.isalnum() or d == " " for d in chosen):
        raise ValueError(f"delimiters cannot be letters, digits or spaces: {chosen}")


def _control_number(value: str, delimiters: Delimiters) -> str:
    text = clean(value, delimiters=delimiters)
    if not 4 <= len(text) <= 9:
        raise ValueError(f"transaction_control_number must be 4-9 characters: {value!r}")
    return text


def interchange(
    *,
    envelope: Envelope,
    functional_id: str,
    implementation: str,
    transaction_set_id: str,
    body: Sequence[str],
    delimiters: Delimiters = DEFAULT_DELIMITERS,
    implementation_in_st: bool = True,
) -> str:
    """A whole file: ISA/GS/ST, the body segments, SE/GE/IEA with their counts.

    One interchange, one group, one transaction set: SE01 counts ST and SE too, GE01 = 1 set,
    IEA01 = 1 group. `implementation_in_st` is False for the 835, whose guide does not use ST03.
    """
    _check_delimiters(delimiters)
    st02 = _control_number(envelope.transaction_control_number, delimiters)
    created: datetime = envelope.created
    gs = render(
        "GS",
        [
            functional_id,
            envelope.application_sender or envelope.sender_id,
            envelope.application_receiver or envelope.receiver_id,
            created.strftime("%Y%m%d"),
            created.strftime("%H%M"),
            str(envelope.group_control_number),
            "X",
            implementation,
        ],
        delimiters,
    )
    st = render(
        "ST",
        [transaction_set_id, st02, implementation if implementation_in_st else None],
        delimiters,
    )
    se = render("SE", [str(len(body) + 2), st02], delimiters)
    ge = render("GE", ["1", str(envelope.group_control_number)], delimiters)
    iea = render("IEA", ["1", f"{envelope.interchange_control_number:09d}"], delimiters)
    segments = [_isa(envelope, delimiters), gs, st, *body, se, ge, iea]
    # No line breaks between segments: readers report them as a deviation worth a warning.
    return "".join(segment + delimiters.segment for segment in segments)
