"""The X12 readers on public sample files (tests/fixtures/x12, see PROVENANCE.md there), on
lenient variants of them, and on files that must be refused."""

from __future__ import annotations

import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from reclaim.claims.schemas import ClaimDocument
from reclaim.x12.common import X12Error
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
    ReadWarning,
    Remittance835,
    ServicePayment,
    Status277CA,
)
from reclaim.x12.read_277ca import read_277ca, status_action
from reclaim.x12.read_835 import Stream835, read_835
from reclaim.x12.read_837 import read_837
from reclaim.x12.read_999 import read_999
from reclaim.x12.reader import X12Reader, detect
from reclaim.x12.write_837 import write_837
from reclaim.x12.write_payer import write_277ca, write_835, write_999

FIXTURES = Path(__file__).parent.parent / "fixtures" / "x12"


def sample(name: str) -> str:
    return (FIXTURES / name).read_text()


def messages(model: object) -> list[str]:
    return [w.message for w in model.warnings]  # type: ignore[attr-defined]


def adjusted(claim: ClaimPayment) -> Decimal:
    claim_level = sum((a.amount for a in claim.adjustments), Decimal("0"))
    line_level = sum((a.amount for line in claim.lines for a in line.adjustments), Decimal("0"))
    return claim_level + line_level


# ---------------------------------------------------------------- 835 samples

BALANCED_835 = [
    "835/edi835parser-emedny_sample.txt",
    "835/edi835parser-united_healthcare_legacy_sample.txt",
    "835/lfh-managed-care.835",
    "835/lfh-medicare-part-a.835",
    "835/pyx12-835_mult_loops.txt",
]


@pytest.mark.parametrize("name", BALANCED_835)
def test_835_claims_balance(name: str) -> None:
    [remittance] = read_835(sample(name))
    assert remittance.claims
    for claim in remittance.claims:
        assert claim.charge - adjusted(claim) == claim.paid, claim.patient_control_number
    plb = sum((p.amount for p in remittance.provider_adjustments), Decimal("0"))
    assert sum(c.paid for c in remittance.claims) - plb == remittance.payment.amount
    assert not [m for m in messages(remittance) if "is not the" in m]


# Files that cannot be read safely, and where the reader stops.
REFUSED_835 = [
    ("835/edi835parser-blue_cross_nc_sample.txt", 1, "ISA", "no ISA interchange header"),
]
# The LFH secondary, tertiary and COB samples declare ':' as component separator in ISA16 but
# write SVC*HC>55669: read with the declared delimiter, SVC01 has no procedure code (pyx12
# x12valid flags the same files). That claim is refused on its own; the others are read.
CLAIM_REFUSED_835 = [
    ("835/lfh-cob-contractural-adjustment.835", "0001000055", 21, []),
    ("835/lfh-secondary-payment.835", "0001000053", 29, ["L0004828311"]),
    ("835/lfh-tertiary-payment.835", "0001000054", 20, []),
]


@pytest.mark.parametrize(("name", "pcn", "index", "read"), CLAIM_REFUSED_835)
def test_835_malformed_claim_is_refused_alone(name: str, pcn: str, index: int,
                                              read: list[str]) -> None:
    stream = Stream835(sample(name))
    assert [claim.patient_control_number for _, claim in stream] == read
    [remittance] = stream.remittances
    [refused] = remittance.refused
    assert (refused["patient_control_number"], refused["segment"]) == (pcn, index)
    assert "SVC01-2 (procedure code)" in refused["reason"]
    assert remittance.header is not None
    assert any(w.segment_index == index and f"claim {pcn} refused" in w.message
               for w in remittance.header.warnings)


@pytest.mark.parametrize(("name", "index", "segment_id", "message"), REFUSED_835)
def test_835_samples_refused(name: str, index: int, segment_id: str, message: str) -> None:
    with pytest.raises(X12Error) as caught:
        read_835(sample(name))
    assert caught.value.segment_index == index
    assert caught.value.segment_id == segment_id
    assert message in str(caught.value)


def test_835_known_unbalanced_claim_is_read_with_a_warning() -> None:
    # managed-care balances; break one paid amount and the reader must say so, not fix it.
    text = sample("835/lfh-managed-care.835").replace("*800.00*450.00*", "*800.00*451.00*")
    [remittance] = read_835(text)
    first = remittance.claims[0]
    assert first.paid == Decimal("451.00")
    assert first.charge - adjusted(first) != first.paid
    assert any("claim 5554555444" in m and "is not the paid" in m for m in messages(remittance))
    assert any("is not the BPR02 total" in m for m in messages(remittance))


def test_835_united_healthcare_fields() -> None:
    [remittance] = read_835(sample("835/edi835parser-united_healthcare_legacy_sample.txt"))
    assert remittance.payer_name == "UNITED HEALTHCARE INSURANCE COMPANY"
    assert remittance.payer_id == "87726"
    assert (remittance.payee_name, remittance.payee_npi) == ("KLAUS MEDICAL CENTER", "1922164458")
    assert remittance.payee_tax_id == "333333333"
    payment = remittance.payment
    assert (payment.amount, payment.method, payment.date) == (
        Decimal("349.99"), "ACH", date(2021, 2, 4))
    assert payment.trace_number == "1234567890"
    assert remittance.production_date == date(2021, 2, 1)
    second = remittance.claims[1]
    assert (second.patient_control_number, second.status_code) == ("001-18604-358", "1")
    assert second.payer_claim_control_number == "ATL2819897800"
    assert (second.patient_responsibility, second.frequency_code) == (Decimal("115.13"), "1")
    assert second.member_id == "234567890"
    assert second.service_date == date(2020, 12, 18)
    last_line = second.lines[2]
    # ISA16 is '>' in this file: SVC*HC>B4154 splits on it.
    assert (last_line.qualifier, last_line.procedure) == ("HC", "B4154")
    assert last_line.line_control_number == "123456789014"
    assert last_line.service_date == date(2021, 1, 1)
    assert last_line.units == Decimal("178")
    # CAS*PR*2*5.13**1*110: both triples, the empty quantity skipped.
    assert [(a.group, a.reason, a.amount, a.quantity) for a in last_line.adjustments] == [
        ("PR", "2", Decimal("5.13"), None),
        ("PR", "1", Decimal("110"), None),
        ("CO", "45", Decimal("184.32"), None),
    ]
    assert remittance.envelope.sender_id == "ENS_EDI"
    assert remittance.envelope.interchange_control_number == 444444444


def test_835_modifiers_and_line_remarks() -> None:
    [remittance] = read_835(sample("835/edi835parser-emedny_sample.txt"))
    first_line = remittance.claims[0].lines[0]
    assert (first_line.procedure, first_line.modifiers) == ("V2020", ["RB"])
    last_claim = remittance.claims[2]
    assert last_claim.lines[2].remarks == ["N206"]
    assert last_claim.lines[2].adjustments[0].reason == "251"
    # no REF*2U and no N104: the payer id falls back to TRN03, with a warning.
    assert remittance.payer_id == "1000000000"
    assert any("TRN03 used as payer id" in m for m in messages(remittance))


def test_835_denied_claim_with_line_denials() -> None:
    [remittance] = read_835(sample("835/pyx12-835_mult_loops.txt"))
    [claim] = remittance.claims
    assert (claim.status_code, claim.paid) == ("4", Decimal("0"))
    assert [line.remarks for line in claim.lines] == [["N14"], ["N14"], ["N14"]]
    assert [(a.group, a.reason) for line in claim.lines for a in line.adjustments] == [
        ("CO", "16"), ("OA", "A7"), ("OA", "A7")]
    assert claim.lines[0].service_date == date(2003, 11, 29)  # DTM*150 when no DTM*472


def test_835_medicare_plb_moa_and_missing_contact() -> None:
    [remittance] = read_835(sample("835/lfh-medicare-part-a.835"))
    [plb] = remittance.provider_adjustments
    assert (plb.provider_id, plb.fiscal_period_date) == ("6543210903", date(2002, 12, 31))
    assert (plb.reason, plb.reference, plb.amount) == ("CV", "CP", Decimal("-1.27"))
    assert remittance.claims[1].remarks == ["MA02"]
    assert remittance.payer_id == "999"  # REF*2U
    missing_per = [w for w in remittance.warnings if "PER*BL" in w.message]
    assert missing_per
    assert missing_per[0].segment_id == "N1"


def test_835_bad_payment_date_falls_back_to_production_date() -> None:
    [remittance] = read_835(sample("835/lfh-managed-care.835"))
    assert remittance.payment.date == date(2002, 3, 14)
    [warning] = [w for w in remittance.warnings if "BPR16" in w.message]
    assert (warning.segment_index, warning.segment_id) == (4, "BPR")
    # claim-level CAS before the NM1, line-level after the SVC
    first = remittance.claims[0]
    assert [a.reason for a in first.adjustments] == ["A2"]
    assert [a.reason for a in first.lines[0].adjustments] == ["1"]


def test_835_several_plb_pairs() -> None:
    text = sample("835/lfh-medicare-part-a.835").replace(
        "PLB*6543210903*20021231*CV:CP*-1.27~",
        "PLB*6543210903*20021231*CV:CP*-1.27*WO*0.50*L6:INT*-0.50~")
    [remittance] = read_835(text)
    assert [(p.reason, p.reference, p.amount) for p in remittance.provider_adjustments] == [
        ("CV", "CP", Decimal("-1.27")), ("WO", None, Decimal("0.50")),
        ("L6", "INT", Decimal("-0.50"))]


# ---------------------------------------------------------------- 999 and 277CA samples


def test_999_accepted() -> None:
    [ack] = read_999(sample("999/imsweb-x12_999_accepted.txt"))
    assert (ack.group_status, ack.group_control_number, ack.implementation) == (
        "A", 17456, "005010X223A2")
    assert [(t.control_number, t.status, t.errors) for t in ack.transactions] == [("0001", "A", [])]
    assert (ack.received_count, ack.accepted_count) == (1, 1)
    # GS05 102497 has 97 seconds; IEA02 does not match ISA13: read, with warnings.
    assert ack.envelope.created.isoformat() == "2020-04-15T10:24:00"
    assert any("IEA02" in m for m in messages(ack))


def test_999_rejected() -> None:
    [ack] = read_999(sample("999/imsweb-x12_999_rejected.txt"))
    assert (ack.group_status, ack.accepted_count) == ("R", 0)
    [transaction] = ack.transactions
    assert (transaction.control_number, transaction.status) == ("0028", "R")
    segment_error, transaction_error = transaction.errors
    assert (segment_error.segment_id, segment_error.segment_position, segment_error.code) == (
        "NM", 17, "1")
    assert (transaction_error.code, transaction_error.segment_id) == ("5", None)


def test_999_several_groups_and_transactions() -> None:
    acks = read_999(sample("999/pyx12-834_lui_id_5010.999.txt"))
    assert [a.envelope.transaction_control_number for a in acks] == ["0001", "0002", "0003", "0004"]
    assert [a.envelope.group_control_number for a in acks] == [344666205] * 2 + [102] * 2
    assert {(a.functional_id, a.group_status) for a in acks} == {("BE", "A")}


def test_999_element_errors() -> None:
    text = sample("999/imsweb-x12_999_rejected.txt").replace(
        "IK3*NM*17**1~", "IK3*NM1*17*2010BA*8~\nIK4*9*66*7*ZZ~")
    [ack] = read_999(text)
    segment_error, element_error, _ = ack.transactions[0].errors
    assert (segment_error.code, segment_error.loop) == ("8", "2010BA")
    assert (element_error.segment_id, element_error.element_position, element_error.code) == (
        "NM1", 9, "7")
    assert "'ZZ'" in (element_error.message or "")


def test_277ca_accepted() -> None:
    [status] = read_277ca(sample("277CA/imsweb-x12_277CA_accepted.txt"))
    assert (status.payer_name, status.payer_id) == ("NYSDOH", "141797357")
    assert status.provider_npi == "1234567890"
    # the 2200B receiver-level STC is not a claim: one claim, from loop 2200D
    [claim] = status.claims
    assert (claim.patient_control_number, claim.action) == ("5781", "accepted")
    assert (claim.status_category, claim.status_code) == ("A2", "20")
    assert claim.payer_claim_control_number == "1107000000014420"
    assert (claim.total_charge, claim.effective_date) == (Decimal("125"), date(2011, 3, 11))
    assert claim.member_id == "LL99999X"


def test_277ca_rejected() -> None:
    [status] = read_277ca(sample("277CA/imsweb-x12_277CA_rejected.txt"))
    [claim] = status.claims
    assert (claim.patient_control_number, claim.action) == ("3920394930203", "rejected")
    # ISA16 is '|' here: STC*A7|562|85
    assert (claim.status_category, claim.status_code, claim.entity_code) == ("A7", "562", "85")
    assert claim.service_date == date(2009, 3, 11)


@pytest.mark.parametrize(("category", "action"), [
    ("A0", "accepted"), ("A1", "accepted"), ("A2", "accepted"), ("A5", "accepted"),
    ("A3", "rejected"), ("A4", "rejected"), ("A6", "rejected"), ("A7", "rejected"),
    ("A8", "rejected"), ("P1", None), ("E0", None), ("F1", None),
])
def test_277ca_status_categories(category: str, action: str | None) -> None:
    assert status_action(category) == action


def test_277ca_rejection_wins_and_pending_is_left_out() -> None:
    base = sample("277CA/imsweb-x12_277CA_accepted.txt")
    stc = "STC*A2:20*20110311*WQ*125~"
    two = base.replace(stc, stc + "\nSTC*A7:21*20110311")
    assert read_277ca(two)[0].claims[0].action == "rejected"
    pending = base.replace("STC*A2:20*", "STC*P1:20*")
    [status] = read_277ca(pending)
    assert status.claims == []
    assert any("neither an acceptance nor a rejection" in m for m in messages(status))


# ---------------------------------------------------------------- 837 samples

READABLE_837 = [  # file, claims, lines per claim, claim type
    ("837P/uhin-837.edi", ["1606"], [1], "professional"),
    ("837P/lfh-demo.837", ["26463774"], [4], "professional"),
    ("837P/lfh-demo.ambulance.example5.837", ["051068"], [4], "professional"),
    ("837P/lfh-demo.autoaccident.837", ["900000032"], [2], "professional"),
    ("837P/lfh-demo.cob.example3.B.837", ["26407789"], [3], "professional"),
    ("837I/lfh-two-claims-single-provider.837i", ["756048Q", "756049Q"], [2, 1], "institutional"),
    ("837I/lfh-institutional-claim.837i", ["756048Q"], [2], "institutional"),
    ("837I/imsweb-x223-test.txt", ["A37YH556"], [1], "institutional"),
]


@pytest.mark.parametrize(("name", "pcns", "lines", "claim_type"), READABLE_837)
def test_837_samples_counts(name: str, pcns: list[str], lines: list[int], claim_type: str) -> None:
    [batch] = read_837(sample(name))
    assert [c.patient_control_number for c in batch.claims] == pcns
    assert [len(c.lines) for c in batch.claims] == lines
    assert {c.claim_type for c in batch.claims} == {claim_type}
    for claim in batch.claims:
        assert claim.payer_id
        assert claim.member_id
        assert claim.diagnoses


def test_837p_fields() -> None:
    [batch] = read_837(sample("837P/lfh-demo.ambulance.example5.837"))
    assert batch.implementation == "005010X222A2"
    assert batch.transaction_control_numbers == ["000017712"]
    [claim] = batch.claims
    assert (claim.total_charge, claim.frequency_code, claim.place_of_service) == (
        Decimal("766.50"), "1", "41")
    assert (claim.payer_id, claim.member_id) == ("123245", "012345678A")
    assert (claim.patient_first_name, claim.patient_last_name) == ("SARAH", "JONES")
    assert claim.billing_npi == "2366554859"
    assert claim.diagnoses == ["8628", "E8888", "9592", "8540"]
    line = claim.lines[1]
    assert (line.procedure, line.modifiers, line.charge, line.units) == (
        "A0425", ["RH"], Decimal("8.20"), Decimal("21.00"))
    assert (line.line_control_number, line.diagnosis_pointers) == ("1002", [1, 2, 3, 4])
    assert line.service_date == date(2005, 2, 8)


def test_837i_fields() -> None:
    [batch] = read_837(sample("837I/lfh-two-claims-single-provider.837i"))
    first, second = batch.claims
    assert first.place_of_service is None
    assert (first.rendering_npi, second.rendering_npi) == ("1122334455", "9999999999")  # NM1*71
    assert first.diagnoses == ["3669", "4019", "79431"]
    assert [(line.revenue_code, line.procedure) for line in first.lines] == [
        ("0305", "85025"), ("0730", "93005")]
    assert (second.member_id, second.patient_last_name) == ("123405074", "SMITH")
    assert first.service_date == date(2005, 3, 15)  # DTP*434


def test_837_other_payer_loops_do_not_replace_the_payer() -> None:
    # imsweb x223: 2330B other payers (AETNA, ANOTHER NAME) follow the claim; spaces after '~'
    [batch] = read_837(sample("837I/imsweb-x223-test.txt"))
    [claim] = batch.claims
    assert (claim.payer_id, claim.payer_name) == ("11122333", "HEALTH INSURANCE COMPANY")
    assert "whitespace around segments ignored" in messages(batch)


REFUSED_837 = [
    # ISA16 ':' but CLM05 written 22>B>1, so CLM05-3 is absent under the declared delimiter
    ("837P/lfh-demo.example9.837", 20, "CLM", "CLM05-3 (claim frequency code)"),
    # HI*BK*8901*BF*87200: qualifiers without codes (pyx12: HI01-02 missing)
    ("837P/imsweb-x12_valid.txt", 23, "HI", "HI01-2 (diagnosis code)"),
    ("837P/imsweb-x12_valid_different_separators.txt", 23, "HI", "HI01-2 (diagnosis code)"),
]


@pytest.mark.parametrize(("name", "index", "segment_id", "message"), REFUSED_837)
def test_837_samples_refused(name: str, index: int, segment_id: str, message: str) -> None:
    with pytest.raises(X12Error) as caught:
        read_837(sample(name))
    assert (caught.value.segment_index, caught.value.segment_id) == (index, segment_id)
    assert message in str(caught.value)


def test_837_one_batch_per_functional_group() -> None:
    text = sample("837P/uhin-837.edi")
    body = text[text.index("GS*"):text.index("IEA*")]
    second_group = body.replace("*800000372*X*", "*800000373*X*").replace(
        "GE*1*800000372", "GE*1*800000373")
    two_st = text.replace("GE*1*800000372~", text[text.index("ST*"):text.index("GE*")].replace(
        "800000372", "0002") + "GE*2*800000372~")
    doubled = two_st.replace("IEA*1*", second_group + "IEA*2*")
    batches = read_837(doubled)
    assert [b.transaction_control_numbers for b in batches] == [["800000372", "0002"],
                                                               ["800000372"]]
    assert [len(b.claims) for b in batches] == [2, 1]
    assert [b.envelope.group_control_number for b in batches] == [800000372, 800000373]


# ---------------------------------------------------------------- detection

DETECTED = [
    ("835/lfh-managed-care.835", "835", 1, "005010X221A1"),
    ("999/pyx12-834_lui_id_5010.999.txt", "999", 1, "005010X231"),
    ("277CA/imsweb-x12_277CA_rejected.txt", "277CA", 1, "005010X214"),
    ("837P/uhin-837.edi", "837P", 1, "005010X222A1"),
    ("837P/imsweb-x12_valid_different_separators.txt", "837P", 1, "005010X222A1"),
    ("837P/imsweb-x12_multiple_gs.txt", "837P", 1, "005010X222A1"),
    ("837I/lfh-institutional-claim.837i", "837I", 1, "005010X223A3"),
]


@pytest.mark.parametrize(("name", "kind", "interchanges", "implementation"), DETECTED)
def test_detect(name: str, kind: str, interchanges: int, implementation: str) -> None:
    found = detect(sample(name))
    assert (found.type, found.interchanges, found.implementation) == (
        kind, interchanges, implementation)


def test_detect_refuses_claim_status_277() -> None:
    with pytest.raises(X12Error, match="unsupported transaction set 277 005010X212") as caught:
        detect(sample("277/lfh-claim-level-status.277"))
    assert caught.value.segment_id == "ST"


def test_reader_refuses_the_wrong_type() -> None:
    with pytest.raises(X12Error, match="expected 835, found 999"):
        read_835(sample("999/imsweb-x12_999_accepted.txt"))


# ---------------------------------------------------------------- lenience

UHC = "835/edi835parser-united_healthcare_legacy_sample.txt"


def claims_of(remittance: Remittance835) -> list[dict[str, object]]:
    return [c.model_dump() for c in remittance.claims]


@pytest.fixture(scope="module")
def baseline() -> Remittance835:
    [remittance] = read_835(sample(UHC))
    assert remittance.warnings == []
    return remittance


LENIENT = [  # name, transform of the clean one-line UHC file, expected warning text
    ("bom", lambda t: "\ufeff" + t, "byte-order mark"),
    ("crlf", lambda t: t.replace("~", "~\r\n"), "line breaks between segments"),
    ("newlines", lambda t: t.replace("~", "~\n"), "line breaks between segments"),
    ("trailing whitespace", lambda t: t.replace("~", "~  \n") + "\n\n  ", "whitespace"),
    ("missing PER", lambda t: t.replace(
        "PER*BL**UR*WWW.UNITEDHEALTHCAREONLINE.COM/B2C/CONTACTUS.DO~", ""), "PER*BL"),
    ("bad optional date", lambda t: t.replace("DTM*232*20201221", "DTM*232*20201321"),
     "claim start date DTM02 is not a valid date"),
    ("bad SE count", lambda t: t.replace("SE*61*", "SE*60*"), "SE01 says 60"),
    ("bad GE count", lambda t: t.replace("GE*1*", "GE*3*"), "GE01 says 3"),
    ("bad IEA count", lambda t: t.replace("IEA*1*", "IEA*2*"), "IEA01 says 2"),
    ("empty segment", lambda t: t.replace("LX*1~", "LX*1~~"), "empty segment"),
    ("no final terminator", lambda t: t.rstrip("~"), "no terminator"),
    ("bad GS time", lambda t: t.replace("*20210203*0330*444", "*20210203*2575*444"), "ISA09"),
]


@pytest.mark.parametrize(("transform", "warning"), [(t, w) for _, t, w in LENIENT],
                         ids=[name for name, _, _ in LENIENT])
def test_lenient_reading_keeps_full_data(
    baseline: Remittance835, transform: object, warning: str
) -> None:
    text = transform(sample(UHC))  # type: ignore[operator]
    [remittance] = read_835(text)
    assert any(warning in m for m in messages(remittance)), messages(remittance)
    expected = claims_of(baseline)
    if "DTM*232*20201321" in text:
        expected[0]["service_date"] = None
    assert claims_of(remittance) == expected
    assert remittance.payment == baseline.payment


def test_bytes_and_bom_bytes() -> None:
    raw = (FIXTURES / UHC).read_bytes()
    assert read_835(raw) == read_835(raw.decode())
    [with_bom] = read_835(b"\xef\xbb\xbf" + raw)
    assert with_bom.claims == read_835(raw)[0].claims
    assert with_bom.warnings[0].segment_index == 1


def test_two_interchanges_with_different_delimiters() -> None:
    first = sample(UHC)
    second = sample("835/lfh-medicare-part-a.835")  # ':' components, newlines
    remittances = read_835(first + "\r\n" + second)
    assert [len(r.claims) for r in remittances] == [2, 2]
    assert remittances[0].claims == read_835(first)[0].claims
    assert remittances[1].claims == read_835(second)[0].claims
    assert all(any("several interchanges" in m for m in messages(r)) for r in remittances)
    assert detect(first + second).interchanges == 2
    # segment numbers keep counting across interchanges; the bad claim is refused on its own
    bad = first + second.replace("CLP*666123*1*211366.97", "CLP*666123*1*ABC")
    stream = Stream835(bad)
    assert len([claim for _, claim in stream]) == 3
    [refused] = stream.remittances[1].refused
    assert refused == {"patient_control_number": "666123",
                       "segment": first.count("~") + 15, "reason": "CLP03 is not a number: 'ABC'"}


# ---------------------------------------------------------------- refusals

REFUSALS = [  # name, text transform, segment index, segment id, message
    ("truncated before SE", lambda t: t[:t.index("SE*61")], 63, "SE",
     "SE missing: transaction set '000000064' (ST at segment 3) is not closed"),
    ("truncated before GE", lambda t: t[:t.index("GE*1")], 64, "GE",
     "GE missing: functional group '444444444' (GS at segment 2)"),
    ("truncated before IEA", lambda t: t[:t.index("IEA*1")], 65, "IEA",
     "IEA missing: interchange '444444444' (ISA at segment 1)"),
    ("garbage", lambda _: "hello, this is not an EDI file\n", 1, "ISA", "not X12"),
    ("empty", lambda _: "   \n", 1, "ISA", "empty file"),
    ("ISA id too long", lambda t: t.replace("ENS_EDI        *", "ENS_EDI_LONGER_THAN15*"), 1,
     "ISA", "ISA06 'ENS_EDI_LONGER_THAN1' does not fit its fixed width of 15"),
    ("garbage after IEA", lambda t: t + "SOMETHING ELSE", 66, "ISA", "data after IEA"),
    ("garbage segment", lambda t: t.replace("LX*1~", "lx 1~"), 18, "lx", "not a segment"),
    ("ST before GS", lambda t: t.replace("GS*HP*ENS_EDI*GATE0110*20210203*0330*444444444*X*"
                                         "005010X221A1~", ""), 2, "ST", "outside a functional"),
    ("GS inside GS", lambda t: t.replace("GE*1*444444444~", ""), 64, "IEA", "GE missing"),
    ("SE missing", lambda t: t.replace("SE*61*000000064~", ""), 63, "GE", "SE missing"),
    ("second ISA inside", lambda t: t.replace("GE*1*444444444~IEA*1*444444444~",
                                              t[:t.index("GS*")]), 64, "ISA", "IEA missing"),
    ("SE without ST", lambda t: t.replace("GE*1*", "SE*1*0001~GE*1*"), 64, "SE", "without"),
    ("exponent amount", lambda t: t.replace("BPR*I*349.99", "BPR*I*3E2"), 4, "BPR",
     "BPR02 is not a number"),
    ("bad version", lambda t: t.replace("*00501*", "*00999*"), 1, "ISA", "Version"),
    ("endless segment", lambda t: t.replace("LX*1~", "NTE*" + "A" * 20_000 + "~"), 18, "NTE",
     "segment too long"),
]


@pytest.mark.parametrize(("transform", "index", "segment_id", "message"),
                         [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_refusals(transform: object, index: int, segment_id: str, message: str) -> None:
    text = transform(sample(UHC))  # type: ignore[operator]
    with pytest.raises(X12Error) as caught:
        read_835(text)
    error = caught.value
    assert message in str(error)
    assert (error.segment_index, error.segment_id or "") == (index, segment_id)


def test_error_as_dict_names_the_element() -> None:
    with pytest.raises(X12Error) as caught:
        read_835(sample(UHC).replace("BPR*I*349.99", "BPR*I*x"))
    assert caught.value.as_dict() == {
        "message": "BPR02 is not a number: 'x'", "segment_index": 4, "segment_id": "BPR",
        "element": "02"}


CLAIM_REFUSALS = [  # name, text transform, segment index, patient control number, reason
    ("non-numeric CLP03", lambda t: t.replace("*341.28*88.92*", "*34I.28*88.92*"), 19,
     "001-18573-358", "CLP03 is not a number"),
    ("non-numeric CAS amount", lambda t: t.replace("CAS*CO*45*67.5", "CAS*CO*45*six"), 30,
     "001-18573-358", "CAS03 is not a number"),
    ("missing CLP01", lambda t: t.replace("CLP*001-18573-358", "CLP*"), 19, None,
     "CLP01 (patient control number) is missing"),
    ("a CLP truncated", lambda t: t.replace("CLP*001-18573-358*1*341.28*88.92*",
                                            "CLP*001-18573-358*1*341.28~NTE*"), 19,
     "001-18573-358",
     "CLP04 (payment amount) is missing"),
]


@pytest.mark.parametrize(("transform", "index", "pcn", "reason"),
                         [r[1:] for r in CLAIM_REFUSALS], ids=[r[0] for r in CLAIM_REFUSALS])
def test_a_malformed_claim_is_refused_and_the_other_is_read(
        transform: object, index: int, pcn: str | None, reason: str) -> None:
    whole = read_835(sample(UHC))[0]
    stream = Stream835(transform(sample(UHC)))  # type: ignore[operator]
    claims = [claim.model() for _, claim in stream]
    assert claims == whole.claims[1:]
    [remittance] = stream.remittances
    [refused] = remittance.refused
    assert (refused["segment"], refused["patient_control_number"]) == (index, pcn)
    assert reason in refused["reason"]
    assert remittance.header is not None
    assert any(w.segment_index == index and "refused" in w.message
               for w in remittance.header.warnings)


def test_an_isa_not_padded_is_read_by_its_delimiters_with_one_warning() -> None:
    text = sample(UHC)
    unpadded = text.replace("ENS_EDI        *", "ENS_EDI*")
    isa = unpadded[:unpadded.index("~")]
    assert len(isa) < 105
    twice = unpadded + unpadded.replace("444444444", "444444445")
    remittances = read_835(twice)
    assert [r.claims for r in remittances] == [read_835(text)[0].claims] * 2
    assert remittances[0].envelope.sender_id == "ENS_EDI"
    padding = [w for w in remittances[0].warnings if "not padded" in w.message]
    assert padding == [ReadWarning(segment_index=1, segment_id="ISA",
                                   message="ISA is not padded to its fixed width; read by its "
                                           "delimiters")]


def test_service_line_balance_is_checked() -> None:
    text = sample(UHC).replace("CAS*CO*45*67.5", "CAS*CO*45*60.5")
    [remittance] = read_835(text)
    lines = [w for w in remittance.warnings if "SVC02 - CAS = SVC03" in w.message]
    assert len(lines) == 1
    assert lines[0].segment_id == "SVC"
    assert "line adjustments" in lines[0].message


# ---------------------------------------------------------------- linearity


def synthetic_835(claims: int) -> str:
    header = [
        "ISA*00*          *00*          *ZZ*SANDBOX        *ZZ*RECLAIM        *261102*1200*^*"
        "00501*000000001*0*P*:",
        "GS*HP*SANDBOX*RECLAIM*20261102*1200*1*X*005010X221A1", "ST*835*0001",
        f"BPR*I*{claims * 80}.00*C*ACH*CCP*01*999*DA*1*1234567890**01*999*DA*2*20261102",
        "TRN*1*T1*1234567890", "N1*PR*SANDBOX*XV*SANDBOX", "PER*BL*EDI*TE*2175550100",
        "N1*PE*CLINIC*XX*1234567893", "LX*1",
    ]
    body = []
    for n in range(claims):
        body += [f"CLP*PCN{n}*1*100.00*80.00*10.00*12*PAY{n}*11*1", "NM1*QC*1*LEE*ANN****MI*M1",
                 "SVC*HC:99214:25*100.00*80.00**1", "DTM*472*20261102", "CAS*CO*45*10.00",
                 "CAS*PR*1*10.00", "REF*6R*L1", "LQ*HE*N130"]
    trailer = [f"SE*{len(header) + len(body) - 1}*0001", "GE*1*1", "IEA*1*000000001"]
    return "~\n".join(header + body + trailer) + "~\n"


def best_time(text: str, *, runs: int) -> float:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        [remittance] = read_835(text)
        timings.append(time.perf_counter() - start)
    assert remittance.warnings == [w for w in remittance.warnings if "line breaks" in w.message]
    return min(timings)


def test_reading_is_linear_in_claims() -> None:
    small, large = synthetic_835(1_000), synthetic_835(4_000)
    per_claim_small = best_time(small, runs=3) / 1_000
    per_claim_large = best_time(large, runs=2) / 4_000
    assert per_claim_large <= 3 * per_claim_small


def test_835_claims_stream_before_the_file_is_read_through() -> None:
    text = synthetic_835(50).replace("CLP*PCN45*1*100.00*", "CLP*PCN45*1*x*")
    handed_out: list[str] = []
    stream = Stream835(text)
    for remittance, claim in stream:
        assert remittance.header is not None  # the header comes with the first claim
        handed_out.append(claim.patient_control_number)
        if claim.patient_control_number == "PCN43":
            # Each claim is handed out once the next CLP closes it: the bad one is not read yet.
            assert remittance.refused == []
    # The bad CLP is refused on its own; every other claim is handed out.
    assert handed_out == [f"PCN{n}" for n in range(50) if n != 45]
    assert stream.remittances[0].refused == [{
        "patient_control_number": "PCN45", "segment": 10 + 45 * 8,
        "reason": "CLP03 is not a number: 'x'"}]


@pytest.mark.parametrize("name", BALANCED_835)
def test_835_stream_gives_each_claim_as_the_model_would(name: str) -> None:
    """The stream builds each claim's JSON itself: it must be what ClaimPayment validates and
    dumps to, key order included (it is stored as is)."""
    stream = Stream835(sample(name))
    claims = [claim for _, claim in stream]
    assert claims
    assert sum(r.claim_count for r in stream.remittances) == len(claims)
    for claim in claims:
        model = ClaimPayment.model_validate(claim.data)
        assert model.model_dump(mode="json") == claim.data
        assert list(claim.data) == list(ClaimPayment.model_fields)
        assert all(list(line) == list(ServicePayment.model_fields)
                   for line in claim.data["lines"])
        assert (claim.charge, claim.paid, claim.patient_responsibility) == (
            model.charge, model.paid, model.patient_responsibility)
    assert [c.model() for c in claims] == [c for r in read_835(sample(name)) for c in r.claims]


def test_835_payment_repeated_after_the_claims_holds_for_all_of_them() -> None:
    text = synthetic_835(3)
    later = text.replace("*20261102~\nTRN", "*20261109~\nTRN").split("~\n")[3]
    assert later.startswith("BPR")
    assert later.endswith("20261109")
    repeated = text.replace("CLP*PCN2*", later + "~\nCLP*PCN2*")
    stream = Stream835(repeated)
    dates = [remittance.header.payment.date for remittance, _ in stream if remittance.header]
    [remittance] = stream.remittances
    # The first claims went out with the payment read before them; the file's last BPR holds.
    assert dates[0] == date(2026, 11, 2)
    assert remittance.preview is not None
    assert remittance.preview.date == date(2026, 11, 2)
    assert remittance.header is not None
    assert remittance.header.payment.date == date(2026, 11, 9)
    assert read_835(repeated)[0].payment.date == date(2026, 11, 9)


def test_segments_stream_one_transaction_at_a_time() -> None:
    reader = X12Reader(sample("999/pyx12-834_lui_id_5010.999.txt"))
    seen = []
    for transaction in reader.transactions():
        seen.append((transaction.envelope.transaction_control_number,
                     [s.id for s in transaction.segments()]))
    assert seen[0] == ("0001", ["AK1", "AK2", "IK5", "AK9"])
    assert [s[1][0] for s in seen] == ["AK1"] * 4


# ---------------------------------------------------------------- round trips with the writers

ROUND_TRIP_ENVELOPE = Envelope(
    sender_id="SANDBOX", receiver_id="RECLAIM", interchange_control_number=42,
    group_control_number=43, transaction_control_number="0001",
    created=datetime(2026, 11, 3, 10, 5), usage="T",
    application_sender="SANDBOX", application_receiver="RECLAIM",
)


def round_trip_835() -> Remittance835:
    co45 = Adjustment(group="CO", reason="45", amount=Decimal("30.00"))
    return Remittance835(
        envelope=ROUND_TRIP_ENVELOPE, payer_name="Sandbox Health", payer_id="SANDBOX",
        payee_name="Springfield Family Medicine", payee_npi="1234567893",
        payee_tax_id="371234567", production_date=date(2026, 11, 20),
        payment=Payment(amount=Decimal("195.00"), method="ACH", date=date(2026, 11, 21),
                        trace_number="EFT0001", payer_identifier="1371234567"),
        provider_adjustments=[ProviderAdjustment(
            provider_id="1234567893", fiscal_period_date=date(2026, 12, 31), reason="L6",
            reference="INT01", amount=Decimal("-5.00"))],
        claims=[
            ClaimPayment(
                patient_control_number="RC1001", status_code="1", charge=Decimal("250.00"),
                paid=Decimal("190.00"), patient_responsibility=Decimal("30.00"),
                filing_indicator="12", payer_claim_control_number="SBX0001",
                frequency_code="1", patient_last_name="LEE", patient_first_name="ANN",
                member_id="W123456789", service_date=date(2026, 11, 2),
                remarks=["MA01"],
                lines=[
                    ServicePayment(
                        procedure="99214", modifiers=["25"], charge=Decimal("150.00"),
                        paid=Decimal("90.00"), units=Decimal("1"),
                        service_date=date(2026, 11, 2), line_control_number="RC1001-1",
                        adjustments=[co45, Adjustment(group="PR", reason="2",
                                                      amount=Decimal("30.00"))],
                        remarks=["N130"]),
                    ServicePayment(
                        procedure="93000", charge=Decimal("100.00"), paid=Decimal("100.00"),
                        units=Decimal("1"), service_date=date(2026, 11, 2),
                        line_control_number="RC1001-2"),
                ]),
            ClaimPayment(
                patient_control_number="RC1002", status_code="4", charge=Decimal("80.00"),
                paid=Decimal("0"), filing_indicator="12", payer_claim_control_number="SBX0002",
                frequency_code="1", patient_last_name="PATEL", member_id="TEST-CO-16-N290",
                lines=[ServicePayment(procedure="J1100", charge=Decimal("80.00"),
                                      paid=Decimal("0"), units=Decimal("2"),
                                      adjustments=[Adjustment(group="CO", reason="16",
                                                              amount=Decimal("80.00"))],
                                      remarks=["N290"])]),
        ],
    )


def test_835_round_trip() -> None:
    sent = round_trip_835()
    [read] = read_835(write_835(sent))
    assert read.warnings == []
    assert read.model_dump(exclude={"warnings"}) == sent.model_dump(exclude={"warnings"})


def test_999_round_trip() -> None:
    sent = Ack999(
        envelope=ROUND_TRIP_ENVELOPE, group_control_number=17, implementation="005010X222A1",
        transactions=[
            AckTransaction(control_number="0001", implementation="005010X222A1", status="A"),
            AckTransaction(control_number="0002", implementation="005010X222A1", status="R",
                           errors=[AckError(segment_id="NM1", segment_position=21,
                                            code="8"),
                                   AckError(segment_id="NM1", segment_position=21,
                                            code="1", element_position=9)]),
        ],
        group_status="P", received_count=2, accepted_count=1,
    )
    [read] = read_999(write_999(sent))
    assert read.warnings == []
    assert read.model_dump(exclude={"transactions", "warnings"}) == sent.model_dump(
        exclude={"transactions", "warnings"})
    keys = ("segment_id", "segment_position", "loop", "code", "element_position")
    for got, want in zip(read.transactions, sent.transactions, strict=True):
        assert (got.control_number, got.status, got.implementation) == (
            want.control_number, want.status, want.implementation)
        wanted = [tuple(getattr(e, k) for k in keys) for e in want.errors]
        assert [tuple(getattr(e, k) for k in keys) for e in got.errors
                if e.segment_id is not None] == wanted


def test_277ca_round_trip() -> None:
    def status(pcn: str, category: str, code: str, action: str) -> ClaimStatus277:
        return ClaimStatus277(
            patient_control_number=pcn, payer_claim_control_number=f"SBX-{pcn}",
            status_category=category, status_code=code, entity_code="PR",
            action=action, total_charge=Decimal("150.00"), effective_date=date(2026, 11, 4),
            message="member id not found" if action == "rejected" else None,
            member_id="W123456789", service_date=date(2026, 11, 2))

    sent = Status277CA(
        envelope=ROUND_TRIP_ENVELOPE, payer_name="Sandbox Health", payer_id="SANDBOX",
        provider_name="Springfield Family Medicine", provider_npi="1234567893",
        claims=[status("RC1001", "A1", "20", "accepted"),
                status("RC1002", "A7", "562", "rejected")],
    )
    [read] = read_277ca(write_277ca(sent))
    assert read.warnings == []
    assert read.model_dump() == sent.model_dump()


def test_837_round_trip() -> None:
    document = ClaimDocument.model_validate({
        "claim_type": "professional", "payer_id": "SANDBOX",
        "patient": {"first_name": "Ann", "last_name": "Lee", "birth_date": "1960-04-02",
                    "sex": "F", "member_id": "W123456789",
                    "address": {"line1": "1 Main St", "city": "Springfield", "state": "IL",
                                "zip": "62701"}},
        "billing_provider": {"npi": "1234567893", "name": "Springfield Family Medicine",
                             "tax_id": "371234567",
                             "address": {"line1": "9 Oak Ave", "city": "Springfield",
                                         "state": "IL", "zip": "62704"}},
        "rendering_provider": {"npi": "1245319599", "first_name": "Raj", "last_name": "Patel"},
        "referring_provider": {"npi": "1003000126", "first_name": "Ida", "last_name": "Ray"},
        "service_date": "2026-11-02", "place_of_service": "11", "diagnoses": ["E11.9", "I10"],
        "lines": [
            {"procedure": "99214", "modifiers": ["25"], "units": 1, "charge": "150.00",
             "diagnosis_pointers": [1, 2]},
            {"procedure": "20610", "modifiers": ["RT", "59"], "units": 2, "charge": "210.00",
             "diagnosis_pointers": [2], "service_date": "2026-11-03"},
        ],
    })
    original = Claim837(document=document, patient_control_number="RC1001")
    replacement = Claim837(document=document, patient_control_number="RC1002",
                           frequency_code="7", payer_claim_control_number="SBX0001",
                           line_control_numbers=["A-1", "A-2"])
    sent = Batch837(envelope=ROUND_TRIP_ENVELOPE, submitter=Party(name="Reclaim", id="RECLAIM"),
                    receiver=Party(name="Sandbox", id="SANDBOX"), payer_name="Sandbox Health",
                    claims=[original, replacement])
    [read] = read_837(write_837(sent))
    assert read.warnings == []
    assert (read.envelope, read.implementation) == (ROUND_TRIP_ENVELOPE, "005010X222A1")
    assert [c.patient_control_number for c in read.claims] == ["RC1001", "RC1002"]
    for got, want in zip(read.claims, sent.claims, strict=True):
        doc = want.document
        assert (got.claim_type, got.total_charge, got.place_of_service) == (
            "professional", doc.total_charge, "11")
        assert (got.frequency_code, got.payer_claim_control_number) == (
            want.frequency_code, want.payer_claim_control_number)
        assert (got.payer_id, got.payer_name, got.member_id) == (
            "SANDBOX", "Sandbox Health", "W123456789")
        assert (got.patient_first_name, got.patient_last_name) == ("Ann", "Lee")
        assert (got.billing_npi, got.rendering_npi, got.referring_npi) == (
            "1234567893", "1245319599", "1003000126")
        assert got.diagnoses == ["E119", "I10"]
        assert got.service_date == date(2026, 11, 2)
        assert [(ln.procedure, ln.modifiers, ln.charge, ln.units, ln.diagnosis_pointers)
                for ln in got.lines] == [
            (ln.procedure, ln.modifiers, ln.charge, ln.units, ln.diagnosis_pointers)
            for ln in doc.lines]
        assert [ln.service_date for ln in got.lines] == [date(2026, 11, 2), date(2026, 11, 3)]
    assert [ln.line_control_number for ln in read.claims[1].lines] == ["A-1", "A-2"]


# ---------------------------------------------------------------- one bad loop, 277CA and 999


def test_277ca_malformed_claim_is_refused_and_the_others_read() -> None:
    from tests.x12.test_writers import claim_status, status_277

    text = write_277ca(status_277(claim_status("RC1-1", accepted=True),
                                  claim_status("RC2-1", accepted=False),
                                  claim_status("RC3-1", accepted=True)))
    bad = text.replace("TRN*2*RC2-1~", "TRN*2*" + "9" * 60 + "~")
    [status] = read_277ca(bad)
    assert [c.patient_control_number for c in status.claims] == ["RC1-1", "RC3-1"]
    [refused] = status.refused
    index = [s.strip() for s in bad.split("~")].index("TRN*2*" + "9" * 60) + 1
    assert refused["segment"] == index
    assert "TRN02 (patient control number) has 60 characters" in refused["reason"]
    assert any(w.segment_index == index and "refused" in w.message for w in status.warnings)


def test_999_malformed_answer_is_refused_and_the_others_read() -> None:
    sent = Ack999(
        envelope=ROUND_TRIP_ENVELOPE, group_control_number=17, implementation="005010X222A1",
        transactions=[
            AckTransaction(control_number="0001", implementation="005010X222A1", status="A"),
            AckTransaction(control_number="0002", implementation="005010X222A1", status="R",
                           errors=[AckError(segment_id="NM1", segment_position=21, code="8")]),
            AckTransaction(control_number="0003", implementation="005010X222A1", status="A"),
        ],
        group_status="P", received_count=3, accepted_count=2,
    )
    text = write_999(sent)
    bad = text.replace("IK3*NM1*21**8~", "IK3*NM1*twenty-one**8~")
    [read] = read_999(bad)
    assert [t.control_number for t in read.transactions] == ["0001", "0003"]
    [refused] = read.refused
    assert refused["transaction_control_number"] == "0002"
    assert "IK302 is not a number" in refused["reason"]
