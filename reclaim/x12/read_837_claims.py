"""Read an 837P (005010X222A1) or 837I (005010X223A2) as a practice's system sends it: every CLM
as a claim document (reclaim.claims.schemas), claim by claim.

Used by the 837 intake (reclaim/claims/intake.py). A claim whose segments are malformed, or that
lacks what a claim document needs, is refused on its own with its segment number and the reason;
the other claims of the file are read. Only what cannot be read at all (the envelope, a file
that is not an 837) raises `X12Error`.

Loops read (X222A1/X223A2): 1000A submitter (NM1*41), 2000A/2010AA billing provider (PRV*BI,
NM1*85, N3, N4, REF*EI/SY), 2000B/2010BA subscriber (SBR, NM1*IL, N3, N4, DMG), 2010BB payer
(NM1*PR), 2000C/2010CA patient (PAT, NM1*QC, N3, N4, DMG), 2300 claim (CLM, DTP, CL1, REF*G1/
9F/F8, HI), 2310A/B/D referring, rendering, attending (NM1*DN/82/71), 2400 lines (LX, SV1/SV2,
DTP*472, REF*6R), 2410 drug (LIN*N4, CTP). Other-payer loops (2320/2330x) and line providers
(2420x) are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError

from reclaim.claims.schemas import ClaimDocument
from reclaim.x12.common import X12Error
from reclaim.x12.elements_837 import (
    diagnosis_pointers,
    parse_date_or_error,
    procedure_code,
    segment_date,
    with_dot,
)
from reclaim.x12.models import FileType, ReadWarning
from reclaim.x12.reader import Transaction, X12Reader, expect_type
from reclaim.x12.segment import Segment

# ICD-10-CM qualifiers (principal ABK, other ABF) and their ICD-9 forms (BK, BF).
PRINCIPAL_DIAGNOSIS = frozenset({"ABK", "BK"})
OTHER_DIAGNOSIS = frozenset({"ABF", "BF"})
_ICD10 = frozenset({"ABK", "ABF"})
# Where each field of the claim document comes from, for a refusal that says what to fix.
_SOURCES = {
    "patient.birth_date": "DMG02 of the patient (loop 2010BA or 2010CA)",
    "patient.sex": "DMG03 of the patient (loop 2010BA or 2010CA)",
    "patient.address": "N3/N4 of the patient (loop 2010BA or 2010CA)",
    "patient.first_name": "NM104 of the patient (loop 2010BA or 2010CA)",
    "patient.last_name": "NM103 of the patient (loop 2010BA or 2010CA)",
    "patient.member_id": "NM109 of the subscriber (loop 2010BA)",
    "billing_provider.tax_id": "REF*EI of the billing provider (loop 2010AA)",
    "billing_provider.address": "N3/N4 of the billing provider (loop 2010AA)",
    "billing_provider.npi": "NM109 (XX) of the billing provider (loop 2010AA)",
    "billing_provider.name": "NM103 of the billing provider (loop 2010AA)",
    "payer_id": "NM109 of the payer (loop 2010BB)",
    "diagnoses": "HI (loop 2300)",
    "lines": "LX/SV1/SV2 (loop 2400)",
    "service_date": "DTP*472 of the lines (or DTP*434 of the claim)",
    "frequency_code": "CLM05-3 (only 1, 7 and 8 are taken)",
    "type_of_bill": "CLM05-1 and CLM05-3",
}


@dataclass
class ReadClaim:
    """One CLM read into a claim document."""

    patient_control_number: str
    segment_index: int
    document: ClaimDocument
    line_control_numbers: list[str] = field(default_factory=list)


@dataclass
class RefusedClaim:
    patient_control_number: str | None
    segment_index: int | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"patient_control_number": self.patient_control_number,
                "segment": self.segment_index, "reason": self.reason}


@dataclass
class Read837:
    file_type: FileType
    submitter: str  # 1000A NM109 (else ISA06): whose patient control numbers these are
    claims: list[ReadClaim]
    refused: list[RefusedClaim]
    warnings: list[ReadWarning]


def read_837_claims(text: str | bytes) -> Read837:
    reader = X12Reader(text)
    claims: list[ReadClaim] = []
    refused: list[RefusedClaim] = []
    transactions: list[Transaction] = []
    file_type: FileType | None = None
    submitter = ""
    for transaction in reader.transactions():
        expect_type(transaction, "837P", "837I")
        if file_type is None:
            file_type = transaction.file_type
        elif transaction.file_type != file_type:
            raise transaction.start.error(
                f"file mixes {file_type} and {transaction.file_type} transaction sets")
        transactions.append(transaction)
        body = _Transaction(transaction)
        body.read()
        submitter = submitter or body.submitter or transaction.envelope.sender_id
        claims.extend(body.claims)
        refused.extend(body.refused)
    if file_type is None:
        raise X12Error("no transaction set in the file", segment_index=1, segment_id="ST")
    return Read837(file_type=file_type, submitter=submitter, claims=claims, refused=refused,
                   warnings=reader.warnings_for(*transactions))


@dataclass
class _Party:
    """An NM1 and the N3/N4/DMG/REF/PRV that follow it."""

    nm1: Segment
    address: dict[str, str] = field(default_factory=dict)
    birth_date: date | None = None
    sex: str | None = None
    tax_id: str | None = None
    taxonomy: str | None = None
    relationship: str | None = None  # SBR02 / PAT01


@dataclass
class _Claim:
    clm: Segment
    billing: _Party | None
    subscriber: _Party | None
    patient: _Party | None
    payer: _Party | None
    refs: dict[str, str] = field(default_factory=dict)
    dates: dict[str, str] = field(default_factory=dict)
    diagnoses: list[str] = field(default_factory=list)
    providers: dict[str, Segment] = field(default_factory=dict)
    lines: list[dict[str, Any]] = field(default_factory=list)
    line_controls: list[str] = field(default_factory=list)
    taxonomy: dict[str, str] = field(default_factory=dict)  # PRV01 (PE, AT) -> PRV03
    lx: Segment | None = None  # the last line's LX
    other_payer: bool = False  # inside 2320/2330x: their NM1s are not ours
    error: X12Error | None = None


class _Transaction:
    def __init__(self, transaction: Transaction) -> None:
        self.tx = transaction
        self.professional = transaction.file_type == "837P"
        self.submitter: str | None = None
        self.party: _Party | None = None  # the NM1 the next N3/N4/DMG/REF belong to
        self.billing: _Party | None = None
        self.billing_taxonomy: str | None = None
        self.subscriber: _Party | None = None
        self.patient: _Party | None = None
        self.payer: _Party | None = None
        self.relationship: str | None = None
        self.level: str | None = None
        self.claim: _Claim | None = None
        self.claims: list[ReadClaim] = []
        self.refused: list[RefusedClaim] = []

    def read(self) -> None:
        for segment in self.tx.segments():
            claim = self.claim
            if segment.id in ("HL", "CLM"):
                self._finish()
            elif claim is not None and claim.error is not None:
                continue  # the rest of a refused claim
            try:
                self._segment(segment)
            except X12Error as exc:
                if self.claim is None:
                    raise
                self.claim.error = self.claim.error or exc
        self._finish()

    def _segment(self, segment: Segment) -> None:
        seg_id = segment.id
        if seg_id == "HL":
            self._hl(segment)
        elif seg_id == "CLM":
            self._clm(segment)
        elif seg_id == "NM1":
            self._nm1(segment)
        elif seg_id == "SBR":
            if self.claim is not None:
                self.claim.other_payer = True  # 2320: other subscriber information
            else:
                self.relationship = segment.value(2) or None
        elif seg_id == "PAT" and self.claim is None:
            self.relationship = segment.value(1) or None
        elif seg_id == "PRV" and self.claim is None:
            self._prv(segment)
        elif seg_id == "PRV" and self.claim is not None and not self.claim.lines:
            self.claim.taxonomy.setdefault(segment.value(1), segment.value(3))
        elif seg_id == "LX" and self.claim is not None:
            self.claim.other_payer = False  # the 2320/2330x loops end where the lines begin
            self._claim_segment(self.claim, segment)
        elif self.claim is not None and not self.claim.other_payer:
            self._claim_segment(self.claim, segment)
        elif self.party is not None and self.claim is None:
            self._party_detail(self.party, segment)

    # -- hierarchy and parties

    def _hl(self, segment: Segment) -> None:
        self.level = segment.value(3)
        self.party = None
        if self.level == "20":
            self.billing = None
            self.billing_taxonomy = None
        elif self.level == "22":
            self.subscriber = self.patient = self.payer = None
            self.relationship = None
        elif self.level == "23":
            self.patient = None

    def _nm1(self, segment: Segment) -> None:
        entity = segment.value(1)
        claim = self.claim
        if claim is not None:
            if claim.other_payer:
                return
            if claim.lines:
                self.party = None  # 2420x line providers: not kept
                return
            if entity in ("82", "DN", "71"):
                claim.providers.setdefault(entity, segment)
            return
        party = _Party(segment)
        self.party = party
        if entity == "41":
            self.submitter = segment.value(9) or None
        elif entity == "85":
            party.taxonomy = self.billing_taxonomy
            self.billing = party
        elif entity == "IL":
            party.relationship = self.relationship
            self.subscriber = party
        elif entity == "QC":
            party.relationship = self.relationship
            self.patient = party
        elif entity == "PR":
            self.payer = party
        else:
            self.party = None  # pay-to, responsible party, ...: not the claim's

    def _party_detail(self, party: _Party, segment: Segment) -> None:
        if segment.id == "N3":
            party.address["line1"] = segment.value(1)
            if segment.value(2):
                party.address["line2"] = segment.value(2)
        elif segment.id == "N4":
            party.address.update(city=segment.value(1), state=segment.value(2),
                                 zip=segment.value(3))
        elif segment.id == "DMG":
            party.birth_date = self.tx.optional_date(segment, 2, what="birth date")
            party.sex = segment.value(3) or None
        elif segment.id == "REF" and segment.value(1) in ("EI", "SY") and not party.tax_id:
            party.tax_id = segment.value(2) or None

    def _prv(self, segment: Segment) -> None:
        # 2000A PRV*BI comes before the billing provider's NM1*85.
        if self.level == "20" and segment.value(1) == "BI":
            self.billing_taxonomy = segment.value(3) or None

    # -- the claim

    def _clm(self, segment: Segment) -> None:
        self.party = None
        self.claim = _Claim(clm=segment, billing=self.billing, subscriber=self.subscriber,
                            patient=self.patient, payer=self.payer)
        segment.limited(1, 38, what="patient control number", required=True)
        segment.amount(2, what="total claim charge", stored=True)
        segment.required(5, 1, what="place of service or facility type")

    def _claim_segment(self, claim: _Claim, segment: Segment) -> None:
        seg_id = segment.id
        if seg_id == "LX":
            if claim.lines and "charge" not in claim.lines[-1] and claim.lx is not None:
                raise claim.lx.error("service line (LX) without its SV1 or SV2")
            claim.lines.append({})
            claim.line_controls.append("")
            claim.lx = segment
        elif seg_id == "SV1":
            self._sv1(claim, segment)
        elif seg_id == "SV2":
            self._sv2(claim, segment)
        elif seg_id == "DTP":
            self._dtp(claim, segment)
        elif seg_id == "REF":
            self._ref(claim, segment)
        elif seg_id == "HI" and not claim.lines:
            self._hi(claim, segment)
        elif seg_id == "LIN" and claim.lines:
            if segment.value(2) == "N4":
                claim.lines[-1]["ndc"] = segment.required(3, what="national drug code")
        elif seg_id == "CTP" and claim.lines:
            claim.lines[-1]["ndc_quantity"] = str(segment.amount(4, what="drug quantity"))
            claim.lines[-1]["ndc_unit"] = segment.required(5, 1, what="drug unit")

    def _line(self, claim: _Claim, segment: Segment) -> dict[str, Any]:
        if not claim.lines or "charge" in claim.lines[-1]:
            raise segment.error(f"{segment.id} outside a service line (LX) of a claim")
        return claim.lines[-1]

    def _sv1(self, claim: _Claim, segment: Segment) -> None:
        line = self._line(claim, segment)
        composite = segment.components(1)
        line.update(
            procedure=procedure_code(segment, 1, self.tx.delimiters.component),
            modifiers=[m for m in composite[2:6] if m],
            charge=str(segment.amount(2, what="line charge")),
            units=str(segment.amount(4, what="units")),
            diagnosis_pointers=diagnosis_pointers(segment, 7),
        )

    def _sv2(self, claim: _Claim, segment: Segment) -> None:
        line = self._line(claim, segment)
        composite = segment.components(2)
        line.update(
            revenue_code=segment.required(1, what="revenue code"),
            procedure=procedure_code(segment, 2, self.tx.delimiters.component),
            modifiers=[m for m in composite[2:6] if m],
            charge=str(segment.amount(3, what="line charge")),
            units=str(segment.amount(5, what="units")),
        )

    def _dtp(self, claim: _Claim, segment: Segment) -> None:
        qualifier = segment.value(1)
        if claim.lines:
            if qualifier == "472":
                found = segment_date(segment, 3)
                claim.lines[-1]["service_date"] = found
            return
        if qualifier in ("472", "434", "435", "096"):
            claim.dates[qualifier] = segment_date(segment, 3)
            if qualifier == "434":
                end = segment.value(3).partition("-")[2]
                if end:
                    claim.dates["434-end"] = parse_date_or_error(segment, end)

    def _ref(self, claim: _Claim, segment: Segment) -> None:
        qualifier = segment.value(1)
        if claim.lines:
            if qualifier == "6R":
                claim.line_controls[-1] = segment.required(2, what="line control number")
            return
        if qualifier in ("G1", "9F", "F8"):
            claim.refs.setdefault(qualifier, segment.required(2, what=f"REF*{qualifier}"))

    def _hi(self, claim: _Claim, segment: Segment) -> None:
        for position in range(1, len(segment.raw) + 1):
            qualifier = segment.value(position, 1)
            if qualifier in PRINCIPAL_DIAGNOSIS or qualifier in OTHER_DIAGNOSIS:
                code = segment.required(position, 2, what="diagnosis code")
                claim.diagnoses.append(with_dot(code) if qualifier in _ICD10 else code)

    def _finish(self) -> None:
        claim, self.claim = self.claim, None
        if claim is None:
            return
        pcn = claim.clm.value(1) or None
        if claim.error is None and claim.lines and "charge" not in claim.lines[-1] and claim.lx:
            claim.error = claim.lx.error("service line (LX) without its SV1 or SV2")
        if claim.error is not None:
            self.refused.append(RefusedClaim(pcn, claim.error.segment_index,
                                             str(claim.error)))
            return
        try:
            document = ClaimDocument.model_validate(self._document(claim))
        except ValueError as exc:  # X12Error, or pydantic's ValidationError
            self.refused.append(RefusedClaim(pcn, _index(exc, claim.clm), _reason(exc)))
            return
        total = claim.clm.amount(2)
        if total != document.total_charge:
            self.refused.append(RefusedClaim(
                pcn, claim.clm.index,
                f"CLM02 total charge {total} is not the sum of the lines' charges "
                f"({document.total_charge})"))
            return
        assert pcn is not None
        controls = claim.line_controls if all(claim.line_controls) else []
        self.claims.append(ReadClaim(pcn, claim.clm.index, document, controls))

    def _document(self, claim: _Claim) -> dict[str, Any]:
        clm = claim.clm
        if claim.billing is None:
            raise clm.error("claim without a billing provider (NM1*85, loop 2010AA) before it")
        if claim.subscriber is None:
            raise clm.error("claim without a subscriber (NM1*IL, loop 2010BA) before it")
        if claim.payer is None:
            raise clm.error("claim without a payer (NM1*PR, loop 2010BB) before it")
        patient = claim.patient or claim.subscriber
        location = clm.components(5)
        frequency = location[2] if len(location) > 2 else ""
        lines = claim.lines
        service_dates = [line["service_date"] for line in lines if line.get("service_date")]
        service_date = claim.dates.get("472") or claim.dates.get("434") or (
            min(service_dates) if service_dates else None)
        document: dict[str, Any] = {
            "claim_type": "professional" if self.professional else "institutional",
            "payer_id": claim.payer.nm1.value(9),
            "patient": _person(patient, member_id=claim.subscriber.nm1.value(9)),
            "billing_provider": _billing(claim.billing),
            "service_date": service_date,
            "diagnoses": claim.diagnoses,
            "lines": lines,
            "prior_authorization": claim.refs.get("G1"),
            "referral_number": claim.refs.get("9F"),
            "frequency_code": frequency or None,
            "payer_claim_control_number": claim.refs.get("F8"),
        }
        if claim.patient is not None and claim.subscriber is not None:
            document["subscriber"] = _subscriber(claim.subscriber, claim.patient)
        if self.professional:
            document["place_of_service"] = location[0]
            rendering = claim.providers.get("82")
        else:
            document["type_of_bill"] = f"{location[0]}{frequency}"
            document["admission_date"] = claim.dates.get("435")
            document["discharge_date"] = claim.dates.get("096")
            rendering = claim.providers.get("71") or claim.providers.get("82")
        if rendering is not None:
            document["rendering_provider"] = self._provider(claim, rendering)
        if "DN" in claim.providers:
            document["referring_provider"] = self._provider(claim, claim.providers["DN"])
        return {key: value for key, value in document.items() if value is not None}

    def _provider(self, claim: _Claim, nm1: Segment) -> dict[str, str] | None:
        if nm1.value(2) != "1":
            self.tx.warn(nm1, f"claim {claim.clm.value(1)}: NM1*{nm1.value(1)} is an "
                              "organisation, not a person; the provider is left out")
            return None
        if nm1.value(8) != "XX" or not nm1.value(9):
            self.tx.warn(nm1, f"claim {claim.clm.value(1)}: NM1*{nm1.value(1)} has no NPI "
                              "(NM108 XX); the provider is left out")
            return None
        found = {"npi": nm1.value(9), "first_name": nm1.value(4), "last_name": nm1.value(3)}
        taxonomy = claim.taxonomy.get({"82": "PE", "71": "AT"}.get(nm1.value(1), ""))
        if taxonomy:
            found["taxonomy"] = taxonomy
        return found


def _person(party: _Party, *, member_id: str) -> dict[str, Any]:
    return {"first_name": party.nm1.value(4), "last_name": party.nm1.value(3),
            "birth_date": party.birth_date, "sex": party.sex, "member_id": member_id,
            "address": party.address or None}


def _subscriber(subscriber: _Party, patient: _Party) -> dict[str, Any]:
    found = {"first_name": subscriber.nm1.value(4), "last_name": subscriber.nm1.value(3),
             "relationship": patient.relationship, "birth_date": subscriber.birth_date,
             "sex": subscriber.sex, "address": subscriber.address or None}
    return {key: value for key, value in found.items() if value}


def _billing(party: _Party) -> dict[str, Any]:
    nm1 = party.nm1
    name = nm1.value(3) if nm1.value(2) != "1" else " ".join(
        part for part in (nm1.value(4), nm1.value(3)) if part)
    found = {"npi": nm1.value(9) if nm1.value(8) == "XX" else "", "name": name,
             "tax_id": party.tax_id, "address": party.address or None,
             "taxonomy": party.taxonomy}
    return {key: value for key, value in found.items() if value is not None}


def _index(exc: ValueError, clm: Segment) -> int:
    if isinstance(exc, X12Error) and exc.segment_index is not None:
        return exc.segment_index
    return clm.index


def _reason(exc: ValueError) -> str:
    if not isinstance(exc, ValidationError):
        return str(exc)
    reasons = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error["loc"])
        source = next((text for key, text in _SOURCES.items()
                       if where == key or where.startswith(key + ".")), None)
        reasons.append(f"{where}: {error['msg']}" + (f" (from {source})" if source else ""))
    return "; ".join(reasons)
