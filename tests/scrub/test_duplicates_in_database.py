"""The duplicate-claim edit against the database: the claims already submitted for the same
member, billing provider and date of service, compared by their procedure codes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, update
from sqlmodel import col

from reclaim.claims.schemas import ClaimDocument
from reclaim.claims.service import create_claim
from reclaim.db import session_scope
from reclaim.models import Claim
from reclaim.scrub.service import scrub_claim, scrub_document
from tests.support import claim_doc


def _stored(engine: Engine, document: dict[str, Any], status: str) -> int:
    with session_scope(engine) as session:
        claim = create_claim(session=session, document=ClaimDocument.model_validate(document))
        assert claim.id is not None
        session.execute(update(Claim).where(col(Claim.id) == claim.id).values(status=status))
        return claim.id


def _duplicate_rules(engine: Engine, document: dict[str, Any],
                     claim_id: int | None = None) -> list[str]:
    with session_scope(engine) as session:
        outcome = scrub_document(session=session, document=ClaimDocument.model_validate(document),
                                 claim_id=claim_id)
    return [f.rule for f in outcome.errors if f.rule == "duplicate_claim"]


def test_a_claim_already_submitted_for_the_visit_is_a_duplicate(fresh_engine: Engine) -> None:
    document = claim_doc()
    _stored(fresh_engine, document, "submitted")
    assert _duplicate_rules(fresh_engine, document) == ["duplicate_claim"]


def test_the_claim_itself_and_claims_not_yet_sent_are_not_duplicates(
        fresh_engine: Engine) -> None:
    document = claim_doc()
    first = _stored(fresh_engine, document, "submitted")
    with session_scope(fresh_engine) as session:
        claim = session.get(Claim, first)
        assert claim is not None
        assert "duplicate_claim" not in [f.rule for f in
                                         scrub_claim(session=session, claim=claim).errors]
    other = claim_doc()
    _stored(fresh_engine, other, "coding")
    assert _duplicate_rules(fresh_engine, other) == []


def test_another_date_provider_or_procedure_is_not_a_duplicate(fresh_engine: Engine) -> None:
    document = claim_doc()
    _stored(fresh_engine, document, "paid")
    later = dict(document, service_date="2026-01-02")
    assert _duplicate_rules(fresh_engine, later) == []
    other_procedure = claim_doc()
    other_procedure["patient"] = document["patient"]
    other_procedure["lines"][0]["procedure"] = "99213"
    assert _duplicate_rules(fresh_engine, other_procedure) == []
    other_provider = dict(document)
    other_provider["billing_provider"] = dict(document["billing_provider"], npi="1245319599")
    assert other_provider["billing_provider"] != document["billing_provider"]
    assert _duplicate_rules(fresh_engine, other_provider) == []
