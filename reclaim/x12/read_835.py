"""Read 835 remittance advice (005010X221A1) into `Remittance835`, one per ST/SE.

Segments are handled as they stream past; a claim is finished when the next CLP (or the PLB/SE)
arrives, so the work per claim is constant whatever the file size.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from reclaim.x12.common import X12Error
from reclaim.x12.models import (
    Adjustment,
    ClaimPayment,
    Payment,
    ProviderAdjustment,
    Remittance835,
    ServicePayment,
)
from reclaim.x12.reader import Segment, Transaction, X12Reader, expect_type, parse_date

# MIA05 and MIA20-23 carry remark codes (X221A1 2100 MIA); MOA03-07 likewise.
_MIA_REMARKS = (5, 20, 21, 22, 23)
_MOA_REMARKS = (3, 4, 5, 6, 7)


def read_835(text: str | bytes) -> list[Remittance835]:
    reader = X12Reader(text)
    read = []
    for transaction in reader.transactions():
        expect_type(transaction, "835")
        read.append((_Remittance(transaction).read(), transaction))
    for remittance, transaction in read:
        remittance.warnings = reader.warnings_for(transaction)
    return [remittance for remittance, _ in read]


def cas_adjustments(segment: Segment) -> list[Adjustment]:
    """Every reason/amount/quantity triple of a CAS (up to six, CAS02-CAS19)."""
    group = segment.required(1, what="claim adjustment group code")
    adjustments = []
    for start in range(2, 20, 3):
        reason = segment.value(start)
        if not reason:
            if segment.value(start + 1):
                raise segment.error(f"CAS{start + 1:02d} amount without a reason code", start)
            continue
        adjustments.append(Adjustment(
            group=group,
            reason=reason,
            amount=segment.amount(start + 1, what="adjustment amount"),
            quantity=segment.optional_amount(start + 2),
        ))
    if not adjustments:
        raise segment.error("CAS without any reason code", 2)
    return adjustments


class _Remittance:
    def __init__(self, transaction: Transaction) -> None:
        self.tx = transaction
        self.section = "header"
        self.payer_name = ""
        self.payer_ids: dict[str, str] = {}
        self.payee_name = ""
        self.payee_npi: str | None = None
        self.payee_tax_id: str | None = None
        self.production_date: date | None = None
        self.bpr: Segment | None = None
        self.trn: Segment | None = None
        self.claims: list[ClaimPayment] = []
        self.claim: ClaimPayment | None = None
        self.claim_start: Segment | None = None
        self.member_from_insured = False
        self.plb: list[ProviderAdjustment] = []
        self.saw_payer_contact = False
        self.payer_start: Segment | None = None

    def read(self) -> Remittance835:
        handlers = self._handlers()
        for segment in self.tx.segments():
            handler = handlers.get(segment.id)
            if handler is not None:
                handler(segment)
        self._finish_claim()
        return self._build()

    def _handlers(self) -> dict[str, Callable[[Segment], None]]:
        return {
            "BPR": self._bpr, "TRN": self._trn, "DTM": self._dtm, "N1": self._n1,
            "REF": self._ref, "PER": self._per, "LX": self._lx, "CLP": self._clp,
            "CAS": self._cas, "NM1": self._nm1, "MIA": self._mia, "MOA": self._moa,
            "SVC": self._svc, "LQ": self._lq, "PLB": self._plb,
        }

    # -- header

    def _bpr(self, segment: Segment) -> None:
        self.bpr = segment

    def _trn(self, segment: Segment) -> None:
        if self.trn is None:
            self.trn = segment

    def _n1(self, segment: Segment) -> None:
        entity = segment.value(1)
        if entity == "PR":
            self.section = "payer"
            self.payer_start = segment
            self.payer_name = segment.value(2)
            if segment.value(4):
                self.payer_ids["N1"] = segment.value(4)
        elif entity == "PE":
            self._close_payer()
            self.section = "payee"
            self.payee_name = segment.value(2)
            qualifier, ident = segment.value(3), segment.value(4)
            if qualifier == "XX":
                self.payee_npi = ident or None
            elif qualifier == "FI":
                self.payee_tax_id = ident or None

    def _close_payer(self) -> None:
        if self.section == "payer" and not self.saw_payer_contact:
            self.tx.warn(self.payer_start, "payer technical contact (PER*BL) missing; ignored")

    def _per(self, segment: Segment) -> None:
        if self.section == "payer" and segment.value(1) == "BL":
            self.saw_payer_contact = True

    def _lx(self, segment: Segment) -> None:
        del segment
        self._close_payer()
        self.section = "detail"

    # -- claims

    def _clp(self, segment: Segment) -> None:
        self._close_payer()
        self._finish_claim()
        self.section = "claim"
        self.member_from_insured = False
        self.claim_start = segment
        self.claim = ClaimPayment(
            patient_control_number=segment.limited(1, 38, what="patient control number",
                                                   required=True),
            status_code=segment.limited(2, 2, what="claim status", required=True),
            charge=segment.amount(3, what="total charge", stored=True),
            paid=segment.amount(4, what="payment amount", stored=True),
            patient_responsibility=segment.optional_amount(5, stored=True) or Decimal("0"),
            filing_indicator=segment.value(6) or "CI",
            payer_claim_control_number=segment.limited(
                7, 50, what="payer claim control number") or None,
            frequency_code=segment.value(9) or None,
        )

    def _finish_claim(self) -> None:
        claim = self.claim
        if claim is None:
            return
        adjusted = sum((a.amount for a in claim.adjustments), Decimal("0")) + sum(
            (a.amount for line in claim.lines for a in line.adjustments), Decimal("0"))
        if claim.charge - adjusted != claim.paid:
            self.tx.warn(self.claim_start,
                         f"claim {claim.patient_control_number}: charge {claim.charge} minus "
                         f"adjustments {adjusted} is not the paid {claim.paid}")
        self.claims.append(claim)
        self.claim = None

    def _current_claim(self, segment: Segment) -> ClaimPayment:
        if self.claim is None:
            raise segment.error(f"{segment.id} outside a claim (no CLP before it)")
        return self.claim

    def _cas(self, segment: Segment) -> None:
        claim = self._current_claim(segment)
        target = claim.lines[-1].adjustments if self.section == "line" else claim.adjustments
        target.extend(cas_adjustments(segment))

    def _nm1(self, segment: Segment) -> None:
        if self.claim is None or self.section != "claim":
            return
        entity = segment.value(1)
        if entity == "QC":
            self.claim.patient_last_name = segment.value(3) or None
            self.claim.patient_first_name = segment.value(4) or None
            if not self.member_from_insured:
                self.claim.member_id = segment.value(9) or None
        elif entity == "IL" and segment.value(9):
            self.claim.member_id = segment.value(9) or None
            self.member_from_insured = True

    def _mia(self, segment: Segment) -> None:
        claim = self._current_claim(segment)
        claim.remarks.extend(code for p in _MIA_REMARKS if (code := segment.value(p)))

    def _moa(self, segment: Segment) -> None:
        claim = self._current_claim(segment)
        claim.remarks.extend(code for p in _MOA_REMARKS if (code := segment.value(p)))

    def _svc(self, segment: Segment) -> None:
        claim = self._current_claim(segment)
        self.section = "line"
        composite = segment.components(1)
        claim.lines.append(ServicePayment(
            qualifier=segment.required(1, 1, what="product/service id qualifier"),
            procedure=segment.required(1, 2, what="procedure code"),
            modifiers=[m for m in composite[2:6] if m],
            charge=segment.amount(2, what="line charge"),
            paid=segment.amount(3, what="line payment"),
            revenue_code=segment.value(4) or None,
            units=segment.optional_amount(5),
        ))

    def _lq(self, segment: Segment) -> None:
        claim = self._current_claim(segment)
        if self.section == "line" and segment.value(1) == "HE":
            claim.lines[-1].remarks.append(segment.required(2, what="remark code"))

    def _ref(self, segment: Segment) -> None:
        qualifier, value = segment.value(1), segment.value(2)
        if self.section == "payer" and qualifier == "2U":
            self.payer_ids["2U"] = value
        elif self.section == "payee" and qualifier == "TJ" and not self.payee_tax_id:
            self.payee_tax_id = value or None
        elif self.section == "line" and qualifier == "6R" and self.claim is not None:
            self.claim.lines[-1].line_control_number = value or None

    def _dtm(self, segment: Segment) -> None:
        qualifier = segment.value(1)
        if self.section == "header" and qualifier == "405":
            self.production_date = self.tx.optional_date(segment, 2, what="production date")
        elif self.section == "claim" and qualifier == "232" and self.claim is not None:
            self.claim.service_date = self.tx.optional_date(segment, 2, what="claim start date")
        elif self.section == "line" and qualifier in ("472", "150") and self.claim is not None:
            line = self.claim.lines[-1]
            if qualifier == "472" or line.service_date is None:
                line.service_date = self.tx.optional_date(segment, 2, what="service date")

    # -- summary

    def _plb(self, segment: Segment) -> None:
        self._finish_claim()
        self.section = "summary"
        provider = segment.required(1, what="provider identifier")
        fiscal = _required_date(segment, 2, what="fiscal period date")
        for start in range(3, 15, 2):
            if not segment.value(start):
                continue
            self.plb.append(ProviderAdjustment(
                provider_id=provider,
                fiscal_period_date=fiscal,
                reason=segment.required(start, 1, what="adjustment reason"),
                reference=segment.value(start, 2) or None,
                amount=segment.amount(start + 1, what="provider adjustment amount"),
            ))

    # -- the model

    def _build(self) -> Remittance835:
        if self.bpr is None:
            raise self._missing("BPR")
        if self.trn is None:
            raise self._missing("TRN")
        if not self.payer_name and not self.payer_ids:
            raise self._missing("N1*PR")
        remittance = Remittance835(
            envelope=self.tx.envelope,
            payer_name=self.payer_name,
            payer_id=self._payer_id(),
            payee_name=self.payee_name,
            payee_npi=self.payee_npi,
            payee_tax_id=self.payee_tax_id,
            production_date=self.production_date,
            payment=self._payment(self.bpr, self.trn),
            provider_adjustments=self.plb,
            claims=self.claims,
        )
        self._check_total(remittance)
        return remittance

    def _missing(self, what: str) -> X12Error:
        number = self.tx.envelope.transaction_control_number
        return self.tx.start.error(f"835 transaction set {number} has no {what}")

    def _payer_id(self) -> str:
        for source in ("2U", "N1"):
            if self.payer_ids.get(source):
                return self.payer_ids[source]
        assert self.trn is not None
        fallback = self.trn.value(3)
        if not fallback:
            raise self._missing("payer identifier (REF*2U, N104 or TRN03)")
        self.tx.warn(self.trn, "payer has no REF*2U or N1 identifier; TRN03 used as payer id")
        return fallback

    def _payment(self, bpr: Segment, trn: Segment) -> Payment:
        credit_debit = bpr.value(3) or "C"
        if credit_debit not in ("C", "D"):
            raise bpr.error(f"BPR03 must be C or D, found {credit_debit!r}", 3)
        return Payment(
            amount=bpr.amount(2, what="total payment"),
            credit_debit=credit_debit,  # type: ignore[arg-type]
            method=bpr.required(4, what="payment method"),
            date=self._payment_date(bpr),
            trace_number=trn.limited(2, 50, what="check or EFT trace number", required=True),
            payer_identifier=trn.value(3) or None,
        )

    def _payment_date(self, bpr: Segment) -> date:
        try:
            return parse_date(bpr.value(16))
        except ValueError:
            pass
        fallback = self.production_date or self.tx.envelope.created.date()
        source = "DTM*405 production date" if self.production_date else "GS04 date"
        found = repr(bpr.value(16)) if bpr.value(16) else "missing"
        self.tx.warn(bpr, f"BPR16 payment date {found} is not a valid date; "
                          f"{source} {fallback} used")
        return fallback

    def _check_total(self, remittance: Remittance835) -> None:
        paid = sum((c.paid for c in remittance.claims), Decimal("0"))
        plb = sum((p.amount for p in remittance.provider_adjustments), Decimal("0"))
        if paid - plb != remittance.payment.amount:
            self.tx.warn(self.bpr, f"claims paid {paid} minus provider adjustments {plb} "
                                   f"is not the BPR02 total {remittance.payment.amount}")


def _required_date(segment: Segment, position: int, *, what: str) -> date:
    text = segment.required(position, what=what)
    try:
        return parse_date(text)
    except ValueError:
        raise segment.error(f"{segment.id}{position:02d} ({what}) is not a date: {text!r}",
                            position) from None
