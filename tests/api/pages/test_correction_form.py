"""The correction form as people use it: the fields the payer named first (with its words),
every other field one click away, a blank required field a finding on that field, a claim
that changed nothing refused, the check the form runs while one types, the diff on the claim."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from api.pages.forms import form_values
from reclaim.models import Claim, Submission
from tests.api.pages.conftest import ROLE_USERS, csrf_of
from tests.factories import add_claim, add_item, add_submission, seed


def _form(client: TestClient, engine: Engine, claim_id: int, **typed: Any) -> dict[str, Any]:
    with Session(engine) as s:
        claim = s.get(Claim, claim_id)
        assert claim is not None
        data: dict[str, Any] = dict(form_values(claim.document))
    data.update({"csrf_token": csrf_of(client), "action": "resubmit"})
    data.update(typed)
    return data


def _rejected_claim(engine: Engine, code: str = "A7:33") -> tuple[int, int]:
    """A claim the 277CA rejected for its member id, with its front-desk item."""
    with Session(engine) as s:
        claim = add_claim(s, status="needs_correction", payer="SANDBOX", last_name="Rivera")
        add_submission(s, claim)
        item = add_item(s, claim, queue="front_desk", kind="correction", due_at=datetime.now(UTC),
                        data={"rejection": {"kind": "277CA", "code": code,
                                            "message": "Subscriber id mismatch"}})
        s.commit()
        return claim.id or 0, item.id or 0


def test_the_front_desk_sees_the_member_id_first_with_the_payers_words(
        page_db: Engine, as_role: Any) -> None:
    claim_id, _ = _rejected_claim(page_db)
    html = as_role("front_desk").get(f"/claims/{claim_id}").text
    first, _, rest = html.partition('<details class="all-fields"')
    assert "A7:33 Subscriber id mismatch" in first
    assert "insurance card" in first  # the map's hint
    assert 'name="patient.member_id"' in first
    # Everything else one click away: providers, codes, lines, dates, place of service.
    for name in ("rendering_provider.npi", "billing_provider.npi", "referring_provider.npi",
                 "prior_authorization", "diagnoses[0]", "lines[0].procedure",
                 "lines[0].modifiers", "lines[0].units", "lines[0].service_date",
                 "service_date", "place_of_service", "payer_id"):
        assert f'name="{name}"' in rest, name
        assert f'name="{name}"' not in first, name


def test_a_blank_required_field_is_a_finding_on_it(page_db: Engine, as_role: Any,
                                                   fake_client: Any) -> None:
    claim_id, item_id = _rejected_claim(page_db)
    client = as_role("front_desk")
    response = client.post(f"/work-items/{item_id}/complete",
                           data=_form(client, page_db, claim_id, **{"patient.member_id": ""}))
    assert response.status_code == 422
    assert fake_client.updates == []  # nothing sent
    assert 'id="err-patient-member_id">Member id is required' in response.text
    assert 'aria-invalid="true"' in response.text


def test_an_unchanged_claim_is_refused_on_the_page(page_db: Engine, as_role: Any,
                                                   fake_client: Any) -> None:
    claim_id, item_id = _rejected_claim(page_db)
    client = as_role("front_desk")
    response = client.post(f"/work-items/{item_id}/complete",
                           data=_form(client, page_db, claim_id, note="called the payer"))
    assert response.status_code == 409
    assert "nothing changed since attempt 1" in response.text
    assert fake_client.updates == []
    assert "called the payer" in response.text  # nothing typed is lost
    # The same claim with the member id corrected goes.
    fixed = client.post(f"/work-items/{item_id}/complete",
                        data=_form(client, page_db, claim_id,
                                   **{"patient.member_id": "W123456789"}))
    assert fixed.status_code == 303, fixed.text
    _, request = fake_client.updates[-1]
    assert request.corrections["patient"]["member_id"] == "W123456789"
    assert set(request.corrections) == {"patient"}


def test_an_unchanged_claim_is_refused_by_the_api(page_db: Engine, as_role: Any,
                                                  fake_client: Any) -> None:
    _, item_id = _rejected_claim(page_db)
    api = as_role("front_desk")
    bearer = {"Authorization": f"Bearer tok-{ROLE_USERS['front_desk']}"}
    for body in ({"action": "resubmit"},
                 {"action": "resubmit", "corrections": {"patient": {"first_name": "Ann"}}},
                 {"action": "resubmit", "corrections": {"lines": [{
                     "procedure": "99214", "modifiers": ["25"], "units": "1",
                     "charge": "150", "diagnosis_pointers": [1, 2]}]}}):
        response = api.post(f"/api/v1/work-items/{item_id}/complete", json=body,
                            headers=bearer)
        assert response.status_code == 409, (body, response.text)
        assert "nothing changed since attempt 1" in response.json()["detail"]["error"]
    assert fake_client.updates == []
    done = api.post(f"/api/v1/work-items/{item_id}/complete",
                    json={"action": "resubmit", "corrections": {"patient": {"member_id": "W1"}}},
                    headers=bearer)
    assert done.status_code == 200, done.text


def test_the_check_while_typing_names_the_field(page_db: Engine, as_role: Any,
                                                fake_client: Any) -> None:
    claim_id, item_id = _rejected_claim(page_db)
    client = as_role("front_desk")
    data = _form(client, page_db, claim_id, **{"patient.member_id": ""})
    data.pop("action")
    blank = client.post(f"/work-items/{item_id}/check", data=data).json()
    assert blank["complete"] is False
    assert blank["findings"][0]["field"] == "patient.member_id"
    same = client.post(f"/work-items/{item_id}/check",
                       data={**data, "patient.member_id": _member(page_db, claim_id)}).json()
    assert same["complete"] is True
    assert [f["rule"] for f in same["findings"]][:1] == ["unchanged"]
    fixed = client.post(f"/work-items/{item_id}/check",
                        data={**data, "patient.member_id": "W987654321"}).json()
    assert "unchanged" not in [f["rule"] for f in fixed["findings"]]
    assert fake_client.updates == []


def _member(engine: Engine, claim_id: int) -> str:
    with Session(engine) as s:
        claim = s.get(Claim, claim_id)
        assert claim is not None
        return str(claim.document["patient"]["member_id"])


def test_a_correction_is_no_duplicate_of_its_own_claim(page_db: Engine, as_role: Any) -> None:
    # The claim was sent (and denied): its correction goes as a replacement, not a duplicate.
    ids = seed(page_db)
    client = as_role("coder")
    response = client.post(f"/work-items/{ids['coder_item']}/complete",
                           data=_form(client, page_db, ids["denied"], action="check",
                                      **{"diagnoses[0]": "E11.65"}))
    assert response.status_code == 200
    assert "already submitted" not in response.text
    bearer = {"Authorization": f"Bearer tok-{ROLE_USERS['coder']}"}
    replacement = client.post(f"/api/v1/scrub?claim_id={ids['denied']}",
                              json=_document(page_db, ids["denied"]), headers=bearer)
    assert replacement.status_code == 200, replacement.text
    assert "duplicate_claim" not in [f["rule"] for f in replacement.json()["errors"]]
    # The same visit as a new claim is a real duplicate.
    dup = client.post("/api/v1/scrub", json=_document(page_db, ids["denied"]),
                      headers=bearer).json()
    assert "duplicate_claim" in [f["rule"] for f in dup["errors"]]


def _document(engine: Engine, claim_id: int) -> dict[str, Any]:
    with Session(engine) as s:
        claim = s.get(Claim, claim_id)
        assert claim is not None
        return dict(claim.document)


def test_the_claim_page_shows_each_correction_as_a_diff(page_db: Engine,
                                                        as_role: Any) -> None:
    claim_id, _ = _rejected_claim(page_db)
    with Session(page_db) as s:
        claim = s.get(Claim, claim_id)
        assert claim is not None
        second = dict(claim.document)
        second["patient"] = {**second["patient"], "member_id": "W555000111"}
        s.add(Submission(claim_id=claim_id, attempt=2, patient_control_number=f"RC{claim_id}-2",
                         x12="ISA*00~", document=second, status="sent"))
        old_member = claim.document["patient"]["member_id"]
        claim.document = {**second, "place_of_service": "22"}
        s.add(claim)
        s.commit()
    html = as_role("front_desk").get(f"/claims/{claim_id}").text
    section = html.partition('id="corrections"')[2].partition("</section>")[0]
    assert "Attempt 2 against attempt 1" in section
    assert old_member in section
    assert "W555000111" in section
    assert "Corrected, not sent yet: against attempt 2" in section
    assert "Place of service" in section
    body = as_role("front_desk").get(f"/api/v1/claims/{claim_id}").json()
    assert body["submissions"][1]["changes"] == [
        {"field": "patient.member_id", "label": "Member id", "before": old_member,
         "after": "W555000111"}]


def test_a_line_field_the_payer_named_comes_first_for_every_line(page_db: Engine,
                                                                   as_role: Any) -> None:
    with Session(page_db) as s:
        claim = add_claim(s, status="needs_correction", last_name="Moss")
        add_submission(s, claim)
        add_item(s, claim, queue="coder", due_at=datetime.now(UTC),
                 data={"denials": [{"group": "CO", "carc": "4", "rarcs": [],
                                    "plain": "The modifier is missing or invalid."}]})
        s.commit()
        claim_id = claim.id
    html = as_role("coder").get(f"/claims/{claim_id}").text
    first, _, rest = html.partition('<details class="all-fields"')
    assert "CO-4: The modifier is missing or invalid." in first
    assert 'name="lines[0].modifiers"' in first
    assert 'name="lines[0].procedure"' in first  # CO-4: the procedure goes with its modifier
    assert 'name="lines[0].modifiers"' not in rest
    assert 'name="lines[0].units"' in rest
    assert 'name="diagnoses[0]"' in rest


def test_a_follow_up_names_nothing_first(page_db: Engine, as_role: Any,
                                         fake_client: Any) -> None:
    with Session(page_db) as s:
        claim = add_claim(s, status="submitted", last_name="Quinn")
        add_submission(s, claim)
        item = add_item(s, claim, queue="front_desk", kind="follow_up", due_at=datetime.now(UTC))
        s.commit()
        claim_id, item_id = claim.id or 0, item.id
    client = as_role("front_desk")
    html = client.get(f"/claims/{claim_id}").text
    assert "Nothing on this claim is named as wrong" in html
    assert '<details class="all-fields" id="all-fields" open>' in html
    # The payer never answered: sending the same claim again is what the item is for.
    sent = client.post(f"/work-items/{item_id}/complete", data=_form(client, page_db, claim_id))
    assert sent.status_code == 303, sent.text
    assert fake_client.updates[-1][1].action == "resubmit"
