"""277CA category, status and entity codes in plain words."""

import pytest

from reclaim.codes.claim_status import (
    CATEGORIES,
    STATUSES,
    plain_status,
    plain_status_code,
    short_code,
    split_code,
    status_words,
)


def test_the_category_code_list_is_covered():
    expected = {f"A{i}" for i in range(1, 9)} | {f"P{i}" for i in range(1, 6)} \
        | {f"F{i}" for i in range(5)} | {"R0", *(f"R{i}" for i in range(3, 17))} \
        | {f"E{i}" for i in range(5)}
    assert expected <= set(CATEGORIES)
    for table in (CATEGORIES, STATUSES):
        for code, label in table.items():
            assert label
            assert label == label.strip()
            assert code.upper() == code


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("A7:33:IL", "A7:33 rejected for invalid information: subscriber and member id not "
                     "found (the subscriber)."),
        ("A7:562:85", "A7:562 rejected for invalid information: the entity's National Provider "
                      "Identifier (NPI) (the billing provider)."),
        ("A2:20", "A2:20 accepted into adjudication: accepted for processing."),
        ("A7:116", "A7:116 rejected for invalid information: sent to the wrong payer."),
        ("A6:21", "A6:21 rejected for missing information: information missing or invalid."),
        ("F2:88:QC", "F2:88 finalized: denied; the entity is not eligible for benefits on those "
                     "dates (the patient)."),
        ("P3:317", "P3:317 pending: waiting for information asked of the provider; a paper copy "
                   "of the claim was requested."),
        ("A7:A7", "A7 rejected for invalid information."),
        ("A7", "A7 rejected for invalid information."),
    ],
)
def test_codes_of_the_sandbox_payer_and_the_public_samples(code, expected):
    assert plain_status_code(code) == expected


def test_never_a_code_twice():
    assert short_code("A7", "A7") == "A7"
    assert short_code("a7", "33") == "A7:33"
    assert "A7:A7" not in plain_status("A7", "A7")
    assert split_code("A7:33:IL") == ("A7", "33", "IL")


def test_unknown_codes_are_named_and_bad_ones_refused():
    assert status_words("R16", "9999") == ("information requested to decide eligibility: "
                                           "status 9999 (no label on file)")
    with pytest.raises(ValueError, match="'A7;33'"):
        plain_status("A7;33")
    with pytest.raises(ValueError, match="required"):
        plain_status("")
