"""Write a batch of claims as one 837P (005010X222A1) or 837I (005010X223A2) file.

One ST per batch; a 2000A billing-provider HL per distinct billing provider and, under it, one
2000B subscriber HL per claim (the patient is the subscriber: SBR02 = 18, no 2000C loop).
"""

from __future__ import annotations

from datetime import date

from reclaim.claims.schemas import Address, BillingProvider, ClaimDocument, Provider, ServiceLine
from reclaim.x12.common import DEFAULT_DELIMITERS, Delimiters
from reclaim.x12.models import Batch837, Claim837
from reclaim.x12.segments import SegmentWriter, amount, clip, d8, interchange, rd8

IMPLEMENTATION = {"professional": "005010X222A1", "institutional": "005010X223A2"}
MAX_DIAGNOSES_PER_HI = 12
# The claim document carries no UB-04 admission fields; these are the common outpatient/elective
# values (CL1: elective admission, non-facility origin, discharged home or still a patient).
ADMISSION_TYPE_ELECTIVE = "3"
ADMISSION_SOURCE_NON_FACILITY = "1"
STATUS_DISCHARGED_HOME = "01"
STATUS_STILL_PATIENT = "30"


def write_837(batch: Batch837, *, delimiters: Delimiters = DEFAULT_DELIMITERS) -> str:
    """The batch as an X12 837 file; ValueError says which claim or line cannot be written."""
    claim_type = _claim_type(batch)
    out = SegmentWriter(delimiters)
    _header(out, batch)
    hl = 0
    for provider, claims in _by_billing_provider(batch.claims):
        hl += 1
        provider_hl = hl
        _billing_provider(out, provider, hl)
        for claim in claims:
            hl += 1
            _subscriber(out, claim, batch.payer_name, hl=hl, parent_hl=provider_hl)
            if claim.document.subscriber is not None:
                hl += 1  # the patient's 2000C
            _claim(out, claim, claim_type)
    return interchange(
        envelope=batch.envelope,
        functional_id="HC",
        implementation=IMPLEMENTATION[claim_type],
        transaction_set_id="837",
        body=out.segments,
        delimiters=delimiters,
    )


def _claim_type(batch: Batch837) -> str:
    if not batch.claims:
        raise ValueError("an 837 batch needs at least one claim")
    types = {claim.document.claim_type for claim in batch.claims}
    if len(types) > 1:
        raise ValueError(f"an 837 batch holds one claim type, got {sorted(types)}")
    return types.pop()


def _by_billing_provider(
    claims: list[Claim837],
) -> list[tuple[BillingProvider, list[Claim837]]]:
    groups: dict[str, tuple[BillingProvider, list[Claim837]]] = {}
    for claim in claims:
        provider = claim.document.billing_provider
        key = provider.model_dump_json()
        groups.setdefault(key, (provider, []))[1].append(claim)
    return list(groups.values())


def _header(out: SegmentWriter, batch: Batch837) -> None:
    env = batch.envelope
    out.add(
        "BHT",
        "0019",
        "00",
        str(env.interchange_control_number),
        env.created.strftime("%Y%m%d"),
        env.created.strftime("%H%M"),
        "CH",
    )
    sub = batch.submitter
    out.add("NM1", "41", "2", clip(sub.name, 60), None, None, None, None, "46", sub.id)
    out.add("PER", "IC", clip(sub.contact_name, 60), "TE", _digits(sub.contact_phone))
    rec = batch.receiver
    out.add("NM1", "40", "2", clip(rec.name, 60), None, None, None, None, "46", rec.id)


def _billing_provider(out: SegmentWriter, provider: BillingProvider, hl: int) -> None:
    out.add("HL", str(hl), None, "20", "1")
    if provider.taxonomy:
        out.add("PRV", "BI", "PXC", provider.taxonomy)
    out.add("NM1", "85", "2", clip(provider.name, 60), None, None, None, None, "XX", provider.npi)
    _address(out, provider.address, zip_plus_four=True)
    out.add("REF", "EI", _digits(provider.tax_id))


def _subscriber(
    out: SegmentWriter, claim: Claim837, payer_name: str, *, hl: int, parent_hl: int
) -> None:
    doc = claim.document
    patient = doc.patient
    subscriber = doc.subscriber
    out.add("HL", str(hl), str(parent_hl), "22", "0" if subscriber is None else "1")
    out.add("SBR", "P", "18" if subscriber is None else None, None, None, None, None, None, None,
            "CI")
    insured = subscriber or patient
    out.add(
        "NM1",
        "IL",
        "1",
        clip(insured.last_name, 60),
        clip(insured.first_name, 35),
        None,
        None,
        None,
        "MI",
        patient.member_id,
    )
    if subscriber is None:
        _address(out, patient.address)
        out.add("DMG", "D8", d8(patient.birth_date), patient.sex)
    else:
        if subscriber.address is not None:
            _address(out, subscriber.address)
        if subscriber.birth_date is not None:
            out.add("DMG", "D8", d8(subscriber.birth_date), subscriber.sex or "U")
    out.add("NM1", "PR", "2", clip(payer_name, 60), None, None, None, None, "PI", doc.payer_id)
    if subscriber is not None:
        # Loop 2000C: the patient is a dependant of the subscriber (PAT01 the relationship).
        out.add("HL", str(hl + 1), str(hl), "23", "0")
        out.add("PAT", subscriber.relationship)
        out.add("NM1", "QC", "1", clip(patient.last_name, 60), clip(patient.first_name, 35))
        _address(out, patient.address)
        out.add("DMG", "D8", d8(patient.birth_date), patient.sex)


def _address(out: SegmentWriter, address: Address, *, zip_plus_four: bool = False) -> None:
    out.add("N3", clip(address.line1, 55), clip(address.line2 or "", 55) or None)
    postal = _digits(address.zip)
    if zip_plus_four and len(postal) == 5:
        # The guides (X222A1/X223A2 2010AA N403) require all nine digits for the billing
        # provider; the claim document may hold five, so the add-on is sent as 0000.
        postal += "0000"
    out.add("N4", address.city, address.state, postal)


def _claim(out: SegmentWriter, claim: Claim837, claim_type: str) -> None:
    doc = claim.document
    if not doc.diagnoses:
        raise ValueError(f"claim {claim.patient_control_number}: at least one diagnosis is needed")
    if claim_type == "professional":
        _clm_professional(out, claim)
    else:
        _clm_institutional(out, claim)
    _claim_references(out, claim)
    if claim_type == "professional":
        _hi_professional(out, doc.diagnoses)
        _provider(out, "DN", doc.referring_provider)
        _provider(out, "82", doc.rendering_provider)
        for number, line in enumerate(doc.lines, start=1):
            _sv1(out, claim, line, number)
    else:
        _hi_institutional(out, doc.diagnoses)
        _provider(out, "71", doc.rendering_provider)
        _provider(out, "DN", doc.referring_provider)
        for number, line in enumerate(doc.lines, start=1):
            _sv2(out, claim, line, number)


def _clm_professional(out: SegmentWriter, claim: Claim837) -> None:
    doc = claim.document
    location = [doc.place_of_service, "B", claim.frequency_code]
    total = amount(doc.total_charge)
    out.add("CLM", claim.patient_control_number, total, None, None, location, "Y", "A", "Y", "Y")


def _clm_institutional(out: SegmentWriter, claim: Claim837) -> None:
    doc = claim.document
    location = [_facility_type(claim), "A", claim.frequency_code]
    total = amount(doc.total_charge)
    out.add("CLM", claim.patient_control_number, total, None, None, location, None, "A", "Y", "Y")
    start, end = _statement_period(doc)
    out.add("DTP", "434", "RD8", rd8(start, end))
    if doc.admission_date is not None:
        out.add("DTP", "435", "D8", d8(doc.admission_date))
        status = STATUS_DISCHARGED_HOME if doc.discharge_date else STATUS_STILL_PATIENT
        out.add("CL1", ADMISSION_TYPE_ELECTIVE, ADMISSION_SOURCE_NON_FACILITY, status)
    else:
        out.add("CL1", None, None, STATUS_DISCHARGED_HOME)


def _facility_type(claim: Claim837) -> str:
    bill_type = (claim.document.type_of_bill or "").strip()
    if len(bill_type) == 4 and bill_type.startswith("0"):
        bill_type = bill_type[1:]
    if len(bill_type) != 3 or not bill_type.isdigit():
        raise ValueError(
            f"claim {claim.patient_control_number}: type_of_bill must be 3 digits (or 4 with a "
            f"leading 0) for an institutional claim, got {claim.document.type_of_bill!r}"
        )
    return bill_type[:2]


def _statement_period(doc: ClaimDocument) -> tuple[date, date]:
    dates = [doc.service_date, *(line.service_date for line in doc.lines if line.service_date)]
    start = min([doc.admission_date or doc.service_date, *dates])
    end = max([doc.discharge_date or start, *dates])
    return start, end


def _claim_references(out: SegmentWriter, claim: Claim837) -> None:
    # Loop 2300 order (X222A1/X223A2): referral number 9F, prior authorization G1, then the
    # payer claim control number F8.
    if claim.document.referral_number:
        out.add("REF", "9F", claim.document.referral_number)
    if claim.document.prior_authorization:
        out.add("REF", "G1", claim.document.prior_authorization)
    if claim.frequency_code in ("7", "8"):
        if not claim.payer_claim_control_number:
            raise ValueError(
                f"claim {claim.patient_control_number}: frequency {claim.frequency_code} needs "
                "the payer claim control number (REF*F8)"
            )
        out.add("REF", "F8", claim.payer_claim_control_number)


def _diagnosis(code: str) -> str:
    return code.replace(".", "").strip().upper()


def _hi_professional(out: SegmentWriter, diagnoses: list[str]) -> None:
    codes = [["ABK" if i == 0 else "ABF", _diagnosis(c)] for i, c in enumerate(diagnoses)]
    out.add("HI", *codes[:MAX_DIAGNOSES_PER_HI])


def _hi_institutional(out: SegmentWriter, diagnoses: list[str]) -> None:
    out.add("HI", ["ABK", _diagnosis(diagnoses[0])])
    others = [["ABF", _diagnosis(c)] for c in diagnoses[1:]]
    if others:
        out.add("HI", *others[:MAX_DIAGNOSES_PER_HI])


def _provider(out: SegmentWriter, entity: str, provider: Provider | None) -> None:
    if provider is None:
        return
    out.add(
        "NM1",
        entity,
        "1",
        clip(provider.last_name, 60),
        clip(provider.first_name, 35),
        None,
        None,
        None,
        "XX",
        provider.npi,
    )
    if provider.taxonomy and entity in ("82", "71"):
        # PRV in 2310B (rendering, PE) and 2310A of an 837I (attending, AT).
        out.add("PRV", "PE" if entity == "82" else "AT", "PXC", provider.taxonomy)


def _procedure(line: ServiceLine) -> list[str | None]:
    return ["HC", line.procedure, *line.modifiers]


def _line_control_number(claim: Claim837, number: int) -> str:
    if claim.line_control_numbers:
        if len(claim.line_control_numbers) < number:
            raise ValueError(
                f"claim {claim.patient_control_number}: line_control_numbers has "
                f"{len(claim.line_control_numbers)} entries for {len(claim.document.lines)} lines"
            )
        return claim.line_control_numbers[number - 1]
    return f"{claim.patient_control_number}-{number}"


def _line_trailer(out: SegmentWriter, claim: Claim837, line: ServiceLine, number: int) -> None:
    out.add("DTP", "472", "D8", d8(line.service_date or claim.document.service_date))
    out.add("REF", "6R", _line_control_number(claim, number))
    if line.ndc and line.ndc_quantity is not None and line.ndc_unit:
        # Loop 2410 drug identification: LIN03 the 11-digit NDC (N4), CTP04/CTP05-1 its quantity.
        out.add("LIN", None, "N4", line.ndc)
        out.add("CTP", None, None, None, amount(line.ndc_quantity), [line.ndc_unit])


def _sv1(out: SegmentWriter, claim: Claim837, line: ServiceLine, number: int) -> None:
    pointers = [str(p) for p in line.diagnosis_pointers]
    out.add("LX", str(number))
    out.add(
        "SV1",
        _procedure(line),
        amount(line.charge),
        "UN",
        amount(line.units),
        None,
        None,
        pointers,
    )
    _line_trailer(out, claim, line, number)


def _sv2(out: SegmentWriter, claim: Claim837, line: ServiceLine, number: int) -> None:
    if not line.revenue_code:
        raise ValueError(
            f"claim {claim.patient_control_number}: lines[{number - 1}].revenue_code is required "
            "on an institutional claim"
        )
    out.add("LX", str(number))
    out.add(
        "SV2",
        line.revenue_code.zfill(4),
        _procedure(line),
        amount(line.charge),
        "UN",
        amount(line.units),
    )
    _line_trailer(out, claim, line, number)


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())
