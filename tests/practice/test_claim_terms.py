"""A claim's deadlines come from the payer's terms in force when it was submitted: they are
recorded on the claim by the activity its workflow reads them through, and a later change of the
payer's terms moves only the deadlines of claims submitted after it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import cast

from sqlalchemy import Engine
from sqlmodel import Session

from activities.claims import ClaimActivities
from reclaim import payers
from reclaim.clearinghouse import Clearinghouse
from reclaim.config import Settings
from reclaim.models import Claim
from tests.factories import add_claim

SERVICE = date(2026, 10, 1)


def _activities(engine: Engine, tmp_path: Path) -> ClaimActivities:
    settings = Settings(data_dir=tmp_path, database_url=engine.url.render_as_string(False),
                        payload_key="test-payload-key", secret_key="test-secret",
                        payer_follow_up_after=timedelta(days=30))
    return ClaimActivities(engine=engine, settings=settings,
                           clearinghouse=cast(Clearinghouse, object()))


def _claim(engine: Engine) -> int:
    with Session(engine) as s:
        claim = add_claim(s, payer="PLANID12345", service_date=SERVICE, status="coding")
        s.commit()
        assert claim.id is not None
        return claim.id


def test_a_term_change_does_not_move_an_already_submitted_claims_deadlines(
        fresh_engine: Engine, tmp_path: Path) -> None:
    with Session(fresh_engine) as s:
        payers.create_payer(session=s, author="mona", payer=payers.NewPayer(
            payer_id="PLANID12345", name="R&R Health Plan", timely_filing_days=180,
            appeal_windows=[180, 60], corrected_claim_window_days=120, follow_up_days=[21, 45],
            max_attempts=2))
        s.commit()
    acts = _activities(fresh_engine, tmp_path)
    before = _claim(fresh_engine)
    first = acts.load_claim_context(before)
    assert first.timely_filing_deadline == datetime(2026, 10, 1, tzinfo=UTC) + timedelta(days=180)
    assert first.appeal_window == timedelta(days=180)
    assert first.corrected_claim_window == timedelta(days=120)
    assert first.adjudication_deadline == timedelta(days=21)  # the payer's first follow-up
    assert first.max_attempts == 2
    with Session(fresh_engine) as s:
        claim = s.get(Claim, before)
        assert claim is not None
        assert (claim.payer_terms_version, claim.payer_terms["timely_filing_days"]) == (1, 180)  # type: ignore[index]

    with Session(fresh_engine) as s:
        payers.update_payer(session=s, payer_id="PLANID12345", author="mona",
                            change=payers.TermsFields(timely_filing_days=90, appeal_windows=[60],
                                                      corrected_claim_window_days=30,
                                                      follow_up_days=[], max_attempts=3))
        s.commit()

    # The claim submitted before the change (its workflow continued as new, or a retried
    # activity) keeps its deadlines; one submitted after gets the new terms.
    assert acts.load_claim_context(before) == first
    after = acts.load_claim_context(_claim(fresh_engine))
    assert after.timely_filing_deadline == datetime(2026, 10, 1, tzinfo=UTC) + timedelta(days=90)
    assert after.appeal_window == timedelta(days=60)
    assert after.corrected_claim_window == timedelta(days=30)
    assert after.adjudication_deadline == timedelta(days=30)  # no schedule: the setting
    assert after.max_attempts == 3
    with Session(fresh_engine) as s:
        old = s.get(Claim, before)
        assert old is not None
        assert payers.claim_terms(session=s, claim=old).timely_filing_days == 180
        assert payers.terms_for("PLANID12345", session=s).timely_filing_days == 90


def test_a_payer_never_entered_gets_payers_toml_and_keeps_it(fresh_engine: Engine,
                                                             tmp_path: Path) -> None:
    acts = _activities(fresh_engine, tmp_path)
    with Session(fresh_engine) as s:
        claim = add_claim(s, payer="ACMEHEALTH", service_date=SERVICE, status="coding")
        s.commit()
        claim_id = claim.id
    assert claim_id is not None
    context = acts.load_claim_context(claim_id)
    assert context.appeal_window == timedelta(days=180)  # payers.toml [payers.ACMEHEALTH]
    with Session(fresh_engine) as s:
        payers.seed_shipped(session=s)
        payers.update_payer(session=s, payer_id="ACMEHEALTH", author="mona",
                            change=payers.TermsFields(appeal_windows=[30]))
        s.commit()
    assert acts.load_claim_context(claim_id).appeal_window == timedelta(days=180)
    with Session(fresh_engine) as s:
        row = s.get(Claim, claim_id)
        assert row is not None
        assert row.payer_terms_version == 0  # the shipped default, recorded as it was


def test_the_appeal_letter_uses_the_terms_the_claim_was_submitted_under(
        fresh_engine: Engine) -> None:
    from contracts.messages import LetterRequest
    from reclaim.models import WorkItem
    from reclaim.work.items import attach_appeal_letter
    from tests.factories import add_denial, add_item, add_remittance

    with Session(fresh_engine) as s:
        payers.create_payer(session=s, author="mona", payer=payers.NewPayer.model_validate({
            "payer_id": "PLANID12345", "name": "R&R Health Plan", "timely_filing_days": 180,
            "appeal_windows": [45, 60],
            "appeals_address": {"name": "Appeals Unit", "line1": "PO Box 4400",
                                "city": "Las Vegas", "state": "NV", "zip": "89101"}}))
        claim = add_claim(s, payer="PLANID12345", service_date=SERVICE)
        payers.claim_terms(session=s, claim=claim)  # submitted: the terms recorded
        payers.update_payer(session=s, payer_id="PLANID12345", author="mona",
                            change=payers.TermsFields(appeal_windows=[365], appeals_address=None),
                            fields={"appeal_windows", "appeals_address"})
        remittance = add_remittance(s, claim, paid="0")
        remittance.payment_date = date(2026, 11, 1)
        denial = add_denial(s, claim, remittance, created_at=datetime(2026, 11, 2, tzinfo=UTC),
                            carc="50", route="appeal")
        item = add_item(s, claim, queue="appeal")
        s.flush()
        assert claim.id is not None
        assert item.id is not None
        assert denial.id is not None
        attach_appeal_letter(session=s, request=LetterRequest(
            claim_id=claim.id, work_item_id=item.id, denial_ids=[denial.id]))
        s.flush()
        row = s.get(WorkItem, item.id)
        assert row is not None
        html = row.data["letter_html"]
    assert "PO Box 4400" in html
    assert "Las Vegas, NV 89101" in html
    assert "December 16, 2026" in html or "2026-12-16" in html  # 45 days after 2026-11-01
