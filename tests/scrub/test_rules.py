"""Every edit: a claim that trips it (the finding names the field) and one that passes it."""

from __future__ import annotations

from typing import Any

import pytest

from reclaim.scrub import RULES
from reclaim.scrub.rules.parties import npi_is_valid
from tests.scrub.factories import claim, run


def line(procedure: str, *modifiers: str, units: int = 1, charge: str = "100.00") -> dict[str, Any]:
    return {
        "procedure": procedure,
        "modifiers": list(modifiers),
        "units": units,
        "charge": charge,
        "diagnosis_pointers": [1],
    }


INSTITUTIONAL = {"claim_type": "institutional", "lines[0].revenue_code": "0450"}
ACME = {"payer_id": "ACMEHEALTH"}
MALE = {"patient.sex": "M"}
MEDICARE = {"payer_id": "MCAREDEMO", "patient.member_id": "1EG4TE5MK73"}

# rule, id, failing changes, passing changes, field of the finding, severity
CASES: list[tuple[str, str, dict[str, Any], dict[str, Any], str, str]] = [
    (
        "required_fields",
        "no diagnosis",
        {"diagnoses": [], "lines[0].diagnosis_pointers": []},
        {},
        "diagnoses",
        "error",
    ),
    (
        "required_fields",
        "institutional without type of bill",
        INSTITUTIONAL,
        {**INSTITUTIONAL, "type_of_bill": "0131"},
        "type_of_bill",
        "error",
    ),
    (
        "required_fields",
        "institutional line without revenue code",
        {"claim_type": "institutional", "type_of_bill": "0131"},
        {**INSTITUTIONAL, "type_of_bill": "0131"},
        "lines[0].revenue_code",
        "error",
    ),
    (
        "required_fields",
        "inpatient without admission date",
        {**INSTITUTIONAL, "type_of_bill": "0111"},
        {**INSTITUTIONAL, "type_of_bill": "0111", "admission_date": "2026-10-30"},
        "admission_date",
        "error",
    ),
    (
        "npi",
        "billing check digit",
        {"billing_provider.npi": "1234567890"},
        {},
        "billing_provider.npi",
        "error",
    ),
    (
        "npi",
        "rendering not 10 digits",
        {"rendering_provider.npi": "12453195"},
        {},
        "rendering_provider.npi",
        "error",
    ),
    (
        "npi",
        "referring starts with 3",
        {"referring_provider": {"npi": "3245319599", "first_name": "A", "last_name": "B"}},
        {"referring_provider": {"npi": "1245319599", "first_name": "A", "last_name": "B"}},
        "referring_provider.npi",
        "error",
    ),
    (
        "tax_id",
        "dash",
        {"billing_provider.tax_id": "37-1234567"},
        {},
        "billing_provider.tax_id",
        "error",
    ),
    (
        "member_id",
        "sandbox too short",
        {"patient.member_id": "W12"},
        {"patient.member_id": "TEST-CO-16-N290"},
        "patient.member_id",
        "error",
    ),
    (
        "member_id",
        "medicare needs an MBI",
        {"payer_id": "MCAREDEMO"},
        {"payer_id": "MCAREDEMO", "patient.member_id": "1EG4TE5MK73"},
        "patient.member_id",
        "error",
    ),
    (
        "service_date",
        "claim in the future",
        {"service_date": "2026-12-01"},
        {"service_date": "2026-11-27"},
        "service_date",
        "error",
    ),
    (
        "service_date",
        "line in the future",
        {"lines[0].service_date": "2026-12-05"},
        {"lines[0].service_date": "2026-11-03"},
        "lines[0].service_date",
        "error",
    ),
    (
        "timely_filing",
        "past 365 days",
        {"service_date": "2025-11-01"},
        {"service_date": "2026-01-01"},
        "service_date",
        "error",
    ),
    (
        "timely_filing",
        "near the limit",
        {**ACME, "patient.member_id": "W123456789", "service_date": "2026-09-01"},
        {**ACME, "service_date": "2026-10-15"},
        "service_date",
        "warning",
    ),
    (
        "birth_date",
        "born after the service",
        {"patient.birth_date": "2026-11-10"},
        {},
        "patient.birth_date",
        "error",
    ),
    (
        "icd10_valid",
        "category instead of leaf",
        {"diagnoses[0]": "E11"},
        {},
        "diagnoses[0]",
        "error",
    ),
    (
        "icd10_valid",
        "not a code",
        {"diagnoses[1]": "I1O"},
        {"diagnoses[1]": "I10"},
        "diagnoses[1]",
        "error",
    ),
    (
        "icd10_valid",
        "unknown code in the release window",
        {"service_date": "2026-05-04", "diagnoses[0]": "E11.99"},
        {"service_date": "2026-05-04", "diagnoses[0]": "E119"},
        "diagnoses[0]",
        "error",
    ),
    (
        "icd10_valid",
        "unknown code after the release window",
        {"diagnoses[0]": "E11.99"},
        {},
        "diagnoses[0]",
        "warning",
    ),
    (
        "icd10_sex",
        "prostate code for a woman",
        {"diagnoses[0]": "N40.0"},
        {**MALE, "diagnoses[0]": "N40.0"},
        "diagnoses[0]",
        "error",
    ),
    (
        "icd10_sex",
        "pregnancy code for a man",
        {**MALE, "patient.birth_date": "1995-01-01", "diagnoses[0]": "O09.00"},
        {"patient.birth_date": "1995-01-01", "diagnoses[0]": "O09.00"},
        "diagnoses[0]",
        "error",
    ),
    (
        "icd10_age",
        "pregnancy at 66",
        {"diagnoses[1]": "O09.00"},
        {"patient.birth_date": "1995-01-01", "diagnoses[1]": "O09.00"},
        "diagnoses[1]",
        "error",
    ),
    (
        "icd10_age",
        "newborn code for an adult",
        {"diagnoses[0]": "P07.01"},
        {"patient.birth_date": "2026-10-30", "diagnoses[0]": "P07.01"},
        "diagnoses[0]",
        "error",
    ),
    (
        "first_diagnosis",
        "manifestation first",
        {"diagnoses": ["G63", "E11.42"]},
        {"diagnoses": ["E11.42", "G63"]},
        "diagnoses[0]",
        "error",
    ),
    (
        "first_diagnosis",
        "external cause first",
        {"diagnoses": ["V00.01XA", "S52.521A"]},
        {"diagnoses": ["S52.521A", "V00.01XA"]},
        "diagnoses[0]",
        "error",
    ),
    (
        "duplicate_diagnosis",
        "listed twice",
        {"diagnoses": ["E11.9", "E119"]},
        {},
        "diagnoses[1]",
        "warning",
    ),
    (
        "procedure_format",
        "four digits",
        {"lines[0].procedure": "9921"},
        {"lines[0].procedure": "0001U"},
        "lines[0].procedure",
        "error",
    ),
    (
        "procedure_format",
        "HCPCS letter out of range",
        {"lines[0].procedure": "Z1100"},
        {"lines[0].procedure": "J1100"},
        "lines[0].procedure",
        "error",
    ),
    ("modifiers", "malformed", {"lines[0].modifiers": ["2-5"]}, {}, "lines[0].modifiers", "error"),
    (
        "modifiers",
        "unknown",
        {"lines[0].modifiers": ["25", "ZZ"]},
        {},
        "lines[0].modifiers",
        "warning",
    ),
    (
        "modifiers",
        "25 on a procedure",
        {"lines[1]": line("11042", "25")},
        {"lines[1]": line("11042", "RT")},
        "lines[1].modifiers",
        "error",
    ),
    (
        "modifiers",
        "left and right",
        {"lines[1]": line("20610", "LT", "RT")},
        {"lines[1]": line("20610", "50")},
        "lines[1].modifiers",
        "error",
    ),
    ("modifiers", "twice", {"lines[0].modifiers": ["25", "25"]}, {}, "lines[0].modifiers", "error"),
    (
        "modifiers",
        "payer refuses X modifiers",
        {**ACME, "lines[1]": line("97597", "XS")},
        {**ACME, "lines[1]": line("97597", "59")},
        "lines[1].modifiers",
        "error",
    ),
    (
        "modifiers",
        "payer wants a therapy modifier",
        {**MEDICARE, "lines[1]": line("97110", "GO")},
        {**MEDICARE, "lines[1]": line("97110", "GP")},
        "lines[1].modifiers",
        "error",
    ),
    (
        "diagnosis_pointers",
        "beyond the list",
        {"lines[0].diagnosis_pointers": [1, 3]},
        {},
        "lines[0].diagnosis_pointers",
        "error",
    ),
    (
        "diagnosis_pointers",
        "none",
        {"lines[0].diagnosis_pointers": []},
        {},
        "lines[0].diagnosis_pointers",
        "error",
    ),
    (
        "diagnosis_pointers",
        "repeated",
        {"lines[0].diagnosis_pointers": [2, 2]},
        {},
        "lines[0].diagnosis_pointers",
        "error",
    ),
    (
        "place_of_service",
        "unknown code",
        {"place_of_service": "00"},
        {"place_of_service": "22"},
        "place_of_service",
        "error",
    ),
    (
        "place_of_service",
        "office visit in the hospital",
        {"place_of_service": "21"},
        {"place_of_service": "21", "lines[0].procedure": "99223"},
        "lines[0].procedure",
        "error",
    ),
    (
        "place_of_service",
        "ER visit in the office",
        {"lines[0].procedure": "99284"},
        {"place_of_service": "23", "lines[0].procedure": "99284"},
        "lines[0].procedure",
        "error",
    ),
    (
        "charges",
        "zero charge",
        {"lines[0].charge": "0.00"},
        {"lines[1]": line("1234F", charge="0.00")},
        "lines[0].charge",
        "error",
    ),
    (
        "units",
        "zero units",
        {"lines[0].units": 0},
        {"lines[0].units": "0.5"},
        "lines[0].units",
        "error",
    ),
    (
        "ncci_ptp",
        "pair without modifier",
        {"lines[1]": line("11042"), "lines[2]": line("97597")},
        {"lines[1]": line("11042"), "lines[2]": line("97597", "XS")},
        "lines[2].modifiers",
        "error",
    ),
    (
        "ncci_ptp",
        "pair no modifier can separate",
        {"lines[1]": line("20610"), "lines[2]": line("20604", "59")},
        {
            "lines[1]": line("20610"),
            "lines[2]": line("20604", "59", units=1),
            "lines[2].service_date": "2026-11-01",
        },
        "lines[2].procedure",
        "error",
    ),
    (
        "ncci_ptp",
        "anatomic sites must differ",
        {"lines[1]": line("11042", "RT"), "lines[2]": line("97597", "RT")},
        {"lines[1]": line("11042", "RT"), "lines[2]": line("97597", "LT")},
        "lines[2].modifiers",
        "error",
    ),
    (
        "mue",
        "units above the line limit",
        {"lines[1]": line("11042", units=2)},
        {"lines[1]": line("11042")},
        "lines[1].units",
        "error",
    ),
    (
        "mue",
        "units above the daily limit across lines",
        {"lines[1]": line("20610", "RT", units=2), "lines[2]": line("20610", "LT", units=1)},
        {"lines[1]": line("20610", "RT"), "lines[2]": line("20610", "LT")},
        "lines[2].units",
        "warning",
    ),
    (
        "em_modifier_25",
        "visit and procedure without 25",
        {"lines[0].modifiers": [], "lines[1]": line("11042")},
        {"lines[1]": line("11042")},
        "lines[0].modifiers",
        "error",
    ),
]


def _of(rule: str, findings: list[Any]) -> list[Any]:
    return [f for f in findings if f.rule == rule]


@pytest.mark.parametrize(
    ("rule", "bad", "good", "field", "severity"),
    [pytest.param(r, b, g, f, s, id=f"{r}: {name}") for r, name, b, g, f, s in CASES],
)
def test_edit_fails_then_passes(
    rule: str, bad: dict[str, Any], good: dict[str, Any], field: str, severity: str
) -> None:
    failing = _of(rule, run(claim(bad)))
    assert [(f.field, f.severity) for f in failing] == [(field, severity)], failing
    assert failing[0].message.endswith(".")
    assert _of(rule, run(claim(good))) == []


def test_every_registered_rule_has_cases() -> None:
    # duplicate_claim below; provider_directory in test_provider_directory.py (it reads the
    # practice's directory).
    assert {case[0] for case in CASES} | {"duplicate_claim", "provider_directory"} == set(RULES)


def test_duplicate_claim_uses_the_context_check() -> None:
    found = _of("duplicate_claim", run(claim(), is_duplicate=lambda _doc: True))
    assert [(f.field, f.severity) for f in found] == [("service_date", "error")]
    assert _of("duplicate_claim", run(claim(), is_duplicate=lambda _doc: False)) == []
    assert _of("duplicate_claim", run(claim())) == []


@pytest.mark.parametrize(
    ("npi", "valid"),
    [
        ("1234567893", True),
        ("1245319599", True),
        ("1234567890", False),
        ("2234567890", False),
        ("123456789", False),
        ("123456789A", False),
        ("3245319599", False),
    ],
)
def test_npi_luhn_with_80840_prefix(npi: str, valid: bool) -> None:
    assert npi_is_valid(npi) is valid


def test_category_message_names_the_billable_code() -> None:
    (finding,) = _of("icd10_valid", run(claim({"diagnoses[0]": "E11"})))
    assert finding.message == (
        "E11 is a category, not a billable code: choose E11.9 or a more specific code."
    )


def test_sandbox_trigger_ids_pass() -> None:
    for member in ("TEST-CO-16-N290", "TEST-REJECT-A7", "TEST-PR-1"):
        assert _of("member_id", run(claim({"patient.member_id": member}))) == []


def test_deleted_ncci_edit_does_not_apply() -> None:
    doc = claim({"lines[1]": line("29881"), "lines[2]": line("29880")})
    assert _of("ncci_ptp", run(doc)) == []
