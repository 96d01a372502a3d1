"""Delimiters and errors shared by every X12 writer and reader.

Delimiters live here and nowhere else: writers take a `Delimiters`, readers take them from the ISA
header of the file they read (never assumed).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Delimiters:
    segment: str = "~"
    element: str = "*"
    component: str = ":"
    repetition: str = "^"

    def all(self) -> set[str]:
        return {self.segment, self.element, self.component, self.repetition}


DEFAULT_DELIMITERS = Delimiters()


class X12Error(ValueError):
    """A file that cannot be read safely. Says what and where."""

    def __init__(
        self,
        message: str,
        *,
        segment_index: int | None = None,
        segment_id: str | None = None,
        element: str | None = None,
    ) -> None:
        self.message = message
        self.segment_index = segment_index
        self.segment_id = segment_id
        self.element = element
        where = []
        if segment_index is not None:
            where.append(f"segment {segment_index}")
        if segment_id:
            where.append(segment_id + (f"{element}" if element else ""))
        super().__init__(f"{message} ({', '.join(where)})" if where else message)

    def as_dict(self) -> dict[str, object]:
        return {
            "message": self.message,
            "segment_index": self.segment_index,
            "segment_id": self.segment_id,
            "element": self.element,
        }
