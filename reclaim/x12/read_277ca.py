"""Read 277CA claim acknowledgments (005010X214) into `Status277CA`, one per ST/SE.

Claims come from the patient level (HL03 = PT, loop 2200D): TRN*2 is the patient control number,
the STC says whether the payer took the claim into adjudication. Service-line STCs (loop 2220D,
after an SVC) do not change the claim's own status.
"""

from __future__ import annotations

from reclaim.x12.common import X12Error
from reclaim.x12.models import ClaimStatus277, ReadWarning, Status277CA
from reclaim.x12.reader import Transaction, X12Reader, expect_type
from reclaim.x12.segment import Segment

# STC01-1 claim status categories (X214 / code source 507).
ACCEPTED_CATEGORIES = frozenset({"A0", "A1", "A2", "A5"})
REJECTED_CATEGORIES = frozenset({"A3", "A4", "A6", "A7", "A8"})


def status_action(category: str) -> str | None:
    """accepted / rejected for a STC01-1 category, None when it is neither (e.g. pending)."""
    prefix = category[:2].upper()
    if prefix in ACCEPTED_CATEGORIES:
        return "accepted"
    if prefix in REJECTED_CATEGORIES:
        return "rejected"
    return None


def read_277ca(text: str | bytes) -> list[Status277CA]:
    reader = X12Reader(text)
    read = []
    for transaction in reader.transactions():
        expect_type(transaction, "277CA")
        read.append((_Acknowledgment(transaction).read(), transaction))
    for status, transaction in read:
        status.warnings = reader.warnings_for(transaction)
    return [status for status, _ in read]


class _PendingClaim:
    def __init__(self, hl: Segment) -> None:
        self.hl = hl
        self.member_id: str | None = None
        self.pcn: str | None = None
        self.trn_index: int | None = None
        self.stcs: list[Segment] = []
        self.ref_1k: str | None = None
        self.service_date: Segment | None = None
        self.in_line = False
        self.error: X12Error | None = None  # a malformed segment: the claim is refused alone


class _Acknowledgment:
    def __init__(self, transaction: Transaction) -> None:
        self.tx = transaction
        self.level = ""
        self.parties: dict[str, Segment] = {}
        self.claim: _PendingClaim | None = None
        self.claims: list[ClaimStatus277] = []
        self.refused: list[dict[str, object]] = []

    def read(self) -> Status277CA:
        for segment in self.tx.segments():
            if segment.id == "HL":
                self._finish_claim()
                self.level = segment.value(3)
                if self.level == "PT":
                    self.claim = _PendingClaim(segment)
            elif segment.id == "NM1":
                self._nm1(segment)
            elif self.claim is not None and self.claim.error is None:
                try:
                    self._claim_segment(self.claim, segment)
                except X12Error as exc:
                    self.claim.error = exc
        self._finish_claim()
        return self._build()

    def _nm1(self, segment: Segment) -> None:
        entity = segment.value(1)
        if self.claim is not None and entity in ("QC", "IL"):
            self.claim.member_id = segment.value(9) or self.claim.member_id
        elif entity in ("PR", "41", "85") and entity not in self.parties:
            self.parties[entity] = segment

    def _claim_segment(self, claim: _PendingClaim, segment: Segment) -> None:
        qualifier = segment.value(1)
        if segment.id == "SVC":
            claim.in_line = True
        elif claim.in_line:
            return
        elif segment.id == "TRN" and qualifier == "2":
            claim.pcn = segment.limited(2, 50, what="patient control number", required=True)
            claim.trn_index = segment.index
        elif segment.id == "STC":
            claim.stcs.append(segment)
        elif segment.id == "REF" and qualifier == "1K":
            claim.ref_1k = segment.limited(2, 50, what="payer claim control number") or None
        elif segment.id == "DTP" and qualifier == "472":
            claim.service_date = segment

    def _finish_claim(self) -> None:
        claim, self.claim = self.claim, None
        if claim is None:
            return
        try:
            if claim.error is not None:
                raise claim.error
            self._claim_status(claim)
        except X12Error as exc:
            # One claim's malformed loop does not refuse the file: it is listed, the rest read.
            self.refused.append({"patient_control_number": claim.pcn,
                                 "segment": exc.segment_index, "reason": exc.message})
            at = exc.segment_index or claim.hl.index
            self.tx.warnings.append(ReadWarning(
                segment_index=at, segment_id=exc.segment_id,
                message=f"claim {claim.pcn or '(no patient control number)'} refused: "
                        f"{exc.message}; the other claims are read"))

    def _claim_status(self, claim: _PendingClaim) -> None:
        if claim.pcn is None:
            raise claim.hl.error("claim (HL*PT) has no TRN*2 patient control number")
        if not claim.stcs:
            raise claim.hl.error(f"claim {claim.pcn} has no STC status")
        stc = self._deciding_status(claim)
        if stc is None:
            return
        self.claims.append(ClaimStatus277(
            patient_control_number=claim.pcn,
            payer_claim_control_number=claim.ref_1k,
            status_category=stc.limited(1, 2, what="status category", required=True),
            status_code=stc.limited(1, 30, component=2, what="status code", required=True),
            entity_code=stc.value(1, 3) or None,
            action=status_action(stc.value(1)),
            total_charge=stc.optional_amount(4),
            effective_date=self.tx.optional_date(stc, 2, what="status effective date"),
            message=stc.value(12) or None,
            member_id=claim.member_id,
            service_date=(self.tx.optional_date(claim.service_date, 3, what="service date")
                          if claim.service_date else None),
            trn_index=claim.trn_index,
        ))

    def _deciding_status(self, claim: _PendingClaim) -> Segment | None:
        """The first rejecting STC if any (a rejection wins), else the first accepting one."""
        actions = [(status_action(stc.value(1)), stc) for stc in claim.stcs]
        for wanted in ("rejected", "accepted"):
            for action, stc in actions:
                if action == wanted:
                    return stc
        first = claim.stcs[0]
        self.tx.warn(first, f"claim {claim.pcn}: status category {first.value(1)!r} is neither an "
                            "acceptance nor a rejection; claim left out")
        return None

    def _build(self) -> Status277CA:
        payer = self.parties.get("PR")
        if payer is None:
            raise self.tx.start.error("277CA has no payer (NM1*PR)")
        receiver = self.parties.get("41")
        provider = self.parties.get("85")
        return Status277CA(
            envelope=self.tx.envelope,
            payer_name=payer.value(3),
            payer_id=payer.required(9, what="payer identifier"),
            receiver_name=(receiver.value(3) if receiver else "") or "RECLAIM",
            receiver_id=(receiver.value(9) if receiver else "") or "RECLAIM",
            provider_name=_name(provider) if provider else None,
            provider_npi=(provider.value(9) or None) if provider and provider.value(8) == "XX"
            else None,
            claims=self.claims,
            refused=self.refused,
        )


def _name(segment: Segment) -> str | None:
    last, first = segment.value(3), segment.value(4)
    return " ".join(part for part in (first, last) if part) or None
