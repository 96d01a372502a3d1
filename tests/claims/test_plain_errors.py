"""Validation errors of the claim document in plain words, at their field."""

from __future__ import annotations

from typing import Any

import pytest

from reclaim.claims.plain_errors import plain_errors
from reclaim.claims.service import CorrectionError, corrected_document
from tests.factories import claim_doc


@pytest.mark.parametrize(
    ("corrections", "expected"),
    [
        ({"lines": []}, [("lines", "Add at least one service line.")]),
        ({"lines": [{"procedure": "99214", "charge": "abc", "diagnosis_pointers": [1]}]},
         [("lines[0].charge", "Service line 1: charge must be an amount like 150.00.")]),
        ({"patient": {"member_id": ""}}, [("patient.member_id", "Member id is required.")]),
        ({"service_date": "11/02/2026"},
         [("service_date", "Date of service must be a date like 2026-11-02.")]),
        ({"diagnoses": ["E11.9"] * 13}, [("diagnoses", "Diagnoses: at most 12 diagnoses.")]),
        ({"billing_provider": {"npi": None}},
         [("billing_provider.npi", "Billing provider NPI is required.")]),
        ({"bogus": 1}, [("bogus", "Bogus is not a field of the claim.")]),
    ],
)
def test_corrections_fail_in_plain_words(corrections: dict[str, Any],
                                         expected: list[tuple[str, str]]) -> None:
    with pytest.raises(CorrectionError) as caught:
        corrected_document(claim_doc(), corrections)
    got = [(e["field"], e["message"]) for e in caught.value.errors]
    assert got == expected
    for _field, message in got:
        assert "should" not in message.lower()
        assert "validation" not in message.lower()


def test_an_unknown_error_type_still_names_the_field() -> None:
    errors = plain_errors([{"loc": ("body", "lines", 1, "units"), "type": "weird",
                            "msg": "Something odd"}])
    assert errors == [{"field": "lines[1].units",
                       "message": "Service line 2: units: something odd."}]
