"""Read 835 remittance advice (005010X221A1), one CLP loop at a time.

`Stream835` yields each claim as soon as the next CLP (or the PLB/SE) closes it, with the
remittance (ST/SE) it belongs to, so a reader of a 10,000-claim file holds one claim at a time:
what ingestion stores in chunks. `read_835` collects the same stream into `Remittance835` models.

A claim is kept as the JSON `ClaimPayment.model_dump(mode="json")` would give (what a Remittance
row stores), built once from values the segment reader has already checked (lengths, amounts that
fit NUMERIC(12, 2), dates), rather than as pydantic models dumped afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from reclaim.x12.common import X12Error
from reclaim.x12.models import (
    ClaimPayment,
    Payment,
    ProviderAdjustment,
    Remittance835,
)
from reclaim.x12.reader import Transaction, X12Reader, expect_type
from reclaim.x12.segment import Segment, parse_date

# MIA05 and MIA20-23 carry remark codes (X221A1 2100 MIA); MOA03-07 likewise.
_MIA_REMARKS = (5, 20, 21, 22, 23)
_MOA_REMARKS = (3, 4, 5, 6, 7)
_ZERO = Decimal("0")


@dataclass(slots=True)
class ClaimRead:
    """One CLP loop. `data` is what `ClaimPayment.model_dump(mode="json")` gives for it; the
    other fields are the values a Remittance row and claim matching need, as Python values."""

    data: dict[str, Any]
    patient_control_number: str
    status_code: str
    charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal
    payer_claim_control_number: str | None

    @property
    def member_id(self) -> str | None:
        member: str | None = self.data["member_id"]
        return member

    @property
    def service_date(self) -> date | None:
        """The claim's DTM*232, else the first line's date of service."""
        found = self.data["service_date"] or next(
            (line["service_date"] for line in self.data["lines"] if line["service_date"]), None)
        return date.fromisoformat(found) if found else None

    @property
    def procedures(self) -> list[str]:
        return [line["procedure"] for line in self.data["lines"]]

    def model(self) -> ClaimPayment:
        return ClaimPayment.model_validate(self.data)


@dataclass(eq=False)
class RemittanceRead:
    """One ST..SE. `header` (claims left empty) is set by the time its first claim is yielded;
    once the stream is exhausted it is the final one (PLB, warnings) and `claim_count` is
    complete. `preview` is the payment the first claims were yielded with, when the header
    could be read before them; a payer that repeats BPR after its claims changes the payment
    afterwards (`header.payment` is then what the whole file says)."""

    header: Remittance835 | None = None
    preview: Payment | None = None
    claim_count: int = 0
    # Claims whose segments are malformed, refused on their own (the rest is read):
    # [{patient_control_number, segment, reason}].
    refused: list[dict[str, Any]] = field(default_factory=list)


class Stream835:
    """Iterate for `(remittance, claim)` pairs in file order; afterwards `remittances` holds
    every ST..SE read (with or without claims), warnings included. A file that cannot be read
    safely raises `X12Error` while iterating, at the same segment as `read_835`."""

    def __init__(self, text: str | bytes) -> None:
        self.reader = X12Reader(text)
        self.remittances: list[RemittanceRead] = []

    def __iter__(self) -> Iterator[tuple[RemittanceRead, ClaimRead]]:
        read: list[tuple[RemittanceRead, Transaction]] = []
        for transaction in self.reader.transactions():
            expect_type(transaction, "835")
            remittance = RemittanceRead()
            self.remittances.append(remittance)
            for claim in _Remittance(transaction, remittance).stream():
                remittance.claim_count += 1
                yield remittance, claim
            read.append((remittance, transaction))
        # GE/IEA trailer warnings arrive after the transactions they close.
        for remittance, transaction in read:
            assert remittance.header is not None
            remittance.header.warnings = self.reader.warnings_for(transaction)


def read_835(text: str | bytes) -> list[Remittance835]:
    stream = Stream835(text)
    claims: dict[RemittanceRead, list[ClaimPayment]] = {}
    for remittance, claim in stream:
        claims.setdefault(remittance, []).append(claim.model())
    found = []
    for remittance in stream.remittances:
        assert remittance.header is not None
        found.append(remittance.header.model_copy(update={"claims": claims.get(remittance, [])}))
    return found


def _cas_adjustments(segment: Segment) -> list[tuple[dict[str, Any], Decimal]]:
    """Every reason/amount/quantity triple of a CAS (up to six, CAS02-CAS19), as JSON with the
    amount as a Decimal beside it."""
    group = segment.required(1, what="claim adjustment group code")
    adjustments = []
    for start in range(2, 20, 3):
        reason = segment.value(start)
        if not reason:
            if segment.value(start + 1):
                raise segment.error(f"CAS{start + 1:02d} amount without a reason code", start)
            continue
        amount = segment.amount(start + 1, what="adjustment amount")
        quantity = segment.optional_amount(start + 2)
        adjustments.append(({"group": group, "reason": reason, "amount": str(amount),
                             "quantity": _text(quantity)}, amount))
    if not adjustments:
        raise segment.error("CAS without any reason code", 2)
    return adjustments


def _text(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount)


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _quiet(segment: Segment | None, message: str) -> None:
    del segment, message


class _Remittance:
    def __init__(self, transaction: Transaction, into: RemittanceRead) -> None:
        self.tx = transaction
        self.into = into
        self.section = "header"
        self.payer_name = ""
        self.payer_ids: dict[str, str] = {}
        self.payee_name = ""
        self.payee_npi: str | None = None
        self.payee_tax_id: str | None = None
        self.production_date: date | None = None
        self.bpr: Segment | None = None
        self.trn: Segment | None = None
        self.plb: list[ProviderAdjustment] = []
        self.saw_payer_contact = False
        self.payer_start: Segment | None = None
        # The claim being read: its JSON and the amounts its checks need.
        self.claim: dict[str, Any] | None = None
        self.claim_start: Segment | None = None
        self.charge = self.paid = self.responsibility = _ZERO
        self.claim_adjusted = self.line_adjusted = _ZERO
        # Each line's SVC with its charge, paid and CAS total: SVC02 - CAS = SVC03 is checked.
        self.line_amounts: list[list[Any]] = []
        self.member_from_insured = False
        self.paid_total = _ZERO
        # Claims closed and not yet handed out; all of them when the header could not be read
        # before the first claim (then it is read at SE, as the whole transaction allows).
        self.closed: list[ClaimRead] = []
        self.buffering = False

    def stream(self) -> Iterator[ClaimRead]:
        handlers = self._handlers()
        skipping = False  # the rest of a refused claim, up to the next CLP or PLB
        for segment in self.tx.segments():
            if skipping:
                if segment.id not in ("CLP", "PLB"):
                    continue
                skipping = False
            handler = handlers.get(segment.id)
            if handler is not None:
                try:
                    handler(segment)
                except X12Error as exc:
                    if not self._refuse_claim(segment, exc):
                        raise
                    skipping = True
                    continue
                if self.closed and not self.buffering:
                    yield from self._release()
        self._finish_claim()
        self.into.header = self._build()
        closed, self.closed = self.closed, []
        yield from closed

    def _refuse_claim(self, segment: Segment, exc: X12Error) -> bool:
        """A malformed segment inside a claim (CLP through its lines) refuses that claim alone:
        False when the segment is not a claim's (the file cannot be read safely)."""
        start = self.claim_start
        if segment.id != "CLP" and (self.claim is None or start is None):
            return False
        start = segment if segment.id == "CLP" else start
        assert start is not None
        pcn = start.value(1) or None
        reason = exc.message
        self.into.refused.append({"patient_control_number": pcn,
                                  "segment": exc.segment_index or segment.index,
                                  "reason": reason})
        self.tx.warn(segment, f"claim {pcn or '(no patient control number)'} refused: {reason}; "
                              "the other claims are read")
        self.claim = None
        self.section = "claim"
        return True

    def _release(self) -> Iterator[ClaimRead]:
        if self.into.header is None:
            try:
                self.into.header = self._header(_quiet)
            except X12Error:
                self.buffering = True  # read at SE, or refused there as before
                return
            self.into.preview = self.into.header.payment
        closed, self.closed = self.closed, []
        yield from closed

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
        pcn = segment.limited(1, 38, what="patient control number", required=True)
        status = segment.limited(2, 2, what="claim status", required=True)
        self.charge = segment.amount(3, what="total charge", stored=True)
        self.paid = segment.amount(4, what="payment amount", stored=True)
        self.responsibility = segment.optional_amount(5, stored=True) or _ZERO
        filing = segment.value(6) or "CI"
        control = segment.limited(7, 50, what="payer claim control number") or None
        self.claim_adjusted = self.line_adjusted = _ZERO
        self.line_amounts = []
        # Keys in ClaimPayment's field order, so the stored JSON reads as the model's dump.
        self.claim = {
            "patient_control_number": pcn, "status_code": status, "charge": str(self.charge),
            "paid": str(self.paid), "patient_responsibility": str(self.responsibility),
            "filing_indicator": filing, "payer_claim_control_number": control,
            "frequency_code": segment.value(9) or None, "patient_last_name": None,
            "patient_first_name": None, "member_id": None, "service_date": None,
            "adjustments": [], "remarks": [], "lines": [],
        }

    def _finish_claim(self) -> None:
        claim = self.claim
        if claim is None:
            return
        adjusted = self.claim_adjusted + self.line_adjusted
        if self.charge - adjusted != self.paid:
            self.tx.warn(self.claim_start,
                         f"claim {claim['patient_control_number']}: charge {self.charge} minus "
                         f"adjustments {adjusted} is not the paid {self.paid}")
        for number, (svc, charge, paid, line_adjusted) in enumerate(self.line_amounts, start=1):
            if charge - line_adjusted != paid:
                self.tx.warn(svc, f"claim {claim['patient_control_number']} line {number}: "
                                  f"charge {charge} minus line adjustments {line_adjusted} is "
                                  f"not the paid {paid} (SVC02 - CAS = SVC03)")
        self.paid_total += self.paid
        self.closed.append(ClaimRead(
            data=claim, patient_control_number=claim["patient_control_number"],
            status_code=claim["status_code"], charge=self.charge, paid=self.paid,
            patient_responsibility=self.responsibility,
            payer_claim_control_number=claim["payer_claim_control_number"]))
        self.claim = None

    def _current_claim(self, segment: Segment) -> dict[str, Any]:
        if self.claim is None:
            raise segment.error(f"{segment.id} outside a claim (no CLP before it)")
        return self.claim

    def _cas(self, segment: Segment) -> None:
        claim = self._current_claim(segment)
        line = self.section == "line"
        target = claim["lines"][-1]["adjustments"] if line else claim["adjustments"]
        for adjustment, amount in _cas_adjustments(segment):
            target.append(adjustment)
            if line:
                self.line_adjusted += amount
                self.line_amounts[-1][3] += amount
            else:
                self.claim_adjusted += amount

    def _nm1(self, segment: Segment) -> None:
        if self.claim is None or self.section != "claim":
            return
        entity = segment.value(1)
        if entity == "QC":
            self.claim["patient_last_name"] = segment.value(3) or None
            self.claim["patient_first_name"] = segment.value(4) or None
            if not self.member_from_insured:
                self.claim["member_id"] = segment.value(9) or None
        elif entity == "IL" and segment.value(9):
            self.claim["member_id"] = segment.value(9) or None
            self.member_from_insured = True

    def _mia(self, segment: Segment) -> None:
        claim = self._current_claim(segment)
        claim["remarks"].extend(code for p in _MIA_REMARKS if (code := segment.value(p)))

    def _moa(self, segment: Segment) -> None:
        claim = self._current_claim(segment)
        claim["remarks"].extend(code for p in _MOA_REMARKS if (code := segment.value(p)))

    def _svc(self, segment: Segment) -> None:
        claim = self._current_claim(segment)
        self.section = "line"
        composite = segment.components(1)
        qualifier = segment.required(1, 1, what="product/service id qualifier")
        procedure = segment.required(1, 2, what="procedure code")
        charge = segment.amount(2, what="line charge")
        paid = segment.amount(3, what="line payment")
        revenue_code = segment.value(4) or None
        units = segment.optional_amount(5)
        self.line_amounts.append([segment, charge, paid, _ZERO])
        # Keys in ServicePayment's field order.
        claim["lines"].append({
            "procedure": procedure, "qualifier": qualifier,
            "modifiers": [m for m in composite[2:6] if m], "charge": str(charge),
            "paid": str(paid), "units": _text(units), "revenue_code": revenue_code,
            "service_date": None, "line_control_number": None, "adjustments": [],
            "remarks": [],
        })

    def _lq(self, segment: Segment) -> None:
        claim = self._current_claim(segment)
        if self.section == "line" and segment.value(1) == "HE":
            claim["lines"][-1]["remarks"].append(segment.required(2, what="remark code"))

    def _ref(self, segment: Segment) -> None:
        qualifier, value = segment.value(1), segment.value(2)
        if self.section == "payer" and qualifier == "2U":
            self.payer_ids["2U"] = value
        elif self.section == "payee" and qualifier == "TJ" and not self.payee_tax_id:
            self.payee_tax_id = value or None
        elif self.section == "line" and qualifier == "6R" and self.claim is not None:
            self.claim["lines"][-1]["line_control_number"] = value or None

    def _dtm(self, segment: Segment) -> None:
        qualifier = segment.value(1)
        if self.section == "header" and qualifier == "405":
            self.production_date = self.tx.optional_date(segment, 2, what="production date")
        elif self.section == "claim" and qualifier == "232" and self.claim is not None:
            self.claim["service_date"] = _iso(
                self.tx.optional_date(segment, 2, what="claim start date"))
        elif self.section == "line" and qualifier in ("472", "150") and self.claim is not None:
            line = self.claim["lines"][-1]
            if qualifier == "472" or line["service_date"] is None:
                line["service_date"] = _iso(
                    self.tx.optional_date(segment, 2, what="service date"))

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
        remittance = self._header(self._warn)
        self._check_total(remittance)
        return remittance

    def _warn(self, segment: Segment | None, message: str) -> None:
        self.tx.warn(segment, message)

    def _header(self, warn: Callable[[Segment | None, str], None]) -> Remittance835:
        """The remittance without its claims. `warn` takes what the payer got wrong but we can
        read: the real warnings once, at SE; none while previewing the header for the claims."""
        if self.bpr is None:
            raise self._missing("BPR")
        if self.trn is None:
            raise self._missing("TRN")
        if not self.payer_name and not self.payer_ids:
            raise self._missing("N1*PR")
        return Remittance835(
            envelope=self.tx.envelope,
            payer_name=self.payer_name,
            payer_id=self._payer_id(warn),
            payee_name=self.payee_name,
            payee_npi=self.payee_npi,
            payee_tax_id=self.payee_tax_id,
            production_date=self.production_date,
            payment=self._payment(self.bpr, self.trn, warn),
            provider_adjustments=list(self.plb),
            claims=[],
        )

    def _missing(self, what: str) -> X12Error:
        number = self.tx.envelope.transaction_control_number
        return self.tx.start.error(f"835 transaction set {number} has no {what}")

    def _payer_id(self, warn: Callable[[Segment | None, str], None]) -> str:
        for source in ("2U", "N1"):
            if self.payer_ids.get(source):
                return self.payer_ids[source]
        assert self.trn is not None
        fallback = self.trn.value(3)
        if not fallback:
            raise self._missing("payer identifier (REF*2U, N104 or TRN03)")
        warn(self.trn, "payer has no REF*2U or N1 identifier; TRN03 used as payer id")
        return fallback

    def _payment(self, bpr: Segment, trn: Segment,
                 warn: Callable[[Segment | None, str], None]) -> Payment:
        credit_debit = bpr.value(3) or "C"
        if credit_debit not in ("C", "D"):
            raise bpr.error(f"BPR03 must be C or D, found {credit_debit!r}", 3)
        return Payment(
            amount=bpr.amount(2, what="total payment"),
            credit_debit=credit_debit,
            method=bpr.required(4, what="payment method"),
            date=self._payment_date(bpr, warn),
            trace_number=trn.limited(2, 50, what="check or EFT trace number", required=True),
            payer_identifier=trn.value(3) or None,
        )

    def _payment_date(self, bpr: Segment, warn: Callable[[Segment | None, str], None]) -> date:
        try:
            return parse_date(bpr.value(16))
        except ValueError:
            pass
        fallback = self.production_date or self.tx.envelope.created.date()
        source = "DTM*405 production date" if self.production_date else "GS04 date"
        found = repr(bpr.value(16)) if bpr.value(16) else "missing"
        warn(bpr, f"BPR16 payment date {found} is not a valid date; {source} {fallback} used")
        return fallback

    def _check_total(self, remittance: Remittance835) -> None:
        plb = sum((p.amount for p in remittance.provider_adjustments), _ZERO)
        if self.paid_total - plb != remittance.payment.amount:
            self.tx.warn(self.bpr, f"claims paid {self.paid_total} minus provider adjustments "
                                   f"{plb} is not the BPR02 total {remittance.payment.amount}")


def _required_date(segment: Segment, position: int, *, what: str) -> date:
    text = segment.required(position, what=what)
    try:
        return parse_date(text)
    except ValueError:
        raise segment.error(f"{segment.id}{position:02d} ({what}) is not a date: {text!r}",
                            position) from None

