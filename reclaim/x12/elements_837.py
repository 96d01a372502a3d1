"""The elements of one 837 segment as the claim document keeps them: ICD-10 codes with their dot,
procedure codes split by the component separator, dates, diagnosis pointers. Each raises the
segment's X12Error naming the element (reclaim/x12/read_837_claims.py reads the claims)."""

from __future__ import annotations

from reclaim.x12.segment import Segment, parse_date


def with_dot(code: str) -> str:
    code = code.replace(".", "").strip().upper()
    return f"{code[:3]}.{code[3:]}" if len(code) > 3 else code


def procedure_code(segment: Segment, position: int, delimiter: str) -> str:
    found = segment.value(position, 2)
    whole = segment.value(position)
    if not found and any(not ch.isalnum() for ch in whole):
        raise segment.error(f"{segment.id}{position:02d} {whole[:20]!r} is not split by the "
                            f"component separator {delimiter!r} that ISA16 declares", position)
    return segment.required(position, 2, what="procedure code")


def segment_date(segment: Segment, position: int) -> str:
    text = segment.required(position, what="date")
    if segment.value(position - 1) == "DT":
        text = text[:8]  # CCYYMMDDHHMM: the day is what the claim document keeps
    return parse_date_or_error(segment, text)


def parse_date_or_error(segment: Segment, text: str) -> str:
    try:
        return parse_date(text).isoformat()
    except ValueError:
        raise segment.error(f"{segment.id}03 is not a valid date ({text[:20]!r})", 3) from None


def diagnosis_pointers(segment: Segment, position: int) -> list[int]:
    pointers = []
    for part in segment.components(position):
        if not part:
            continue
        if not part.isdigit() or len(part) > 2:
            raise segment.error(f"{segment.id}{position:02d} diagnosis pointer {part!r} is not a "
                                "number", position)
        pointers.append(int(part))
    return pointers or [1]
