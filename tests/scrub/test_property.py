"""The scrubber never raises on a document the schema accepts, whatever is in it."""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from reclaim.claims.schemas import ClaimDocument
from reclaim.codes.ncci import sample_edits
from reclaim.scrub import Finding, ScrubContext, load_payer_rules, scrub

# Control characters are refused by the schema itself (reclaim.claims.schemas), not the scrubber.
_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]),
                max_size=12)
_WORD = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.", min_size=1, max_size=12)
_DATES = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31))
_SHORT = st.text(alphabet="0123456789AX", min_size=1, max_size=4)
_NEAR = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))

DIAGNOSES = [
    "E11.9",
    "E11",
    "I10",
    "O09.00",
    "P07.01",
    "N40.0",
    "G63",
    "V00.01XA",
    "Z3A.20",
    "S52.521",
    "E11.99",
    "U07.1",
    "e119",
    "C4A.0",
]
PROCEDURES = [
    "99214",
    "99213",
    "11042",
    "97597",
    "20610",
    "20604",
    "29881",
    "29880",
    "36415",
    "J1100",
    "0001U",
    "1234F",
    "0042T",
    "99221",
    "99284",
    "A0425",
    "Z9999",
]
MODIFIERS = ["25", "59", "XS", "XE", "LT", "RT", "50", "26", "TC", "GT", "95", "ZZ", "QW"]


def _code(known: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(known), _WORD)


def _address() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "line1": _WORD,
            "city": _WORD,
            "state": st.text("ABCIL", min_size=2, max_size=2),
            "zip": st.text("0123456789", min_size=5, max_size=10),
        }
    )


def _line() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "procedure": _code(PROCEDURES),
            "modifiers": st.lists(_code(MODIFIERS), max_size=4),
            "units": st.decimals(-(10**6), 10**6, places=3),
            "charge": st.decimals(-(10**9), 10**9, places=2),
            "diagnosis_pointers": st.lists(st.integers(-3, 15), max_size=4),
        },
        optional={"service_date": st.one_of(_DATES, _NEAR), "revenue_code": _SHORT},
    )


def _provider() -> st.SearchStrategy[dict[str, Any]]:
    npi = st.one_of(st.sampled_from(["1234567893", "1245319599"]), _WORD)
    return st.fixed_dictionaries({"npi": npi, "first_name": _WORD, "last_name": _WORD})


DOCUMENTS = st.fixed_dictionaries(
    {
        "claim_type": st.sampled_from(["professional", "institutional"]),
        "payer_id": st.one_of(st.sampled_from(["SANDBOX", "ACMEHEALTH", "MCAREDEMO"]), _WORD),
        "patient": st.fixed_dictionaries(
            {
                "first_name": _WORD,
                "last_name": _WORD,
                "birth_date": st.one_of(_DATES, _NEAR),
                "sex": st.sampled_from(["F", "M", "U"]),
                "member_id": _TEXT.filter(str.strip),
                "address": _address(),
            }
        ),
        "billing_provider": st.fixed_dictionaries(
            {
                "npi": st.one_of(st.just("1234567893"), _WORD),
                "name": _WORD,
                "tax_id": st.one_of(st.just("371234567"), _WORD),
                "address": _address(),
            }
        ),
        "service_date": st.one_of(_DATES, _NEAR),
        "place_of_service": st.one_of(
            st.sampled_from(["11", "21", "23", "02"]), _SHORT.map(lambda s: s[:2])
        ),
        "diagnoses": st.lists(_code(DIAGNOSES), max_size=12),
        "lines": st.lists(_line(), min_size=1, max_size=6),
    },
    optional={
        "rendering_provider": _provider(),
        "referring_provider": _provider(),
        "type_of_bill": st.one_of(st.sampled_from(["0111", "0131", "111"]), _SHORT),
        "admission_date": _DATES,
        "discharge_date": _DATES,
    },
)

TODAYS = st.one_of(st.just(date(2026, 11, 27)), _DATES)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=DOCUMENTS, today=TODAYS)
def test_scrub_never_raises_on_schema_valid_documents(raw: dict[str, Any], today: date) -> None:
    try:
        doc = ClaimDocument.model_validate(raw)
    except ValidationError:
        return  # not a schema-valid document: the door refuses it with a 422
    ctx = ScrubContext(payer=load_payer_rules(doc.payer_id), today=today, edits=sample_edits())
    findings = scrub(doc, ctx=ctx)
    assert all(isinstance(f, Finding) and f.field and f.message for f in findings)


def test_the_strategy_mostly_produces_valid_documents() -> None:
    valid = 0

    @settings(max_examples=50, deadline=None, derandomize=True)
    @given(raw=DOCUMENTS)
    def count(raw: dict[str, Any]) -> None:
        nonlocal valid
        try:
            ClaimDocument.model_validate(raw)
            valid += 1
        except ValidationError:
            pass

    count()
    assert valid >= 35
