"""The search box (`?q=` on /claims and /api/v1/claims): a claim id, or the start of a last
name, member id or payer claim number, in any case; on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from reclaim.claims.filter import ClaimFilter, search_claims
from tests.factories import add_claim

NOW = datetime(2026, 3, 15, 12, tzinfo=UTC)


@pytest.fixture
def people(db: Engine) -> dict[str, int]:
    with Session(db) as s:
        ids = {
            "okafor": add_claim(s, last_name="Okafor", member_id="W100").id,
            "okaforth": add_claim(s, last_name="OKAFORTH", member_id="W200").id,
            "okaf": add_claim(s, last_name="Okaf", member_id="W300").id,
            "byokafor": add_claim(s, last_name="Byokafor", member_id="W400").id,
            "percent": add_claim(s, last_name="Lee", member_id="50%OFF").id,
            "underscore": add_claim(s, last_name="Lee", member_id="A_1").id,
            "axb": add_claim(s, last_name="Lee", member_id="AX1").id,
            "muller": add_claim(s, last_name="Müller", member_id="W500").id,
            "digits": add_claim(s, last_name="Lee", member_id="123456").id,
        }
        s.commit()
    return {k: int(v) for k, v in ids.items() if v is not None}


def found(db: Engine, q: str) -> set[int]:
    with Session(db) as s:
        # GET /api/v1/claims builds its filter from keywords; the /claims page from its query.
        listed, total = search_claims(session=s, claim_filter=ClaimFilter(q=q),
                                      today=NOW.date(), now=NOW, page_size=100)
        page, page_total = search_claims(session=s, claim_filter=ClaimFilter.from_query({"q": q}),
                                         today=NOW.date(), now=NOW, page_size=100)
    ids = {int(c.id) for c in listed if c.id is not None}
    assert total == len(ids)
    assert page_total == total
    assert {int(c.id) for c in page if c.id is not None} == ids, "the page and the API differ"
    return ids


def test_a_prefix_in_any_case_finds_the_names_that_start_with_it(
        db: Engine, people: dict[str, int]) -> None:
    assert found(db, "okafor") == {people["okafor"], people["okaforth"]}
    assert found(db, "  OKAF ") == {people["okafor"], people["okaforth"], people["okaf"]}
    assert found(db, "okaforz") == set()


def test_member_ids_match_by_prefix_and_wildcards_are_plain_characters(
        db: Engine, people: dict[str, int]) -> None:
    assert found(db, "w1") == {people["okafor"]}
    assert found(db, "50%") == {people["percent"]}
    assert found(db, "a_") == {people["underscore"]}  # not AX1: `_` is not a wildcard here


def test_a_number_finds_the_claim_with_that_id_and_member_ids_starting_with_it(
        db: Engine, people: dict[str, int]) -> None:
    assert people["okaf"] in found(db, str(people["okaf"]))
    assert found(db, "12345") == {people["digits"]} | (
        {12345} & set(people.values()))


def test_a_term_beyond_ascii_is_still_found(db: Engine, people: dict[str, int]) -> None:
    assert found(db, "Müll") == {people["muller"]}


def test_the_api_age_counts_days_since_the_claim_was_entered(db: Engine) -> None:
    """GET /api/v1/claims?min_age_days=: days since the claim was created, not since its
    service date (the page's `min_age`); the page's query string never reads it."""
    with Session(db) as s:
        old = add_claim(s, last_name="Old")
        old.created_at = NOW - timedelta(days=10)
        new = add_claim(s, last_name="New")
        new.created_at = NOW - timedelta(days=1)
        s.commit()
        rows, total = search_claims(session=s, claim_filter=ClaimFilter(min_days_since_created=5),
                                    today=NOW.date(), now=NOW)
    assert ([c.patient_last_name for c in rows], total) == (["Old"], 1)
    assert ClaimFilter.from_query({"min_days_since_created": "5"}) == ClaimFilter()
