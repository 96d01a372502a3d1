"""The segment stream every X12 reader is built on.

Segments come from pyx12's tokenizer (`RawX12File` splits the stream, `pyx12.segment.Segment` splits
elements and components); this module adds what a payer's real files need: one `RawX12File` per
interchange so each ISA declares its own delimiters, envelope checks (ISA/GS/ST nesting, trailer
counts and control numbers), and the lenience the API promises (DESIGN.md, `POST /api/v1/edi`):
what is safe to read is read and reported as a `ReadWarning`, what is not raises `X12Error` with the
1-based segment index.

Everything streams: `X12Reader.transactions()` yields one `Transaction` at a time, and its
`segments()` pull from the same underlying iterator, so memory per segment is O(1) and the whole
read is linear in the file size.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Protocol

import pyx12.errors
import pyx12.rawx12file
import pyx12.segment

from reclaim.x12.common import Delimiters, X12Error
from reclaim.x12.models import DetectedFile, Envelope, FileType, ReadWarning

ISA_LENGTH = 106
# Element separators sit at fixed offsets in a well-formed ISA (ISA01..ISA16 have fixed widths).
_ISA_SEPARATOR_OFFSETS = (3, 6, 17, 20, 31, 34, 50, 53, 69, 76, 81, 83, 89, 99, 101, 103)
_ENVELOPE_IDS = frozenset({"ISA", "IEA", "GS", "GE", "ST", "SE"})
_NUMBER = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)")
# str.isdigit() also accepts '²' and other Unicode digits that int() refuses: ASCII only.
_DIGITS = re.compile(r"[0-9]+")
# Amounts are stored as NUMERIC(12, 2); no remittance line comes near ten billion dollars.
MAX_AMOUNT = Decimal("9999999999.99")
_WHITESPACE = " \t\r\n\v\f"
_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{1,2}")
_SEEN_IDS: set[str] = set()  # ids that matched _SEGMENT_ID
_LOOKS_LIKE_SEGMENT = re.compile(r"[A-Z][A-Z0-9]{1,2}[^A-Za-z0-9\s]")

Warn = Callable[[int | None, str | None, str], None]


# ---------------------------------------------------------------- segments


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
    return len(text) <= max_length and _DIGITS.fullmatch(text) is not None


def parse_date(text: str) -> date:
    """CCYYMMDD, or the start of a CCYYMMDD-CCYYMMDD range (RD8)."""
    # A remittance repeats a handful of dates thousands of times (an RD8 range is 17 long).
    return _cached_date(text) if len(text) <= 17 else _date_from(text)


def _date_from(text: str) -> date:
    start = text.split("-", 1)[0].strip()
    if len(start) != 8 or not _DIGITS.fullmatch(start):
        raise ValueError(f"not a CCYYMMDD date: {text!r}")
    return date(int(start[:4]), int(start[4:6]), int(start[6:]))


_cached_date = lru_cache(maxsize=1024)(_date_from)


# ---------------------------------------------------------------- decoding and tokenizing


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
        raise X12Error("truncated ISA header: fewer than 106 characters",
                       segment_index=index, segment_id="ISA")
    separator = header[3]
    if any(header[offset] != separator for offset in _ISA_SEPARATOR_OFFSETS):
        raise X12Error("ISA header is not the fixed 106-character layout "
                       "(ids must be padded to their full width)",
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
class _Tokenizer:
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


# ---------------------------------------------------------------- envelopes


@dataclass
class _Interchange:
    segment: Segment
    groups: int = 0


@dataclass
class _Group:
    segment: Segment
    transactions: int = 0


@dataclass
class Transaction:
    """One ST..SE transaction set; `segments()` yields its body (without ST and SE)."""

    envelope: Envelope
    functional_id: str
    implementation: str
    transaction_set_id: str
    delimiters: Delimiters
    start: Segment
    group_start: Segment
    interchange_start: Segment
    warnings: list[ReadWarning]
    _body: Iterator[Segment]

    @property
    def file_type(self) -> FileType | None:
        return transaction_type(self.transaction_set_id, self.implementation)

    def segments(self) -> Iterator[Segment]:
        return self._body

    def warn(self, segment: Segment | None, message: str) -> None:
        self.warnings.append(ReadWarning(
            segment_index=segment.index if segment else None,
            segment_id=segment.id if segment else None,
            message=message,
        ))

    def optional_date(self, segment: Segment, position: int, *, what: str) -> date | None:
        text = segment.value(position)
        if not text:
            return None
        try:
            return parse_date(text)
        except ValueError:
            self.warn(segment, f"{what} {segment.id}{position:02d} is not a valid date "
                               f"({text!r}); ignored")
            return None


def transaction_type(transaction_set_id: str, implementation: str) -> FileType | None:
    if transaction_set_id == "837":
        if "X222" in implementation:
            return "837P"
        if "X223" in implementation:
            return "837I"
        return None
    if transaction_set_id == "277":
        return "277CA" if "X214" in implementation else None
    if transaction_set_id == "999":
        return "999"
    if transaction_set_id == "835":
        return "835"
    return None


class X12Reader:
    """Walks the envelopes of one file. `warnings` holds what lies outside any transaction."""

    def __init__(self, data: str | bytes) -> None:
        self.warnings: list[ReadWarning] = []
        self._current: list[ReadWarning] | None = None
        self._stream = iter(_Tokenizer(decode(data, self._warn), self._warn))
        self._interchange: _Interchange | None = None
        self._group: _Group | None = None
        self.interchanges = 0
        self._last_index = 0

    def _warn(self, index: int | None, seg_id: str | None, message: str) -> None:
        target = self._current if self._current is not None else self.warnings
        target.append(ReadWarning(segment_index=index, segment_id=seg_id, message=message))

    def _segments(self) -> Iterator[tuple[Segment, Delimiters]]:
        for segment, delimiters in self._stream:
            self._last_index = segment.index
            yield segment, delimiters

    def transactions(self) -> Iterator[Transaction]:
        stream = self._segments()
        for segment, delimiters in stream:
            if segment.id == "ST":
                transaction = self._open_transaction(segment, delimiters, stream)
                yield transaction
                for _ in transaction.segments():
                    pass
                continue
            handler = self._handlers.get(segment.id)
            if handler is None:
                where = "a transaction set" if self._group else "a functional group"
                raise segment.error(f"segment {segment.id} outside {where} (unbalanced envelope)")
            handler(self, segment)
        self._check_closed()

    def warnings_for(self, *transactions: Transaction) -> list[ReadWarning]:
        """File-level warnings first, then those of the given transaction sets. Call it once the
        whole file is read: GE/IEA trailer warnings arrive after the transactions they close."""
        return [*self.warnings, *(w for t in transactions for w in t.warnings)]

    # -- ISA / IEA

    def _on_isa(self, segment: Segment) -> None:
        if self._interchange is not None:
            raise segment.error("ISA inside an open interchange: IEA missing (unbalanced envelope)")
        self._interchange = _Interchange(segment)
        self.interchanges += 1
        if self.interchanges == 2:
            self._warn(segment.index, "ISA", "several interchanges in one file; all are read")

    def _on_iea(self, segment: Segment) -> None:
        interchange = self._interchange
        if interchange is None:
            raise segment.error("IEA without ISA (unbalanced envelope)")
        if self._group is not None:
            raise segment.error("IEA while a functional group is open: GE missing "
                                "(unbalanced envelope)")
        self._check_trailer(segment, interchange.groups, interchange.segment.value(13),
                            "functional groups")
        self._interchange = None

    # -- GS / GE

    def _on_gs(self, segment: Segment) -> None:
        if self._interchange is None:
            raise segment.error("GS outside an interchange (unbalanced envelope)")
        if self._group is not None:
            raise segment.error("GS while a functional group is open: GE missing "
                                "(unbalanced envelope)")
        self._interchange.groups += 1
        self._group = _Group(segment)

    def _on_ge(self, segment: Segment) -> None:
        group = self._group
        if group is None:
            raise segment.error("GE without GS (unbalanced envelope)")
        self._check_trailer(segment, group.transactions, group.segment.value(6),
                            "transaction sets")
        self._group = None

    def _on_ta1(self, segment: Segment) -> None:
        if self._interchange is None or self._group is not None:
            raise segment.error("TA1 outside an interchange header (unbalanced envelope)")

    def _on_se(self, segment: Segment) -> None:
        raise segment.error("SE without a matching ST (unbalanced envelope)")

    def _check_trailer(self, segment: Segment, counted: int, control: str, what: str) -> None:
        declared = segment.value(1)
        if declared != str(counted):
            self._warn(segment.index, segment.id, f"{segment.id}01 says {declared or 'nothing'} "
                                                  f"{what}, the file has {counted}")
        if segment.value(2).lstrip("0") != control.lstrip("0"):
            self._warn(segment.index, segment.id,
                       f"{segment.id}02 {segment.value(2)!r} does not match the header's "
                       f"control number {control!r}")

    def _check_closed(self) -> None:
        expected = self._last_index + 1
        if self._group is not None:
            raise X12Error("file ends before GE closes the functional group (truncated)",
                           segment_index=expected, segment_id="GE")
        if self._interchange is not None:
            raise X12Error("file ends before IEA closes the interchange (truncated)",
                           segment_index=expected, segment_id="IEA")

    # -- ST / SE

    def _open_transaction(
        self, segment: Segment, delimiters: Delimiters,
        stream: Iterator[tuple[Segment, Delimiters]],
    ) -> Transaction:
        if self._group is None or self._interchange is None:
            raise segment.error("ST outside a functional group (unbalanced envelope)")
        self._group.transactions += 1
        warnings: list[ReadWarning] = []
        self._current = warnings
        envelope = self._envelope(self._interchange.segment, self._group.segment, segment)
        return Transaction(
            envelope=envelope,
            functional_id=self._group.segment.value(1),
            implementation=self._group.segment.value(8) or segment.value(3),
            transaction_set_id=segment.required(1),
            delimiters=delimiters,
            start=segment,
            group_start=self._group.segment,
            interchange_start=self._interchange.segment,
            warnings=warnings,
            _body=self._body(segment, stream),
        )

    def _body(
        self, start: Segment, stream: Iterator[tuple[Segment, Delimiters]]
    ) -> Iterator[Segment]:
        count = 1
        for segment, _ in stream:
            count += 1
            if segment.id == "SE":
                self._close_transaction(start, segment, count)
                return
            if segment.id in _ENVELOPE_IDS:
                raise segment.error(f"{segment.id} inside transaction set {start.value(2)}: "
                                    "SE missing (unbalanced envelope)")
            yield segment
        self._current = None
        raise X12Error(f"file ends before SE closes transaction set {start.value(2)} (truncated)",
                       segment_index=self._last_index + 1, segment_id="SE")

    def _close_transaction(self, start: Segment, end: Segment, count: int) -> None:
        declared = end.value(1)
        if declared != str(count):
            self._warn(end.index, "SE", f"SE01 says {declared or 'nothing'} segments, "
                                        f"the transaction set has {count}")
        if end.value(2) != start.value(2):
            self._warn(end.index, "SE", f"SE02 {end.value(2)!r} does not match ST02 "
                                        f"{start.value(2)!r}")
        self._current = None

    def _envelope(self, isa: Segment, gs: Segment, st: Segment) -> Envelope:
        usage = isa.value(15)
        if usage not in ("P", "T"):
            self._warn(isa.index, "ISA", f"ISA15 usage {usage!r} is neither P nor T; read as P")
            usage = "P"
        return Envelope(
            sender_id=isa.required(6),
            receiver_id=isa.required(8),
            sender_qualifier=isa.value(5) or "ZZ",
            receiver_qualifier=isa.value(7) or "ZZ",
            interchange_control_number=_control_number(isa, 13),
            group_control_number=_control_number(gs, 6),
            transaction_control_number=st.required(2),
            created=self._created(isa, gs),
            usage=usage,
            application_sender=gs.value(2) or None,
            application_receiver=gs.value(3) or None,
        )

    def _created(self, isa: Segment, gs: Segment) -> datetime:
        try:
            return _stamp(gs.value(4), gs.value(5))
        except ValueError:
            pass
        try:
            stamp = _stamp(gs.value(4), gs.value(5)[:4])
            self._warn(gs.index, "GS", f"GS05 time {gs.value(5)!r} is invalid; seconds ignored")
            return stamp
        except ValueError:
            pass
        try:
            stamp = _stamp("20" + isa.value(9), isa.value(10))
        except ValueError:
            raise gs.error("neither GS04/GS05 nor ISA09/ISA10 hold a valid date and time",
                           4) from None
        self._warn(gs.index, "GS", "GS04/GS05 date or time is invalid; ISA09/ISA10 used")
        return stamp

    _handlers: dict[str, Callable[[X12Reader, Segment], None]] = {
        "ISA": _on_isa, "IEA": _on_iea, "GS": _on_gs, "GE": _on_ge, "TA1": _on_ta1,
        "SE": _on_se,
    }


def _control_number(segment: Segment, position: int) -> int:
    text = segment.required(position)
    if not is_digits(text, max_length=9) or int(text) == 0:
        raise segment.error(f"{segment.id}{position:02d} control number {text[:30]!r} is not a "
                            "number from 1 to 999999999", position)
    return int(text)


def _stamp(day: str, time: str) -> datetime:
    if not 4 <= len(time) <= 8 or not _DIGITS.fullmatch(time):
        raise ValueError(time)
    seconds = int(time[4:6]) if len(time) >= 6 else 0
    parsed = parse_date(day)
    return datetime(parsed.year, parsed.month, parsed.day, int(time[:2]), int(time[2:4]), seconds)


# ---------------------------------------------------------------- detection


def detect(text: str | bytes) -> DetectedFile:
    """The file's type from ST01 + GS08 of its transaction sets (all must agree)."""
    reader = X12Reader(text)
    found: FileType | None = None
    implementation: str | None = None
    for transaction in reader.transactions():
        kind = transaction.file_type
        if kind is None:
            raise transaction.start.error(
                f"unsupported transaction set {transaction.transaction_set_id} "
                f"{transaction.implementation or '(no GS08)'}")
        if found is None:
            found, implementation = kind, transaction.implementation
        elif kind != found:
            raise transaction.start.error(f"file mixes {found} and {kind} transaction sets")
    if found is None:
        raise X12Error("no transaction set in the file", segment_index=1, segment_id="ST")
    return DetectedFile(type=found, interchanges=reader.interchanges, implementation=implementation)


def _first_transaction(text: str | bytes) -> Transaction | None:
    """The first transaction set, read no further than its ST (raises what reading it raises);
    the rest of the file is not checked here."""
    for transaction in X12Reader(text).transactions():
        return transaction
    return None


def first_type(text: str | bytes) -> FileType | None:
    """The type of the first transaction set: which reader to use before the file has been read
    through. None when the file does not say (`detect` says why)."""
    try:
        first = _first_transaction(text)
    except X12Error:
        return None
    return first.file_type if first else None


def first_envelope(text: str | bytes) -> Envelope | None:
    """The envelope (ISA, GS, ST) of the first transaction set: who a file we sent was from and
    to. None when the file has no readable one."""
    try:
        first = _first_transaction(text)
    except ValueError:  # X12Error, or an envelope the model refuses
        return None
    return first.envelope if first else None


def expect_type(transaction: Transaction, *accepted: FileType) -> None:
    if transaction.file_type not in accepted:
        found = transaction.file_type or (
            f"{transaction.transaction_set_id} {transaction.implementation}".strip())
        raise transaction.start.error(f"expected {' or '.join(accepted)}, found {found}")
