"""The X12 writers: every file they produce passes pyx12's 5010 maps, with the right envelope."""

from __future__ import annotations

import copy
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from reclaim.claims.schemas import ClaimDocument
from reclaim.x12.common import DEFAULT_DELIMITERS, Delimiters
from reclaim.x12.models import (
    Ack999,
    AckError,
    AckTransaction,
    Adjustment,
    Batch837,
    Claim837,
    ClaimPayment,
    ClaimStatus277,
    Envelope,
    Party,
    Payment,
    ProviderAdjustment,
    Remittance835,
    ServicePayment,
    Status277CA,
)
from reclaim.x12.segments import amount, clean, interchange, render
from reclaim.x12.validate import validate_x12
from reclaim.x12.write_837 import write_837
from reclaim.x12.write_payer import write_277ca, write_835, write_999
from tests.support import design_claim

# The claim document of DESIGN.md, the base of every 837 case.
DESIGN_CLAIM: dict[str, Any] = design_claim()

TWELVE_DIAGNOSES = [
    "E11.9", "I10", "E78.5", "J45.909", "M54.5", "K21.9",
    "F41.1", "G47.33", "N39.0", "R51.9", "Z79.4", "E66.9",
]  # fmt: skip


def envelope(number: int = 17, sender: str = "RECLAIM", receiver: str = "SANDBOX") -> Envelope:
    return Envelope(
        sender_id=sender,
        receiver_id=receiver,
        interchange_control_number=number,
        group_control_number=number,
        transaction_control_number="0001",
        created=datetime(2026, 11, 3, 10, 5),
    )


def claim_doc(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(DESIGN_CLAIM)
    doc.update(changes)
    return doc


def claim(doc: dict[str, Any] | None = None, pcn: str = "RC1001", **extra: Any) -> Claim837:
    document = ClaimDocument.model_validate(doc or claim_doc())
    return Claim837(document=document, patient_control_number=pcn, **extra)


def batch(*claims: Claim837) -> Batch837:
    return Batch837(
        envelope=envelope(),
        submitter=Party(name="Reclaim Billing", id="RECLAIM"),
        receiver=Party(name="Sandbox Clearinghouse", id="SANDBOX"),
        payer_name="Sandbox Health",
        claims=list(claims) or [claim()],
    )


def segments(text: str, delimiters: Delimiters = DEFAULT_DELIMITERS) -> list[list[str]]:
    raw = [s.strip() for s in text.split(delimiters.segment)]
    return [s.split(delimiters.element) for s in raw if s]


def find(text: str, seg_id: str) -> list[list[str]]:
    return [s for s in segments(text) if s[0] == seg_id]


def assert_valid(text: str) -> None:
    assert validate_x12(text) == []


def line(procedure: str, charge: str, **extra: Any) -> dict[str, Any]:
    return {"procedure": procedure, "charge": charge, **extra}


# ---------------------------------------------------------------- 837P

PROFESSIONAL_CASES: dict[str, Claim837] = {
    "design claim, one line": claim(),
    "several lines with modifiers": claim(
        claim_doc(
            lines=[
                line("99214", "150.00", modifiers=["25"], diagnosis_pointers=[1, 2]),
                line("93000", "45.50", diagnosis_pointers=[2]),
                line("20610", "210.00", modifiers=["RT", "59", "XS", "76"], units=2),
                line("J1100", "12.25", units="3.5", diagnosis_pointers=[1, 2, 3, 4]),
            ],
            diagnoses=["E11.9", "I10", "M17.11", "M25.561"],
        )
    ),
    "twelve diagnoses": claim(claim_doc(diagnoses=TWELVE_DIAGNOSES)),
    "replacement with REF*F8": claim(frequency_code="7", payer_claim_control_number="PCC98765"),
    "void with REF*F8": claim(frequency_code="8", payer_claim_control_number="PCC98765"),
    "prior auth, referring, no rendering": claim(
        claim_doc(
            prior_authorization="AUTH-42",
            rendering_provider=None,
            referring_provider={"npi": "1386754321", "first_name": "Mia", "last_name": "Wong"},
        )
    ),
    "given line control numbers": claim(line_control_numbers=["L-A"]),
    "referral, prior auth and a drug line": claim(
        claim_doc(
            referral_number="REF-77",
            prior_authorization="AUTH-42",
            lines=[
                line("99214", "150.00"),
                line("J1100", "12.25", ndc="00009047013", ndc_quantity="2.5", ndc_unit="ML"),
            ],
        ),
        frequency_code="7", payer_claim_control_number="PCC1",
    ),
    "a dependant of the subscriber, taxonomies": claim(
        claim_doc(
            subscriber={"first_name": "Bo", "last_name": "Lee", "relationship": "19",
                        "birth_date": "1958-01-01", "sex": "M",
                        "address": {"line1": "1 Main St", "city": "Springfield", "state": "IL",
                                    "zip": "62701"}},
            billing_provider={**DESIGN_CLAIM["billing_provider"], "taxonomy": "207Q00000X"},
            rendering_provider={**DESIGN_CLAIM["rendering_provider"], "taxonomy": "207Q00000X"},
        )
    ),
}


@pytest.mark.parametrize("case", PROFESSIONAL_CASES.values(), ids=PROFESSIONAL_CASES.keys())
def test_837p_validates_in_pyx12(case: Claim837) -> None:
    assert_valid(write_837(batch(case)))


def test_837p_design_claim_segments() -> None:
    text = write_837(batch(claim()))
    assert find(text, "CLM") == [["CLM", "RC1001", "150", "", "", "11:B:1", "Y", "A", "Y", "Y"]]
    assert find(text, "HI") == [["HI", "ABK:E119", "ABF:I10"]]
    assert find(text, "SV1") == [["SV1", "HC:99214:25", "150", "UN", "1", "", "", "1:2"]]
    assert ["DTP", "472", "D8", "20261102"] in find(text, "DTP")
    assert find(text, "REF")[-1] == ["REF", "6R", "RC1001-1"]
    names = find(text, "NM1")
    assert ["NM1", "82", "1", "Patel", "Raj", "", "", "", "XX", "1245319599"] in names
    assert ["NM1", "IL", "1", "Lee", "Ann", "", "", "", "MI", "W123456789"] in names
    assert ["NM1", "PR", "2", "Sandbox Health", "", "", "", "", "PI", "SANDBOX"] in names
    assert ["SBR", "P", "18", "", "", "", "", "", "", "CI"] in find(text, "SBR")
    assert find(text, "DMG") == [["DMG", "D8", "19600402", "F"]]
    # The billing provider's ZIP must have nine digits (2010AA N403); the patient's may have five.
    assert find(text, "N4") == [
        ["N4", "Springfield", "IL", "627040000"],
        ["N4", "Springfield", "IL", "62701"],
    ]
    assert find(text, "ST") == [["ST", "837", "0001", "005010X222A1"]]


def test_837p_twelve_diagnoses_in_one_hi() -> None:
    text = write_837(batch(PROFESSIONAL_CASES["twelve diagnoses"]))
    (hi,) = find(text, "HI")
    assert hi[1] == "ABK:E119"
    assert hi[2:] == ["ABF:" + code.replace(".", "") for code in TWELVE_DIAGNOSES[1:]]


@pytest.mark.parametrize(
    ("frequency", "pcc", "expected_ref"),
    [("1", None, None), ("7", "PCC1", ["REF", "F8", "PCC1"]), ("8", "PCC2", ["REF", "F8", "PCC2"])],
)
def test_837p_frequency_and_original_reference(
    frequency: str, pcc: str | None, expected_ref: list[str] | None
) -> None:
    text = write_837(batch(claim(frequency_code=frequency, payer_claim_control_number=pcc)))
    assert find(text, "CLM")[0][5] == f"11:B:{frequency}"
    f8 = [ref for ref in find(text, "REF") if ref[1] == "F8"]
    assert f8 == ([expected_ref] if expected_ref else [])


@pytest.mark.parametrize("frequency", ["7", "8"])
def test_837_replacement_without_original_number_is_refused(frequency: str) -> None:
    with pytest.raises(ValueError, match="REF\\*F8"):
        write_837(batch(claim(frequency_code=frequency)))


def test_837p_line_control_numbers_default_and_given() -> None:
    doc = claim_doc(lines=[line("99213", "90"), line("36415", "10")])
    default = write_837(batch(claim(doc, pcn="P9")))
    assert [r[2] for r in find(default, "REF") if r[1] == "6R"] == ["P9-1", "P9-2"]
    given = write_837(batch(claim(doc, pcn="P9", line_control_numbers=["A1", "B2"])))
    assert [r[2] for r in find(given, "REF") if r[1] == "6R"] == ["A1", "B2"]


def test_837p_prior_authorization_and_referring() -> None:
    text = write_837(batch(PROFESSIONAL_CASES["prior auth, referring, no rendering"]))
    assert ["REF", "G1", "AUTH-42"] in find(text, "REF")
    entities = [s[1] for s in find(text, "NM1")]
    assert "DN" in entities
    assert "82" not in entities


def test_837p_dependant_patient_gets_a_2000c_loop() -> None:
    text = write_837(batch(PROFESSIONAL_CASES["a dependant of the subscriber, taxonomies"]))
    assert find(text, "HL") == [["HL", "1", "", "20", "1"], ["HL", "2", "1", "22", "1"],
                                ["HL", "3", "2", "23", "0"]]
    assert find(text, "PAT") == [["PAT", "19"]]
    assert find(text, "NM1")[3][:5] == ["NM1", "IL", "1", "Lee", "Bo"]
    assert ["NM1", "QC", "1", "Lee", "Ann"] in find(text, "NM1")
    assert find(text, "PRV") == [["PRV", "BI", "PXC", "207Q00000X"],
                                 ["PRV", "PE", "PXC", "207Q00000X"]]


def test_837p_referral_ndc_segments_in_guide_order() -> None:
    text = write_837(batch(PROFESSIONAL_CASES["referral, prior auth and a drug line"]))
    refs = [r[1:] for r in find(text, "REF")]
    assert refs[1:4] == [["9F", "REF-77"], ["G1", "AUTH-42"], ["F8", "PCC1"]]
    assert find(text, "LIN") == [["LIN", "", "N4", "00009047013"]]
    assert find(text, "CTP") == [["CTP", "", "", "", "2.5", "ML"]]
    body = [s[0] for s in segments(text)]
    # The drug (loop 2410) follows the second line's REF*6R.
    assert body.index("LIN") == body.index("REF", body.index("SV1", body.index("SV1") + 1)) + 1


@pytest.mark.parametrize(
    ("line_changes", "message"),
    [({"ndc": "00009047013"}, "go together"), ({"ndc": "123", "ndc_quantity": "1",
                                                "ndc_unit": "UN"}, "at least 11")],
)
def test_ndc_without_its_quantity_or_malformed_is_refused(
    line_changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        ClaimDocument.model_validate(claim_doc(lines=[line("J1100", "10", **line_changes)]))


def test_document_replacement_needs_the_payer_number() -> None:
    with pytest.raises(ValueError, match="payer_claim_control_number"):
        ClaimDocument.model_validate(claim_doc(frequency_code="7"))
    doc = ClaimDocument.model_validate(claim_doc(frequency_code="7",
                                                 payer_claim_control_number="P1"))
    assert doc.frequency_code == "7"


def test_old_claim_json_stays_valid() -> None:
    doc = ClaimDocument.model_validate(claim_doc())
    assert doc.referral_number is None
    assert doc.frequency_code is None
    assert doc.lines[0].ndc is None


def test_837_batch_groups_claims_under_billing_providers() -> None:
    other = claim_doc()
    other["billing_provider"] = {**other["billing_provider"], "npi": "1497758544", "name": "B"}
    text = write_837(batch(claim(pcn="A1"), claim(other, pcn="B1"), claim(pcn="A2")))
    assert_valid(text)
    hls = find(text, "HL")
    assert [h[1:] for h in hls] == [
        ["1", "", "20", "1"],
        ["2", "1", "22", "0"],
        ["3", "1", "22", "0"],
        ["4", "", "20", "1"],
        ["5", "4", "22", "0"],
    ]
    assert [c[1] for c in find(text, "CLM")] == ["A1", "A2", "B1"]


def test_837_mixed_claim_types_are_refused() -> None:
    institutional = claim(INSTITUTIONAL_OUTPATIENT, pcn="I1")
    with pytest.raises(ValueError, match="one claim type"):
        write_837(batch(claim(), institutional))


# ---------------------------------------------------------------- 837I

INSTITUTIONAL_OUTPATIENT = claim_doc(
    claim_type="institutional",
    type_of_bill="0131",
    lines=[
        line("99284", "450.00", revenue_code="0450", modifiers=["25"]),
        line("80053", "75.10", revenue_code="301", service_date="2026-11-03"),
    ],
)
INSTITUTIONAL_INPATIENT = claim_doc(
    claim_type="institutional",
    type_of_bill="111",
    admission_date="2026-10-30",
    discharge_date="2026-11-02",
    diagnoses=TWELVE_DIAGNOSES[:5],
    lines=[line("99223", "1200", revenue_code="0120", units=3)],
)


@pytest.mark.parametrize(
    "case",
    [
        claim(INSTITUTIONAL_OUTPATIENT),
        claim(INSTITUTIONAL_INPATIENT),
        claim(INSTITUTIONAL_OUTPATIENT, frequency_code="7", payer_claim_control_number="PCC5"),
        claim(claim_doc(**{**INSTITUTIONAL_INPATIENT, "diagnoses": TWELVE_DIAGNOSES})),
        claim(claim_doc(**{**INSTITUTIONAL_OUTPATIENT, "referral_number": "R9", "lines": [
            line("96372", "80", revenue_code="0636", ndc="00009047013", ndc_quantity="1",
                 ndc_unit="UN")]})),
    ],
    ids=["outpatient", "inpatient", "replacement", "twelve diagnoses", "referral and drug"],
)
def test_837i_validates_in_pyx12(case: Claim837) -> None:
    assert_valid(write_837(batch(case)))


def test_837i_outpatient_segments() -> None:
    text = write_837(batch(claim(INSTITUTIONAL_OUTPATIENT, pcn="I1")))
    assert find(text, "ST") == [["ST", "837", "0001", "005010X223A2"]]
    assert find(text, "CLM") == [["CLM", "I1", "525.1", "", "", "13:A:1", "", "A", "Y", "Y"]]
    assert ["DTP", "434", "RD8", "20261102-20261103"] in find(text, "DTP")
    assert find(text, "CL1") == [["CL1", "", "", "01"]]
    assert find(text, "HI") == [["HI", "ABK:E119"], ["HI", "ABF:I10"]]
    assert find(text, "SV2") == [
        ["SV2", "0450", "HC:99284:25", "450", "UN", "1"],
        ["SV2", "0301", "HC:80053", "75.1", "UN", "1"],
    ]
    assert ["NM1", "71", "1", "Patel", "Raj", "", "", "", "XX", "1245319599"] in find(text, "NM1")


def test_837i_inpatient_admission() -> None:
    text = write_837(batch(claim(INSTITUTIONAL_INPATIENT)))
    assert find(text, "CLM")[0][5] == "11:A:1"
    assert ["DTP", "435", "D8", "20261030"] in find(text, "DTP")
    assert ["DTP", "434", "RD8", "20261030-20261102"] in find(text, "DTP")
    assert find(text, "CL1") == [["CL1", "3", "1", "01"]]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"type_of_bill": None}, "type_of_bill"),
        ({"type_of_bill": "13"}, "type_of_bill"),
        ({"lines": [line("99284", "450")]}, r"lines\[0\].revenue_code"),
        ({"diagnoses": []}, "diagnosis"),
    ],
)
def test_837i_bad_claims_are_refused(changes: dict[str, Any], message: str) -> None:
    doc = {**INSTITUTIONAL_OUTPATIENT, **changes}
    with pytest.raises(ValueError, match=message):
        write_837(batch(claim(doc)))


# ---------------------------------------------------------------- envelope, data cleaning


def check_envelope(text: str, *, number: int, sets: int = 1) -> None:
    segs = segments(text)
    isa_line = text.split(DEFAULT_DELIMITERS.segment)[0] + DEFAULT_DELIMITERS.segment
    assert len(isa_line) == 106
    isa, gs = segs[0], segs[1]
    assert isa[13] == f"{number:09d}"
    assert [len(e) for e in isa[1:9]] == [2, 10, 2, 10, 2, 15, 2, 15]
    st_index = next(i for i, s in enumerate(segs) if s[0] == "ST")
    se_index = next(i for i, s in enumerate(segs) if s[0] == "SE")
    se, ge, iea = segs[se_index], segs[-2], segs[-1]
    assert int(se[1]) == se_index - st_index + 1
    assert se[2] == segs[st_index][2]
    assert ge == ["GE", str(sets), gs[6]]
    assert iea == ["IEA", "1", isa[13]]


def test_837_envelope_counts_and_control_numbers() -> None:
    text = write_837(batch(PROFESSIONAL_CASES["several lines with modifiers"]))
    check_envelope(text, number=17)
    assert text.count("~ST*837*") == 1


def test_isa_control_number_is_zero_padded_to_nine_digits() -> None:
    text = interchange(
        envelope=envelope(number=123456789),
        functional_id="HC",
        implementation="005010X222A1",
        transaction_set_id="837",
        body=["BHT*0019"],
    )
    assert text.startswith("ISA*00*          *00*          *ZZ*RECLAIM        *ZZ*SANDBOX    ")
    assert "*00501*123456789*0*P*:~" in text
    assert "SE*3*0001~" in text


def test_isa_ids_longer_than_fifteen_are_refused() -> None:
    with pytest.raises(ValueError, match="sender_id"):
        interchange(
            envelope=envelope(sender="A" * 16),
            functional_id="HC",
            implementation="005010X222A1",
            transaction_set_id="837",
            body=[],
        )


def test_delimiters_in_names_are_cleaned() -> None:
    doc = claim_doc()
    doc["patient"] = {**doc["patient"], "last_name": "O*Neil~Smith:Jr^", "first_name": "Zoë"}
    doc["billing_provider"] = {**doc["billing_provider"], "name": "Lee & Park*Clinic"}
    text = write_837(batch(claim(doc)))
    assert_valid(text)
    names = {s[1]: s for s in find(text, "NM1")}
    assert names["IL"][3:5] == ["O Neil Smith Jr", "Zoe"]
    assert names["85"][3] == "Lee & Park Clinic"


def test_other_delimiters_are_used_everywhere() -> None:
    chosen = Delimiters(segment="~", element="|", component=">", repetition="!")
    text = write_837(batch(claim()), delimiters=chosen)
    assert_valid(text)
    assert "SV1|HC>99214>25|150|UN|1|||1>2~" in text
    assert text.split("~")[0].endswith("|!|00501|000000017|0|P|>")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("150.00", "150"),
        ("150.50", "150.5"),
        ("150.55", "150.55"),
        ("0.00", "0"),
        ("1000", "1000"),
        ("0.10", "0.1"),
        ("-12.30", "-12.3"),
        ("2.500", "2.5"),
    ],
)
def test_amounts_drop_needless_zeros(value: str, expected: str) -> None:
    assert amount(Decimal(value)) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Lee", "Lee"),
        ("O*Neil", "O Neil"),
        ("A~B:C^D", "A B C D"),
        ("  two   spaces ", "two spaces"),
        ("line\nbreak\ttab", "line break tab"),
        ("Müller-Ğül", "Muller-Gul"),
    ],
)
def test_clean_removes_delimiters_and_unsafe_characters(value: str, expected: str) -> None:
    assert clean(value) == expected


def test_trailing_empty_elements_and_components_are_dropped() -> None:
    assert render("NM1", ["QC", "1", None, None], DEFAULT_DELIMITERS) == "NM1*QC*1"
    assert render("SV1", [["HC", "99213", None], "90"], DEFAULT_DELIMITERS) == "SV1*HC:99213*90"
    assert render("CL1", [None, None, "01"], DEFAULT_DELIMITERS) == "CL1***01"


# ---------------------------------------------------------------- validate_x12 can fail


def test_validate_reports_broken_files() -> None:
    good = write_837(batch(claim()))
    se = next(s for s in good.split("~") if s.strip().startswith("SE*")).strip()
    assert any("SE count" in e for e in validate_x12(good.replace(se, "SE*99*0001")))
    assert any("trailing" in e for e in validate_x12(good.replace("*F~", "*F*~")))
    assert validate_x12("not x12 at all") != []


# ---------------------------------------------------------------- 999


def ack(status: str, errors: list[AckError], accepted: int) -> Ack999:
    return Ack999(
        envelope=envelope(number=31, sender="SANDBOX", receiver="RECLAIM"),
        group_control_number=17,
        implementation="005010X222A1",
        transactions=[
            AckTransaction(
                control_number="0001",
                implementation="005010X222A1",
                status=status,  # type: ignore[arg-type]
                errors=errors,
            )
        ],
        group_status=status,  # type: ignore[arg-type]
        received_count=1,
        accepted_count=accepted,
    )


REJECTION_ERRORS = [
    AckError(segment_id="NM1", segment_position=13, loop="2010BA", code="7", element_position=8),
    AckError(segment_id="NM1", segment_position=13, loop="2010BA", code="1", element_position=9),
    AckError(segment_id="DMG", segment_position=16, code="3"),
    AckError(code="5"),
]


@pytest.mark.parametrize(
    "acknowledgment",
    [ack("A", [], 1), ack("R", REJECTION_ERRORS, 0), ack("E", REJECTION_ERRORS[:1], 1)],
    ids=["accepted", "rejected", "accepted with errors"],
)
def test_999_validates_in_pyx12(acknowledgment: Ack999) -> None:
    text = write_999(acknowledgment)
    assert_valid(text)
    check_envelope(text, number=31)


def test_999_rejected_segments() -> None:
    text = write_999(ack("R", REJECTION_ERRORS, 0))
    body = [s for s in segments(text) if s[0] in {"AK1", "AK2", "IK3", "IK4", "IK5", "AK9"}]
    assert body == [
        ["AK1", "HC", "17", "005010X222A1"],
        ["AK2", "837", "0001", "005010X222A1"],
        ["IK3", "NM1", "13", "", "8"],
        ["IK4", "8", "", "7"],
        ["IK4", "9", "", "1"],
        ["IK3", "DMG", "16", "", "3"],
        ["IK5", "R", "5"],
        ["AK9", "R", "1", "1", "0"],
    ]
    assert find(text, "GS")[0][1] == "FA"


def test_999_segment_error_owns_the_element_errors_that_follow() -> None:
    errors = [
        AckError(segment_id="CLM", segment_position=20, code="8"),
        AckError(segment_id="CLM", segment_position=20, code="7", element_position=5),
        AckError(segment_id="CLM", segment_position=20, code="2", element_position=2),
        AckError(segment_id="HI", segment_position=21, code="1", element_position=1),
        AckError(segment_id="SV1", segment_position=25, loop="LS1", code="3"),
    ]
    text = write_999(ack("R", errors, 0))
    assert_valid(text)
    assert [s for s in segments(text) if s[0] in {"IK3", "IK4"}] == [
        ["IK3", "CLM", "20", "", "8"],
        ["IK4", "5", "", "7"],
        ["IK4", "2", "", "2"],
        ["IK3", "HI", "21", "", "8"],
        ["IK4", "1", "", "1"],
        ["IK3", "SV1", "25", "LS1", "3"],
    ]
    assert find(text, "ST") == [["ST", "999", "0001", "005010X231A1"]]


# ---------------------------------------------------------------- 277CA


def claim_status(pcn: str, *, accepted: bool, charge: str = "150") -> ClaimStatus277:
    return ClaimStatus277(
        patient_control_number=pcn,
        payer_claim_control_number="PCC" + pcn if accepted else None,
        status_category="A2" if accepted else "A7",
        status_code="20" if accepted else "562",
        entity_code=None if accepted else "85",
        action="accepted" if accepted else "rejected",
        total_charge=Decimal(charge),
        member_id="W123456789",
        service_date=date(2026, 11, 2),
        message=None if accepted else "Billing provider identifier invalid",
    )


def status_277(*claims: ClaimStatus277) -> Status277CA:
    return Status277CA(
        envelope=envelope(number=32, sender="SANDBOX", receiver="RECLAIM"),
        payer_name="Sandbox Health",
        payer_id="SANDBOX",
        provider_name="Springfield Family Medicine",
        provider_npi="1234567893",
        claims=list(claims),
    )


@pytest.mark.parametrize(
    "report",
    [
        status_277(claim_status("RC1", accepted=True)),
        status_277(claim_status("RC2", accepted=False, charge="80.50")),
        status_277(claim_status("RC3", accepted=True), claim_status("RC4", accepted=False)),
    ],
    ids=["accepted", "rejected", "mixed"],
)
def test_277ca_validates_in_pyx12(report: Status277CA) -> None:
    text = write_277ca(report)
    assert_valid(text)
    check_envelope(text, number=32)


def test_277ca_claim_status_segments() -> None:
    text = write_277ca(
        status_277(claim_status("RC3", accepted=True), claim_status("RC4", accepted=False))
    )
    stcs = find(text, "STC")
    assert stcs[0][1:5] == ["A1:19:PR", "20261103", "WQ", "300"]
    assert stcs[2] == ["STC", "A2:20", "20261103", "WQ", "150"]
    assert stcs[3][:5] == ["STC", "A7:562:85", "20261103", "U", "150"]
    assert stcs[3][12] == "Billing provider identifier invalid"
    assert [t[2] for t in find(text, "TRN") if t[1] == "2"][1:] == ["RC3", "RC4"]
    assert ["REF", "1K", "PCCRC3"] in find(text, "REF")
    assert ["QTY", "90", "1"] in find(text, "QTY")
    assert ["QTY", "AA", "1"] in find(text, "QTY")


# ---------------------------------------------------------------- 835

SERVICE_DATE = date(2026, 11, 2)


def co(reason: str, value: str) -> Adjustment:
    return Adjustment(group="CO", reason=reason, amount=Decimal(value))


def pr(reason: str, value: str) -> Adjustment:
    return Adjustment(group="PR", reason=reason, amount=Decimal(value))


PAID = ClaimPayment(
    patient_control_number="RC1",
    status_code="1",
    charge=Decimal("150"),
    paid=Decimal("120"),
    payer_claim_control_number="PCC1",
    patient_last_name="Lee",
    patient_first_name="Ann",
    member_id="W123456789",
    service_date=SERVICE_DATE,
    lines=[
        ServicePayment(
            procedure="99214",
            modifiers=["25"],
            charge=Decimal("150"),
            paid=Decimal("120"),
            units=Decimal(1),
            service_date=SERVICE_DATE,
            line_control_number="RC1-1",
            adjustments=[co("45", "30")],
        )
    ],
)
PARTIAL_WITH_PATIENT_SHARE = ClaimPayment(
    patient_control_number="RC2",
    status_code="1",
    charge=Decimal("245.50"),
    paid=Decimal("150.25"),
    patient_responsibility=Decimal("40"),
    payer_claim_control_number="PCC2",
    patient_last_name="Lee",
    patient_first_name="Ann",
    member_id="W123456789",
    remarks=["MA01"],
    lines=[
        ServicePayment(
            procedure="99213",
            charge=Decimal("95.50"),
            paid=Decimal("55.25"),
            units=Decimal(1),
            service_date=SERVICE_DATE,
            line_control_number="RC2-1",
            adjustments=[co("45", "20.25"), pr("2", "20")],
        ),
        ServicePayment(
            procedure="20610",
            modifiers=["RT", "59"],
            charge=Decimal("150"),
            paid=Decimal("95"),
            units=Decimal(1),
            service_date=SERVICE_DATE,
            line_control_number="RC2-2",
            adjustments=[co("45", "35"), pr("3", "20")],
            remarks=["N130", "M15"],
        ),
    ],
)
DENIED = ClaimPayment(
    patient_control_number="RC3",
    status_code="4",
    charge=Decimal("80.50"),
    paid=Decimal("0"),
    payer_claim_control_number="PCC3",
    member_id="TEST-CO-16-N290",
    adjustments=[co("16", "80.50")],
    remarks=["N290"],
)
PATIENT_OWES_ALL = ClaimPayment(
    patient_control_number="RC4",
    status_code="1",
    charge=Decimal("60"),
    paid=Decimal("0"),
    patient_responsibility=Decimal("60"),
    payer_claim_control_number="PCC4",
    member_id="TEST-PR-1",
    adjustments=[pr("1", "60")],
)
WITHHOLD = ProviderAdjustment(
    provider_id="1234567893",
    fiscal_period_date=date(2026, 12, 31),
    reason="WO",
    reference="OVERPAY-1",
    amount=Decimal("25.25"),
)


def remittance(
    claims: list[ClaimPayment],
    adjustments: list[ProviderAdjustment] | None = None,
    *,
    paid: str | None = None,
) -> Remittance835:
    adjustments = adjustments or []
    total = sum((c.paid for c in claims), Decimal(0)) - sum(
        (p.amount for p in adjustments), Decimal(0)
    )
    return Remittance835(
        envelope=envelope(number=33, sender="SANDBOX", receiver="RECLAIM"),
        payer_name="Sandbox Health",
        payer_id="SANDBOX",
        payee_name="Springfield Family Medicine",
        payee_npi="1234567893",
        payee_tax_id="371234567",
        production_date=date(2026, 11, 20),
        payment=Payment(
            amount=Decimal(paid) if paid is not None else total,
            method="ACH" if total else "NON",
            date=date(2026, 11, 21),
            trace_number="EFT0001",
            payer_identifier="1999999999",
        ),
        provider_adjustments=adjustments,
        claims=claims,
    )


REMITTANCES = {
    "paid": remittance([PAID]),
    "partially paid with patient share": remittance([PARTIAL_WITH_PATIENT_SHARE]),
    "denied": remittance([DENIED]),
    "patient responsibility": remittance([PATIENT_OWES_ALL]),
    "all with PLB": remittance(
        [PAID, PARTIAL_WITH_PATIENT_SHARE, DENIED, PATIENT_OWES_ALL], [WITHHOLD]
    ),
}


@pytest.mark.parametrize("remit", REMITTANCES.values(), ids=REMITTANCES.keys())
def test_835_validates_in_pyx12(remit: Remittance835) -> None:
    text = write_835(remit)
    assert_valid(text)
    check_envelope(text, number=33)


def test_835_segments() -> None:
    text = write_835(REMITTANCES["all with PLB"])
    assert find(text, "ST") == [["ST", "835", "0001"]]
    bpr = find(text, "BPR")[0]
    assert bpr[1:5] == ["I", "245", "C", "ACH"]
    assert bpr[16] == "20261121"
    assert find(text, "TRN") == [["TRN", "1", "EFT0001", "1999999999"]]
    assert find(text, "N1") == [
        ["N1", "PR", "Sandbox Health"],
        ["N1", "PE", "Springfield Family Medicine", "XX", "1234567893"],
    ]
    assert ["PER", "BL", "EDI SUPPORT", "TE", "2175550199"] in find(text, "PER")
    assert find(text, "CLP")[2] == ["CLP", "RC3", "4", "80.5", "0", "0", "12", "PCC3"]
    assert ["CAS", "CO", "16", "80.5"] in find(text, "CAS")
    assert ["CAS", "PR", "1", "60"] in find(text, "CAS")
    assert ["MOA", "", "", "MA01"] in find(text, "MOA")
    assert ["SVC", "HC:20610:RT:59", "150", "95", "", "1"] in find(text, "SVC")
    assert find(text, "LQ") == [["LQ", "HE", "N130"], ["LQ", "HE", "M15"]]
    assert find(text, "PLB") == [["PLB", "1234567893", "20261231", "WO:OVERPAY-1", "25.25"]]
    assert ["DTM", "472", "20261102"] in find(text, "DTM")


def test_835_cas_holds_at_most_six_reasons_per_group() -> None:
    reasons = [co(str(r), "1") for r in (45, 253, 97, 59, 94, 42, 24)]
    claim = PAID.model_copy(update={"adjustments": reasons, "charge": Decimal("157")})
    text = write_835(remittance([claim]))
    assert_valid(text)
    first_svc = text.index("SVC*")
    claim_cas = find(text[:first_svc], "CAS")
    assert claim_cas == [
        ["CAS", "CO", "45", "1", "", "253", "1", "", "97", "1", "", "59", "1", "", "94", "1", "",
         "42", "1"],
        ["CAS", "CO", "24", "1"],
    ]  # fmt: skip


def test_835_plb_segments_split_past_six_adjustments() -> None:
    adjustments = [WITHHOLD.model_copy(update={"amount": Decimal("1")}) for _ in range(7)]
    text = write_835(remittance([PAID], adjustments))
    # The guide lets PLB repeat; pyx12's map makes PLB open a one-time FOOTER loop instead, so a
    # second PLB is its only complaint. One PLB (up to six adjustments) validates cleanly.
    (error,) = validate_x12(text)
    assert "Loop FOOTER exceeded max count" in error
    plbs = find(text, "PLB")
    assert [len(p) for p in plbs] == [3 + 12, 3 + 2]


@pytest.mark.parametrize(
    ("claims", "adjustments", "paid", "numbers"),
    [
        ([PAID], [], "100", ("100", "120")),
        ([PAID], [WITHHOLD], "120", ("120", "94.75")),
        ([DENIED], [], "5", ("5", "0")),
    ],
)
def test_unbalanced_835_is_refused(
    claims: list[ClaimPayment],
    adjustments: list[ProviderAdjustment],
    paid: str,
    numbers: tuple[str, str],
) -> None:
    with pytest.raises(ValueError, match="does not balance") as excinfo:
        write_835(remittance(claims, adjustments, paid=paid))
    for number in numbers:
        assert number in str(excinfo.value)


def test_835_needs_a_payer_claim_control_number() -> None:
    claim = PAID.model_copy(update={"payer_claim_control_number": None})
    with pytest.raises(ValueError, match="CLP07"):
        write_835(remittance([claim]))
