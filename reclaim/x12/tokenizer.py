"""From bytes to segments: decoding, one pyx12 `RawX12File` per interchange (each ISA declares its
own delimiters), and the lenience real payer files need: what is safe to read is read and
reported through `warn`, what is not raises `X12Error` with the 1-based segment index."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

import pyx12.errors
import pyx12.rawx12file
import pyx12.segment

from reclaim.x12.common import Delimiters, X12Error
from reclaim.x12.segment import Segment

ISA_LENGTH = 106
# Element separators sit at fixed offsets in a well-formed ISA (ISA01..ISA16 have fixed widths).
_ISA_SEPARATOR_OFFSETS = (3, 6, 17, 20, 31, 34, 50, 53, 69, 76, 81, 83, 89, 99, 101, 103)
# ISA01..ISA15 widths (ISA16, the component separator, is one character).
_ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1)
_WHITESPACE = " \t\r\n\v\f"
_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{1,2}")
_SEEN_IDS: set[str] = set()  # ids that matched _SEGMENT_ID
_LOOKS_LIKE_SEGMENT = re.compile(r"[A-Z][A-Z0-9]{1,2}[^A-Za-z0-9\s]")

Warn = Callable[[int | None, str | None, str], None]


def decode(data: str | bytes, warn: Warn) -> str:
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            warn(None, None, "file is not UTF-8; read as Latin-1")
            text = data.decode("latin-1")
    else:
        text = data
    if text.startswith("\ufeff"):
        warn(1, None, "byte-order mark before ISA ignored")
        text = text[1:]
    return text


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> str: ...


class _Slices:
    """The file's text handed out in slices, as a file would hand it out. (`io.StringIO` would
    first copy it whole, at four bytes a character.)"""

    __slots__ = ("at", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0

    def read(self, size: int = -1, /) -> str:
        start = self.at
        self.at = len(self.text) if size < 0 else min(len(self.text), start + size)
        return self.text[start:self.at]


class _Resumable:
    """A text source that first returns a pushed-back head, then the rest of the stream.

    RawX12File keeps an unconsumed buffer; after an IEA we hand that buffer back here so the next
    interchange gets a fresh RawX12File that reads its own ISA delimiters.
    """

    def __init__(self, head: str, rest: _Readable) -> None:
        self.head = head
        self.rest = rest

    def read(self, size: int = -1) -> str:
        if not self.head:
            return self.rest.read(size)
        if size < 0:
            out, self.head = self.head + self.rest.read(), ""
            return out
        out, self.head = self.head[:size], self.head[size:]
        if len(out) < size:
            out += self.rest.read(size - len(out))
        return out

    def peek(self, size: int) -> str:
        if len(self.head) < size:
            self.head += self.rest.read(size - len(self.head))
        return self.head[:size]

    def skip_whitespace(self) -> bool:
        """Drop leading whitespace; False at end of input."""
        while True:
            self.head = self.head.lstrip(_WHITESPACE)
            if self.head:
                return True
            chunk = self.rest.read(pyx12.rawx12file.DEFAULT_BUFSIZE)
            if not chunk:
                return False
            self.head = chunk


def _check_isa(header: str, index: int, first: bool) -> None:
    if not header.startswith("ISA"):
        shown = header[:20].split("\n", 1)[0]
        if first and _LOOKS_LIKE_SEGMENT.match(header):
            raise X12Error(f"no ISA interchange header: the file starts with {shown!r}",
                           segment_index=index, segment_id="ISA")
        where = "the file" if first else "data after IEA"
        raise X12Error(f"not X12: {where} does not start with an ISA header ({shown!r})",
                       segment_index=index, segment_id="ISA")
    if len(header) < ISA_LENGTH:
        raise X12Error(f"ISA header does not hold its 16 elements (ISA01-ISA16 split by "
                       f"{header[3:4]!r}): only {len(header)} characters and no ISA16 "
                       "component separator before the segment terminator",
                       segment_index=index, segment_id="ISA")
    separator = header[3]
    if any(header[offset] != separator for offset in _ISA_SEPARATOR_OFFSETS):
        raise X12Error(f"ISA header does not hold its 16 elements (ISA01-ISA16 split by "
                       f"{separator!r}) in the fixed 106-character layout, nor when read by "
                       "its delimiters",
                       segment_index=index, segment_id="ISA")


def _segment_from(line: str, index: int, delimiters: Delimiters) -> Segment:
    parsed = pyx12.segment.Segment(line, delimiters.segment, delimiters.element,
                                   delimiters.component)
    seg_id = (parsed.seg_id or "").strip()
    if seg_id not in _SEEN_IDS:
        if not _SEGMENT_ID.fullmatch(seg_id):
            raise X12Error(f"not a segment: {line[:30]!r}", segment_index=index,
                           segment_id=seg_id[:3].strip() or None)
        _SEEN_IDS.add(seg_id)  # at most 26 * 36 * 37 of them
    return Segment(index=index, id=seg_id, raw=parsed.elements)


@dataclass
class Tokenizer:
    """Yields (segment, delimiters) over every interchange of a file."""

    text: str
    warn: Warn
    index: int = 0
    _warned: set[str] = field(default_factory=set)

    def warn_once(self, key: str, index: int | None, seg_id: str | None, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            self.warn(index, seg_id, message)

    def __iter__(self) -> Iterator[tuple[Segment, Delimiters]]:
        source = _Resumable("", _Slices(self.text))
        first = True
        while source.skip_whitespace():
            self._pad_isa(source)
            _check_isa(source.peek(ISA_LENGTH), self.index + 1, first)
            if first:
                self._note_line_breaks(source.peek(ISA_LENGTH)[-1])
            first = False
            raw = self._open(source)
            delimiters = Delimiters(segment=raw.seg_term, element=raw.ele_term,
                                    component=raw.subele_term,
                                    repetition=raw.repetition_term or "^")
            yield from self._interchange(raw, delimiters)
            source = _Resumable(raw.buffer + source.head, source.rest)
        if first:
            raise X12Error("empty file: no ISA header", segment_index=1, segment_id="ISA")

    def _pad_isa(self, source: _Resumable) -> None:
        """An ISA whose ids are not padded to their fixed widths (pyx12 reads the ISA by its
        offsets) is read by its delimiters instead and handed on padded, with a warning; a
        field longer than its width cannot be read so and is named."""
        head = source.peek(ISA_LENGTH)
        if len(head) < 4 or not head.startswith("ISA"):
            return
        separator = head[3]
        if len(head) >= ISA_LENGTH and all(head[o] == separator for o in _ISA_SEPARATOR_OFFSETS):
            return
        window = source.peek(ISA_LENGTH * 2)
        ends = [3]
        while len(ends) < 16:  # after ISA and after each of ISA01..ISA15
            found = window.find(separator, ends[-1] + 1)
            if found < 0:
                return  # not an ISA at all: _check_isa says what is wrong
            ends.append(found)
        last = ends[15]
        if len(window) < last + 3:
            return
        fields = window[4:last].split(separator)
        component, terminator = window[last + 1], window[last + 2]
        if len(fields) != 15 or terminator.isalnum() or terminator in window[:last]:
            return  # not sixteen ISA elements: _check_isa says what is wrong
        padded = []
        for number, (value, width) in enumerate(zip(fields, _ISA_WIDTHS, strict=True), start=1):
            if len(value.strip()) > width or (number in (9, 10, 12) and len(value) != width):
                raise X12Error(f"ISA{number:02d} {value[:20]!r} does not fit its fixed width "
                               f"of {width} characters", segment_index=self.index + 1,
                               segment_id="ISA", element=f"{number:02d}")
            value = value.strip()
            padded.append(value.zfill(width) if number == 13 else value.ljust(width))
        rebuilt = separator.join(["ISA", *padded, component]) + terminator
        source.head = rebuilt + source.head[last + 3:]
        self.warn_once("isa-padding", self.index + 1, "ISA",
                       "ISA is not padded to its fixed width; read by its delimiters")

    def _open(self, source: _Resumable) -> pyx12.rawx12file.RawX12File:
        try:
            return pyx12.rawx12file.RawX12File(source)
        except pyx12.errors.X12Error as exc:
            raise X12Error(str(exc), segment_index=self.index + 1, segment_id="ISA") from exc

    def _note_line_breaks(self, terminator: str) -> None:
        if terminator in "\r\n":
            return
        breaks = [p for p in (self.text.find("\n"), self.text.find("\r")) if p >= 0]
        if breaks:
            before = self.text.count(terminator, 0, min(breaks))
            self.warn(before or None, None, "line breaks between segments ignored")

    def _interchange(
        self, raw: pyx12.rawx12file.RawX12File, delimiters: Delimiters
    ) -> Iterator[tuple[Segment, Delimiters]]:
        strip = "".join(c for c in _WHITESPACE if c not in delimiters.all())
        while True:
            for line in raw:
                segment = self._next(line, strip, delimiters)
                if segment is None:
                    continue
                yield segment, delimiters
                if segment.id == "IEA":
                    return
            # RawX12File stops at an empty segment ("~~") as if at end of input.
            if delimiters.segment in raw.buffer:
                self.warn_once("empty", self.index + 1, None, "empty segment skipped")
                continue
            tail = (raw.buffer + raw.fd.read()).strip(strip)
            raw.buffer = ""
            if delimiters.segment in tail:
                # RawX12File gives up on a segment longer than two of its read buffers.
                raise X12Error("segment too long to be X12 (no terminator within 8 KB)",
                               segment_index=self.index + 1, segment_id=tail[:3])
            if tail:
                self.warn(self.index + 1, None, "last segment has no terminator")
                segment = self._next(tail, strip, delimiters)
                if segment is not None:
                    yield segment, delimiters
            return

    def _next(self, line: str, strip: str, delimiters: Delimiters) -> Segment | None:
        cleaned = line.strip(strip)
        if cleaned != line.lstrip("\r\n"):
            self.warn_once("space", self.index + 1, None, "whitespace around segments ignored")
        if not cleaned:
            self.warn_once("empty", self.index + 1, None, "empty segment skipped")
            return None
        self.index += 1
        return _segment_from(cleaned, self.index, delimiters)
