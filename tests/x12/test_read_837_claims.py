"""The 837 intake reader on the public samples: each CLM read into a claim document, compared
field by field with the file, and each bad claim refused on its own with its segment number."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from reclaim.x12.common import X12Error
from reclaim.x12.models import Batch837, Claim837, Envelope, Party
from reclaim.x12.read_837_claims import read_837_claims
from reclaim.x12.validate import validate_x12
from reclaim.x12.write_837 import write_837

SAMPLES = Path("/work/shared/samples/x12")
UHIN = SAMPLES / "837P" / "uhin-837.edi"
DEPENDANT = SAMPLES / "837P" / "lfh-demo.example1.837"
DRUGS = SAMPLES / "837P" / "lfh-demo.drug.example10.2.837"
TWO_INSTITUTIONAL = SAMPLES / "837I" / "lfh-two-claims-single-provider.837i"


def sample(path: Path) -> str:
    return path.read_text()


def test_uhin_837p_claim_field_by_field() -> None:
    read = read_837_claims(sample(UHIN))
    assert (read.file_type, read.submitter, read.refused) == ("837P", "HT007852-001", [])
    [claim] = read.claims
    assert claim.patient_control_number == "1606"
    doc = claim.document
    assert doc.claim_type == "professional"
    assert doc.payer_id == "FLHIN"
    billing = doc.billing_provider
    assert (billing.npi, billing.name, billing.tax_id, billing.taxonomy) == (
        "1245319599", "NY UHIN PROVIDER", "123456789", "111N00000X")
    assert (billing.address.line1, billing.address.city, billing.address.state,
            billing.address.zip) == ("70623 FREDERIK CLIFF APT 492", "FLORENCEBERG", "MI",
                                     "841061149")
    patient = doc.patient
    assert (patient.last_name, patient.first_name, patient.member_id, patient.sex,
            patient.birth_date) == ("MARQUARDT", "RALPH", "601239742", "F", date(1946, 11, 11))
    assert patient.address.line1 == "57018 ABBOTT ROAD APT 817"
    assert doc.subscriber is None
    assert (doc.place_of_service, doc.frequency_code) == ("11", "1")
    assert doc.diagnoses == ["R69"]
    assert doc.service_date == date(2024, 8, 15)
    [line] = doc.lines
    assert (line.procedure, line.modifiers, line.charge, line.units,
            line.diagnosis_pointers, line.service_date) == (
        "90834", [], Decimal(2), Decimal(1), [1], date(2024, 8, 15))
    assert doc.total_charge == Decimal(2)


def test_dependant_patient_and_subscriber() -> None:
    [claim] = read_837_claims(sample(DEPENDANT)).claims
    doc = claim.document
    assert claim.patient_control_number == "26463774"
    assert (doc.patient.first_name, doc.patient.last_name, doc.patient.birth_date,
            doc.patient.sex, doc.patient.member_id) == (
        "TED", "SMITH", date(1973, 5, 1), "M", "JS00111223333")
    assert doc.patient.address.zip == "33413"
    assert doc.subscriber is not None
    assert (doc.subscriber.first_name, doc.subscriber.last_name,
            doc.subscriber.relationship) == ("JANE", "SMITH", "19")
    assert doc.payer_id == "999996666"
    assert doc.diagnoses == ["0340", "V7389"]  # ICD-9 (BK/BF) kept as sent
    lines = [(ln.procedure, ln.charge, ln.diagnosis_pointers, ln.service_date)
             for ln in doc.lines]
    assert lines == [
        ("99213", Decimal("40.00"), [1], date(2006, 10, 3)),
        ("87070", Decimal("15.00"), [1], date(2006, 10, 3)),
        ("99214", Decimal("35.00"), [2], date(2006, 10, 10)),
        ("86663", Decimal("10.00"), [2], date(2006, 10, 10)),
    ]
    assert doc.service_date == date(2006, 10, 3)


def test_drug_lines_carry_their_ndc() -> None:
    [claim] = read_837_claims(sample(DRUGS)).claims
    lines = claim.document.lines
    assert [(ln.procedure, ln.units, ln.ndc, ln.ndc_quantity, ln.ndc_unit) for ln in lines] == [
        ("S9500", Decimal("7.00"), None, None, None),
        ("S5001", Decimal("7.00"), "00004196501", Decimal("7.00"), "UN"),
        ("S5000", Decimal("14.00"), "63323024910", Decimal("14.00"), "UN"),
        ("S5000", Decimal("7.00"), "00338004938", Decimal("7.00"), "UN"),
        ("S5000", Decimal("14.00"), "08290033010", Decimal("14.00"), "UN"),
        ("S5000", Decimal("7.00"), "08290038005", Decimal("7.00"), "UN"),
    ]
    assert claim.document.payer_id == "PLANID12345"
    assert claim.document.billing_provider.tax_id == "10-1234567"


def test_two_institutional_claims_field_by_field() -> None:
    read = read_837_claims(sample(TWO_INSTITUTIONAL))
    assert read.file_type == "837I"
    first, second = read.claims
    assert (first.patient_control_number, second.patient_control_number) == ("756048Q",
                                                                             "756049Q")
    doc = first.document
    assert (doc.claim_type, doc.type_of_bill, doc.payer_id) == ("institutional", "131", "99999")
    assert doc.service_date == date(2005, 3, 15)
    assert doc.diagnoses == ["3669", "4019", "79431"]
    assert doc.rendering_provider is not None
    assert (doc.rendering_provider.npi, doc.rendering_provider.last_name) == ("1122334455",
                                                                              "JONES")
    assert [(ln.revenue_code, ln.procedure, ln.charge, ln.units) for ln in doc.lines] == [
        ("0305", "85025", Decimal("13.39"), Decimal("1.00")),
        ("0730", "93005", Decimal("76.56"), Decimal("3.00")),
    ]
    other = second.document
    assert (other.patient.last_name, other.patient.member_id, other.total_charge) == (
        "SMITH", "123405074", Decimal("50.00"))
    assert other.rendering_provider is not None
    assert other.rendering_provider.taxonomy == "363LP0200N"


def test_a_truncated_claim_is_refused_alone_with_its_segment() -> None:
    text = sample(TWO_INSTITUTIONAL).replace("SV2*0305*HC:85025*13.39*UN*1.00", "SV2*0305")
    read = read_837_claims(text)
    assert [c.patient_control_number for c in read.claims] == ["756049Q"]
    [refused] = read.refused
    assert refused.patient_control_number == "756048Q"
    lines = [s.strip() for s in text.split("~") if s.strip()]
    assert lines[refused.segment_index - 1] == "SV2*0305"
    assert "SV202" in refused.reason


def test_a_claim_whose_total_disagrees_with_its_lines_is_refused() -> None:
    read = read_837_claims(sample(UHIN).replace("CLM*1606*2*", "CLM*1606*20*"))
    assert read.claims == []
    [refused] = read.refused
    assert refused.segment_index == 21
    assert "CLM02 total charge 20 is not the sum of the lines' charges (2)" in refused.reason


def test_a_patient_control_number_longer_than_the_guide_allows_is_refused() -> None:
    read = read_837_claims(sample(UHIN).replace("CLM*1606*", "CLM*" + "7" * 39 + "*"))
    [refused] = read.refused
    assert "CLM01 (patient control number) has 39 characters; X12 allows at most 38" in (
        refused.reason)


def test_a_claim_missing_what_a_document_needs_says_where_it_comes_from() -> None:
    read = read_837_claims(sample(UHIN).replace("DMG*D8*19461111*F~", ""))
    [refused] = read.refused
    assert "patient.birth_date" in refused.reason
    assert "DMG02" in refused.reason


def test_imsweb_samples_refuse_each_malformed_claim_with_its_segment() -> None:
    """HI*BK*8901: the diagnosis without its qualifier's component separator (the guide wants
    HI*BK:8901): each claim refused, naming its HI."""
    read = read_837_claims(sample(SAMPLES / "837P" / "imsweb-x12_valid.txt"))
    assert [(r.patient_control_number, r.segment_index) for r in read.refused] == [
        ("A37YH556", 23), ("A37YH667", 32)]
    assert all("HI01-2" in r.reason for r in read.refused)


def test_a_file_with_a_wrong_component_separator_says_so() -> None:
    read = read_837_claims(sample(SAMPLES / "837P" / "lfh-demo.example9.837"))
    [refused] = read.refused
    assert "not split by the component separator ':' that ISA16 declares" in refused.reason


def test_an_835_is_not_an_837() -> None:
    with pytest.raises(X12Error, match="expected 837P or 837I"):
        read_837_claims(sample(SAMPLES / "835" / "pyx12-835_mult_loops.txt"))


@pytest.mark.parametrize("path", [UHIN, DEPENDANT, DRUGS, TWO_INSTITUTIONAL],
                         ids=lambda p: p.name)
def test_imported_claims_are_written_back_as_valid_837s(path: Path) -> None:
    """What the import made is what Reclaim submits: pyx12 validates the 837 written from it."""
    read = read_837_claims(sample(path))
    claims = [Claim837(document=c.document, patient_control_number=f"RC{n}-1")
              for n, c in enumerate(read.claims, start=1)]
    batch = Batch837(
        envelope=Envelope(sender_id="RECLAIM", receiver_id="SANDBOX",
                          interchange_control_number=5, group_control_number=5,
                          created=date(2026, 12, 3).isoformat() + "T10:00:00"),
        submitter=Party(name="Reclaim", id="RECLAIM"),
        receiver=Party(name="Sandbox", id="SANDBOX"), payer_name="PAYER", claims=claims)
    text = write_837(batch)
    assert validate_x12(text) == []
    again = read_837_claims(text)
    assert again.refused == []

    def essentials(claims: list) -> list[tuple]:  # type: ignore[type-arg]
        # Reclaim sends every diagnosis as ICD-10 (ABK/ABF), so an ICD-9 code comes back dotted.
        return [(c.document.patient.member_id, c.document.payer_id,
                 [d.replace(".", "") for d in c.document.diagnoses],
                 c.document.subscriber, [(ln.procedure, ln.modifiers, ln.charge, ln.units, ln.ndc)
                                         for ln in c.document.lines]) for c in claims]

    assert essentials(again.claims) == essentials(read.claims)


def test_a_service_line_without_its_sv1_is_refused_at_its_lx() -> None:
    text = sample(DEPENDANT).replace("SV1*HC:87070*15.00*UN*1.00***1~", "")
    [refused] = read_837_claims(text).refused
    segments = [s.strip() for s in text.split("~")]
    assert segments[refused.segment_index - 1] == "LX*2"
    assert "service line (LX) without its SV1 or SV2" in refused.reason
