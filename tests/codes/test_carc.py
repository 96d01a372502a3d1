from __future__ import annotations

import pytest

from reclaim.codes.carc import (
    CARCS,
    GROUP_LABELS,
    RARCS,
    carc_category,
    describe_carc,
    describe_group,
    describe_rarc,
    plain_denial,
)

DOMAIN_CARCS = [
    ("1", "patient_share"),
    ("2", "patient_share"),
    ("3", "patient_share"),
    ("45", "contractual"),
    ("253", "contractual"),
    ("24", "contractual"),
    ("23", "contractual"),
    ("4", "coding"),
    ("182", "coding"),
    ("11", "coding"),
    ("146", "coding"),
    ("5", "coding"),
    ("167", "medical_necessity"),
    ("50", "medical_necessity"),
    ("97", "bundling"),
    ("234", "bundling"),
    ("236", "bundling"),
    ("151", "units"),
    ("16", "data_missing"),
    ("22", "coordination"),
    ("109", "coordination"),
    ("26", "eligibility"),
    ("27", "eligibility"),
    ("31", "eligibility"),
    ("197", "authorization"),
    ("198", "authorization"),
    ("288", "authorization"),
    ("18", "duplicate"),
    ("29", "timely_filing"),
    ("226", "documentation"),
    ("252", "documentation"),
    ("96", "non_covered"),
]
DOMAIN_RARCS = [
    "M76",
    "M15",
    "M80",
    "N362",
    "N290",
    "M77",
    "N286",
    "N265",
    "MA120",
    "MA130",
    "MA04",
    "N479",
    "N382",
    "N115",
    "N386",
]


@pytest.mark.parametrize(("code", "category"), DOMAIN_CARCS)
def test_domain_carcs_have_labels_and_categories(code, category):
    assert carc_category(code) == category
    assert describe_carc(code) == CARCS[code].label


@pytest.mark.parametrize("code", DOMAIN_RARCS)
def test_domain_rarcs_have_labels(code):
    assert describe_rarc(code) == RARCS[code].label


def test_code_lists_are_broad_and_labelled():
    assert len(CARCS) >= 80
    assert len(RARCS) >= 60
    for table in (CARCS, RARCS):
        for code, entry in table.items():
            assert entry.code == code
            assert 3 <= len(entry.label) <= 80, code
    assert set(GROUP_LABELS) == {"CO", "PR", "OA", "PI", "CR"}


@pytest.mark.parametrize(
    ("rarc", "field"),
    [
        ("N290", "rendering_provider"),
        ("M77", "place_of_service"),
        ("N286", "referring_provider"),
        ("N265", "ordering_provider"),
        ("MA130", None),
    ],
)
def test_field_naming_rarcs(rarc, field):
    assert RARCS[rarc].field == field


def test_unknown_but_well_formed_codes_are_described_not_refused():
    assert describe_carc("299") == "reason 299 (no label on file)"
    assert describe_rarc("n9999") == "remark N9999 (no label on file)"
    assert carc_category("299") == "denied"


@pytest.mark.parametrize(
    ("call", "arg"),
    [(describe_carc, "16-A"), (describe_carc, ""), (describe_rarc, "X12"), (describe_group, "ZZ")],
)
def test_malformed_codes_are_refused(call, arg):
    with pytest.raises(ValueError, match=repr(arg)):
        call(arg)


def test_plain_denial_is_one_readable_sentence():
    sentence = plain_denial("co", "16", ["n290", "MA130"])
    assert sentence == (
        "CO-16 claim lacks information or has a billing error (fix and resend: the payer pays "
        "once the claim is corrected). Remarks: N290 rendering provider NPI missing or "
        "invalid; MA130 claim cannot be processed: send a new claim with the data fixed."
    )
    assert plain_denial("PR", "1") == (
        "PR-1 deductible the patient owes (the patient owes it: bill the patient).")
