"""Read 837P (005010X222A1) and 837I (005010X223A2) claims the way a payer does.

The sandbox payer uses this to adjudicate and to answer with a 999: one `Received837` per functional
group (GS..GE, the unit a 999 acknowledges), holding every claim of its transaction sets. Only the
subscriber's own payer (loop 2010BB) counts as the payer; other-payer loops (2330x) and line-level
providers (2420x) are skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from reclaim.x12.models import Received837, ReceivedClaim837, ReceivedLine837
from reclaim.x12.reader import Transaction, X12Reader, expect_type
from reclaim.x12.segment import Segment

# HI qualifiers that carry diagnoses (ICD-10 ABK/ABF/ABJ/APR/ABN and their ICD-9 forms).
DIAGNOSIS_QUALIFIERS = frozenset({"ABK", "ABF", "ABJ", "APR", "ABN", "BK", "BF", "BJ", "PR", "BN"})
# Claim-level NM1 entity -> the provider field it fills (2310A referring, 2310B rendering,
# 2310A attending on an 837I, which has no rendering provider of its own).
_CLAIM_PROVIDERS = {"82": "rendering_npi", "DN": "referring_npi", "71": "rendering_npi"}


def read_837(text: str | bytes) -> list[Received837]:
    reader = X12Reader(text)
    read: list[tuple[Received837, list[Transaction]]] = []
    for transaction in reader.transactions():
        expect_type(transaction, "837P", "837I")
        claims = _Claims(transaction).read()
        if read and read[-1][1][0].group_start is transaction.group_start:
            batch, transactions = read[-1]
            batch.transaction_control_numbers.append(
                transaction.envelope.transaction_control_number)
            batch.claims.extend(claims)
            transactions.append(transaction)
            continue
        read.append((Received837(
            envelope=transaction.envelope,
            functional_id=transaction.functional_id or "HC",
            implementation=transaction.implementation,
            transaction_control_numbers=[transaction.envelope.transaction_control_number],
            claims=claims,
        ), [transaction]))
    for batch, transactions in read:
        batch.warnings = reader.warnings_for(*transactions)
    return [batch for batch, _ in read]


class _Claims:
    def __init__(self, transaction: Transaction) -> None:
        self.tx = transaction
        self.professional = transaction.file_type == "837P"
        self.billing_npi: str | None = None
        self.subscriber: dict[str, str | None] = {}
        self.patient: dict[str, str | None] = {}
        self.payer: Segment | None = None
        self.claim: ReceivedClaim837 | None = None
        self.claim_start: Segment | None = None
        self.claim_date: date | None = None
        self.in_lines = False
        self.claims: list[ReceivedClaim837] = []

    def read(self) -> list[ReceivedClaim837]:
        handlers: dict[str, Callable[[Segment], None]] = {
            "HL": self._hl, "NM1": self._nm1, "CLM": self._clm, "REF": self._ref,
            "HI": self._hi, "DTP": self._dtp, "LX": self._lx, "SV1": self._sv1, "SV2": self._sv2,
        }
        for segment in self.tx.segments():
            handler = handlers.get(segment.id)
            if handler is not None:
                handler(segment)
        self._finish_claim()
        return self.claims

    # -- hierarchy and parties

    def _hl(self, segment: Segment) -> None:
        self._finish_claim()
        level = segment.value(3)
        if level == "20":
            self.billing_npi = None
        elif level == "22":
            self.subscriber, self.patient, self.payer = {}, {}, None
        elif level == "23":
            self.patient = {}

    def _nm1(self, segment: Segment) -> None:
        entity = segment.value(1)
        if self.claim is None:
            self._party(entity, segment)
        elif not self.in_lines and entity in _CLAIM_PROVIDERS:
            field = _CLAIM_PROVIDERS[entity]
            if getattr(self.claim, field) is None and segment.value(8) == "XX":
                setattr(self.claim, field, segment.value(9) or None)

    def _party(self, entity: str, segment: Segment) -> None:
        if entity == "85":
            self.billing_npi = segment.value(9) if segment.value(8) == "XX" else None
        elif entity == "IL":
            self.subscriber = {"member_id": segment.value(9), "last": segment.value(3),
                               "first": segment.value(4)}
        elif entity == "QC":
            self.patient = {"last": segment.value(3), "first": segment.value(4)}
        elif entity == "PR":
            self.payer = segment

    # -- the claim

    def _clm(self, segment: Segment) -> None:
        self._finish_claim()
        payer = self.payer
        if payer is None:
            raise segment.error("claim without a payer (NM1*PR in loop 2010BB) before it")
        member_id = self.subscriber.get("member_id")
        if not member_id:
            raise segment.error("claim without a subscriber member id (NM1*IL NM109) before it")
        names = self.patient or self.subscriber
        self.claim_start, self.claim_date, self.in_lines = segment, None, False
        self.claim = ReceivedClaim837(
            claim_type="professional" if self.professional else "institutional",
            patient_control_number=segment.required(1, what="patient control number"),
            total_charge=segment.amount(2, what="total claim charge"),
            frequency_code=segment.required(5, 3, what="claim frequency code"),
            # On an 837I, CLM05-1 is the facility type code (type of bill), not a place of service.
            place_of_service=(segment.required(5, 1, what="place of service")
                              if self.professional else None),
            payer_id=payer.required(9, what="payer identifier"),
            payer_name=payer.value(3) or None,
            member_id=member_id,
            patient_first_name=names.get("first") or None,
            patient_last_name=names.get("last") or None,
            billing_npi=self.billing_npi or None,
        )

    def _ref(self, segment: Segment) -> None:
        claim, qualifier = self.claim, segment.value(1)
        if claim is None:
            return
        if qualifier == "F8" and not self.in_lines:
            claim.payer_claim_control_number = segment.required(2, what="original claim number")
        elif qualifier == "6R" and self.in_lines and claim.lines:
            claim.lines[-1].line_control_number = segment.required(2, what="line control number")

    def _hi(self, segment: Segment) -> None:
        if self.claim is None:
            return
        for position in range(1, len(segment.elements) + 1):
            qualifier = segment.value(position, 1)
            if qualifier in DIAGNOSIS_QUALIFIERS:
                self.claim.diagnoses.append(segment.required(position, 2, what="diagnosis code"))

    def _dtp(self, segment: Segment) -> None:
        claim, qualifier = self.claim, segment.value(1)
        if claim is None or qualifier not in ("472", "434"):
            return
        found = self.tx.optional_date(segment, 3, what="service date")
        if not self.in_lines:
            self.claim_date = self.claim_date or found
        elif qualifier == "472" and claim.lines:
            claim.lines[-1].service_date = found

    # -- lines

    def _lx(self, segment: Segment) -> None:
        if self.claim is None:
            raise segment.error("service line (LX) outside a claim")
        self.in_lines = True

    def _sv1(self, segment: Segment) -> None:
        claim = self._line_claim(segment)
        composite = segment.components(1)
        claim.lines.append(ReceivedLine837(
            procedure=segment.required(1, 2, what="procedure code"),
            modifiers=[m for m in composite[2:6] if m],
            charge=segment.amount(2, what="line charge"),
            units=segment.amount(4, what="units"),
            diagnosis_pointers=_pointers(segment, 7),
        ))

    def _sv2(self, segment: Segment) -> None:
        claim = self._line_claim(segment)
        composite = segment.components(2)
        claim.lines.append(ReceivedLine837(
            revenue_code=segment.required(1, what="revenue code"),
            procedure=segment.value(2, 2),
            modifiers=[m for m in composite[2:6] if m],
            charge=segment.amount(3, what="line charge"),
            units=segment.amount(5, what="units"),
        ))

    def _line_claim(self, segment: Segment) -> ReceivedClaim837:
        if self.claim is None or not self.in_lines:
            raise segment.error(f"{segment.id} outside a service line (LX) of a claim")
        return self.claim

    def _finish_claim(self) -> None:
        claim, self.claim = self.claim, None
        if claim is None:
            return
        line_dates = [line.service_date for line in claim.lines if line.service_date]
        claim.service_date = self.claim_date or (min(line_dates) if line_dates else None)
        if not claim.lines:
            self.tx.warn(self.claim_start, f"claim {claim.patient_control_number} has no lines")
        self.claims.append(claim)


def _pointers(segment: Segment, position: int) -> list[int]:
    pointers = []
    for part in segment.components(position):
        if not part:
            continue
        if not part.isdigit():
            raise segment.error(f"{segment.id}{position:02d} diagnosis pointer {part!r} is not a "
                                "number", position)
        pointers.append(int(part))
    return pointers
