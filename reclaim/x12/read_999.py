"""Read 999 implementation acknowledgments (005010X231A1) into `Ack999`, one per ST/SE."""

from __future__ import annotations

from reclaim.x12.common import X12Error
from reclaim.x12.models import Ack999, AckError, AckTransaction
from reclaim.x12.reader import Transaction, X12Reader, expect_type
from reclaim.x12.segment import Segment, is_digits

_TRANSACTION_STATUSES = frozenset("AERMWX")
_GROUP_STATUSES = frozenset("AEPRMWX")

# Our own short labels for the 999 error codes a biller meets most (IK304, IK403, IK502).
SEGMENT_ERRORS = {
    "1": "unrecognised segment",
    "2": "unexpected segment",
    "3": "required segment missing",
    "4": "loop occurs too often",
    "5": "segment exceeds its maximum use",
    "6": "segment not in this transaction set",
    "7": "segment out of sequence",
    "8": "segment has data element errors",
    "I4": "segment not used by the implementation guide",
    "I6": "implementation: dependent segment missing",
    "I7": "implementation: loop occurs too rarely",
    "I8": "implementation: segment below minimum use",
    "I9": "implementation: dependent segment missing",
}
ELEMENT_ERRORS = {
    "1": "required element missing",
    "2": "conditional element missing",
    "3": "too many elements",
    "4": "element too short",
    "5": "element too long",
    "6": "invalid character",
    "7": "invalid code value",
    "8": "invalid date",
    "9": "invalid time",
    "10": "exclusion condition violated",
    "12": "too many repetitions",
    "13": "too many components",
    "I10": "implementation: element not used",
    "I12": "implementation: pattern match failed",
    "I13": "implementation: dependent element missing",
    "I6": "code value not used by the implementation guide",
    "I9": "implementation: dependent element missing",
}
TRANSACTION_ERRORS = {
    "1": "transaction set not supported",
    "2": "transaction set trailer missing",
    "3": "transaction set control numbers do not match",
    "4": "segment count is wrong",
    "5": "one or more segments in error",
    "6": "missing or invalid transaction set identifier",
    "7": "missing or invalid transaction set control number",
    "23": "transaction set control number not unique in the group",
    "I5": "implementation: one or more segments in error",
    "I6": "implementation convention not supported",
}


def read_999(text: str | bytes) -> list[Ack999]:
    reader = X12Reader(text)
    read = []
    for transaction in reader.transactions():
        expect_type(transaction, "999")
        read.append((_read_ack(transaction), transaction))
    for ack, transaction in read:
        ack.warnings = reader.warnings_for(transaction)
    return [ack for ack, _ in read]


def _read_ack(transaction: Transaction) -> Ack999:
    ak1: Segment | None = None
    ak9: Segment | None = None
    acked: list[AckTransaction] = []
    pending: Segment | None = None  # AK2 waiting for its IK5
    errors: list[AckError] = []
    last_ik3: Segment | None = None
    refused: list[dict[str, object]] = []
    skipping = False  # the rest of a malformed AK2 loop, refused on its own
    for segment in transaction.segments():
        if skipping and segment.id not in ("AK2", "AK9"):
            skipping = segment.id != "IK5"
            continue
        skipping = False
        try:
            if segment.id == "AK1":
                ak1 = segment
            elif segment.id == "AK2":
                pending, errors, last_ik3 = segment, [], None
            elif segment.id == "IK3":
                last_ik3 = segment
                errors.append(_segment_error(segment))
            elif segment.id == "IK4":
                errors.append(_element_error(segment, last_ik3))
            elif segment.id == "IK5":
                if pending is None:
                    raise segment.error("IK5 without AK2")
                acked.append(_transaction_ack(pending, segment, errors))
                pending = None
            elif segment.id == "AK9":
                ak9 = segment
        except X12Error as exc:
            if pending is None:
                raise
            # One transaction set's answer (AK2 loop) is malformed: it alone is refused.
            number = pending.value(2) or None
            refused.append({"transaction_control_number": number,
                            "segment": exc.segment_index, "reason": exc.message})
            transaction.warn(segment, f"answer to transaction set {number or '(unnamed)'} "
                                      f"refused: {exc.message}; the other answers are read")
            pending, skipping = None, segment.id != "IK5"
    if pending is not None:
        raise pending.error("AK2 without IK5 (transaction set response trailer)")
    if ak1 is None or ak9 is None:
        missing = "AK1" if ak1 is None else "AK9"
        raise transaction.start.error(f"999 {transaction.envelope.transaction_control_number} "
                                      f"has no {missing}")
    return Ack999(
        envelope=transaction.envelope,
        functional_id=ak1.required(1, what="functional identifier"),
        group_control_number=_count(ak1, 2),
        implementation=ak1.value(3) or None,
        transactions=acked,
        group_status=_code(ak9, 1, _GROUP_STATUSES),
        received_count=_count(ak9, 3),
        accepted_count=_count(ak9, 4),
        interchange_index=transaction.interchange_start.index,
        group_index=transaction.group_start.index,
        ak1_index=ak1.index,
        refused=refused,
    )


def _transaction_ack(ak2: Segment, ik5: Segment, errors: list[AckError]) -> AckTransaction:
    for position in range(2, 7):
        code = ik5.value(position)
        if code:
            errors.append(AckError(code=code, message=TRANSACTION_ERRORS.get(code)))
    return AckTransaction(
        transaction_set_id=ak2.required(1, what="transaction set identifier"),
        control_number=ak2.required(2, what="transaction set control number"),
        implementation=ak2.value(3) or None,
        status=_code(ik5, 1, _TRANSACTION_STATUSES),
        errors=errors,
    )


def _segment_error(ik3: Segment) -> AckError:
    code = ik3.required(4, what="segment syntax error code")
    return AckError(
        segment_id=ik3.required(1, what="segment id in error"),
        segment_position=_optional_count(ik3, 2),
        loop=ik3.value(3) or None,
        code=code,
        message=SEGMENT_ERRORS.get(code),
    )


def _element_error(ik4: Segment, ik3: Segment | None) -> AckError:
    code = ik4.required(3, what="element syntax error code")
    label = ELEMENT_ERRORS.get(code)
    bad_value = ik4.value(4)
    return AckError(
        segment_id=ik3.value(1) if ik3 else None,
        segment_position=_optional_count(ik3, 2) if ik3 else None,
        loop=(ik3.value(3) or None) if ik3 else None,
        code=code,
        element_position=_count(ik4, 1),
        message=f"{label or 'element error'}{f': {bad_value!r}' if bad_value else ''}",
    )


def _code(segment: Segment, position: int, allowed: frozenset[str]) -> str:
    code = segment.required(position)
    if code not in allowed:
        raise segment.error(f"{segment.id}{position:02d} {code!r} is not one of "
                            f"{', '.join(sorted(allowed))}", position)
    return code


def _count(segment: Segment, position: int) -> int:
    text = segment.required(position)
    if not is_digits(text, max_length=9):  # AK102, AK903/04, IK302, IK401: N0 of 1 to 9 digits
        raise segment.error(f"{segment.id}{position:02d} is not a number of at most 9 digits: "
                            f"{text[:30]!r}", position)
    return int(text)


def _optional_count(segment: Segment, position: int) -> int | None:
    return _count(segment, position) if segment.value(position) else None
