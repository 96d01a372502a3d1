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

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

from reclaim.x12.common import Delimiters, X12Error
from reclaim.x12.models import DetectedFile, Envelope, FileType, ReadWarning
from reclaim.x12.segment import DIGITS, Segment, is_digits, parse_date
from reclaim.x12.tokenizer import Tokenizer, decode

_ENVELOPE_IDS = frozenset({"ISA", "IEA", "GS", "GE", "ST", "SE"})


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
        self._stream = iter(Tokenizer(decode(data, self._warn), self._warn))
        self._interchange: _Interchange | None = None
        self._group: _Group | None = None
        self.interchanges = 0
        self._last_index = 0
        self._stated: set[str] = set()

    def _warn(self, index: int | None, seg_id: str | None, message: str) -> None:
        target = self._current if self._current is not None else self.warnings
        target.append(ReadWarning(segment_index=index, segment_id=seg_id, message=message))

    def _warn_file(self, index: int | None, seg_id: str | None, message: str) -> None:
        """A warning about the file rather than one transaction set (an ISA or GS value every
        interchange repeats): stated once per file, where it is first found."""
        if message not in self._stated:
            self._stated.add(message)
            self.warnings.append(ReadWarning(segment_index=index, segment_id=seg_id,
                                             message=message))

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
            gs = self._group.segment
            raise X12Error(f"GE missing: functional group {gs.value(6)!r} (GS at segment "
                           f"{gs.index}) is not closed before the file ends",
                           segment_index=expected, segment_id="GE")
        if self._interchange is not None:
            isa = self._interchange.segment
            raise X12Error(f"IEA missing: interchange {isa.value(13)!r} (ISA at segment "
                           f"{isa.index}) is not closed before the file ends",
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
        raise X12Error(f"SE missing: transaction set {start.value(2)!r} (ST at segment "
                       f"{start.index}) is not closed before the file ends",
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
            self._warn_file(isa.index, "ISA",
                            f"ISA15 usage {usage!r} is neither P nor T; read as P")
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
            self._warn_file(gs.index, "GS",
                            f"GS05 time {gs.value(5)!r} is invalid; seconds ignored")
            return stamp
        except ValueError:
            pass
        try:
            stamp = _stamp("20" + isa.value(9), isa.value(10))
        except ValueError:
            raise gs.error("neither GS04/GS05 nor ISA09/ISA10 hold a valid date and time",
                           4) from None
        self._warn_file(gs.index, "GS", "GS04/GS05 date or time is invalid; ISA09/ISA10 used")
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
    if not 4 <= len(time) <= 8 or not DIGITS.fullmatch(time):
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
