"""The payers: `/api/v1/payers` (201, 409, 422 naming the field), every change a new version with
who and when (history in GET, the audit log), the CSV import, the managers' page, payers.toml as
the seed, and the scrubber's edit selection and filing limit read from the payer record."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from reclaim import payers
from reclaim.claims.schemas import ClaimDocument
from reclaim.models import AuditEntry, PayerTermsVersion
from reclaim.scrub.service import scrub_document
from tests.api.pages.conftest import csrf_in_page
from tests.support import claim_doc

EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "examples" / "payers.csv"
MANAGER = {"Authorization": "Bearer tok-mona"}
CODER = {"Authorization": "Bearer tok-cora"}
RR = {"payer_id": "PLANID12345", "name": "R&R Health Plan", "timely_filing_days": 180,
      "claim_types": ["professional"], "corrected_claim_window_days": 120,
      "appeal_windows": [180, 60], "follow_up_days": [30, 45, 60],
      "appeals_address": {"name": "Appeals Unit", "line1": "PO Box 4400", "city": "Las Vegas",
                          "state": "NV", "zip": "89101"},
      "clearinghouse_route": "default"}


@pytest.fixture
def api(app: FastAPI) -> TestClient:
    return TestClient(app)


def test_a_payer_is_added_with_its_terms(api: TestClient) -> None:
    created = api.post("/api/v1/payers", json=RR, headers=MANAGER)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["version"] == 1
    assert body["appeal_windows"] == [180, 60]
    assert body["follow_up_days"] == [30, 45, 60]
    assert body["max_attempts"] == 3  # payers.toml's default for what the record leaves out
    one = api.get("/api/v1/payers/PLANID12345", headers=CODER).json()
    assert one["appeals_address"]["line1"] == "PO Box 4400"
    assert [v["version"] for v in one["history"]] == [1]
    assert one["history"][0]["author"] == "mona"
    listed = api.get("/api/v1/payers", headers=CODER).json()["payers"]
    assert [(p["payer_id"], p["version"]) for p in listed] == [
        ("ACMEHEALTH", 0), ("MCAREDEMO", 0), ("PLANID12345", 1), ("SANDBOX", 0)]
    assert api.get("/api/v1/payers/NOPE", headers=CODER).status_code == 404


def test_a_known_payer_is_409(api: TestClient) -> None:
    assert api.post("/api/v1/payers", json=RR, headers=MANAGER).status_code == 201
    assert api.post("/api/v1/payers", json=RR, headers=MANAGER).status_code == 409
    shipped = {**RR, "payer_id": "ACMEHEALTH"}  # in payers.toml: PATCH it
    assert api.post("/api/v1/payers", json=shipped, headers=MANAGER).status_code == 409


def test_a_shipped_payer_is_version_0_until_its_first_change(api: TestClient) -> None:
    shipped = api.get("/api/v1/payers/ACMEHEALTH", headers=CODER).json()
    assert (shipped["version"], shipped["history"], shipped["appeal_windows"]) == (0, [], [180])
    patched = api.patch("/api/v1/payers/ACMEHEALTH", json={"follow_up_days": [30]},
                        headers=MANAGER).json()
    assert (patched["version"], patched["follow_up_days"]) == (2, [30])
    history = api.get("/api/v1/payers/ACMEHEALTH", headers=CODER).json()["history"]
    assert [(v["version"], v["author"]) for v in history] == [(2, "mona"), (1, "payers.toml")]
    assert history[1]["terms"]["follow_up_days"] == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param({"timely_filing_days": 0}, "timely_filing_days", id="filing limit"),
        pytest.param({"name": None}, "name", id="no name"),
        pytest.param({"appeal_windows": [120, -5]}, "appeal_windows", id="appeal level"),
        pytest.param({"follow_up_days": [60, 30]}, "follow_up_days", id="follow-up order"),
        pytest.param({"edits": ["npi", "no_such_edit"]}, "edits", id="unknown edit"),
        pytest.param({"claim_types": ["dental"]}, "claim_types[0]", id="claim type"),
        pytest.param({"payer_id": "has space"}, "payer_id", id="payer id"),
    ],
)
def test_a_bad_field_is_422_naming_it(api: TestClient, change: dict[str, Any],
                                      field: str) -> None:
    response = api.post("/api/v1/payers", json={**RR, **change}, headers=MANAGER)
    assert response.status_code == 422, response.text
    assert field in {f["field"] for f in response.json()["fields"]}, response.json()


def test_each_patch_is_a_new_version_with_who_and_when(api: TestClient, app: FastAPI) -> None:
    api.post("/api/v1/payers", json=RR, headers=MANAGER)
    patched = api.patch("/api/v1/payers/PLANID12345",
                        json={"timely_filing_days": 90, "note": "new contract"},
                        headers=MANAGER)
    assert patched.status_code == 200, patched.text
    assert (patched.json()["version"], patched.json()["timely_filing_days"]) == (2, 90)
    assert patched.json()["appeal_windows"] == [180, 60]  # what it did not name is kept
    same = api.patch("/api/v1/payers/PLANID12345", json={"timely_filing_days": 90},
                     headers=MANAGER)
    assert same.json()["version"] == 2  # nothing changed: no new version
    cleared = api.patch("/api/v1/payers/PLANID12345", json={"follow_up_days": None},
                        headers={"Authorization": "Bearer tok-ada"})
    assert cleared.json()["follow_up_days"] == []
    history = api.get("/api/v1/payers/PLANID12345", headers=CODER).json()["history"]
    assert [(v["version"], v["author"]) for v in history] == [(3, "ada"), (2, "mona"),
                                                              (1, "mona")]
    assert history[1]["note"] == "new contract"
    assert history[1]["terms"]["timely_filing_days"] == 90
    assert history[2]["terms"]["timely_filing_days"] == 180
    assert all(v["created_at"] for v in history)
    refused = api.patch("/api/v1/payers/PLANID12345", json={"name": None}, headers=MANAGER)
    assert refused.status_code == 422
    assert refused.json()["detail"].startswith("name:")
    assert api.patch("/api/v1/payers/NOPE", json={"name": "X"},
                     headers=MANAGER).status_code == 404
    with Session(app.state.engine) as s:
        audit = [(a.action, a.username) for a in s.exec(select(AuditEntry)).all()]
    assert audit == [("add_payer", "mona"), ("change_payer", "mona"), ("change_payer", "ada")]


def test_writes_are_for_managers_and_admins(api: TestClient) -> None:
    for who in ("cora", "fran", "bill"):
        headers = {"Authorization": f"Bearer tok-{who}"}
        assert api.post("/api/v1/payers", json=RR, headers=headers).status_code == 403
        assert api.patch("/api/v1/payers/PLANID12345", json={},
                         headers=headers).status_code == 403
        assert api.post("/api/v1/payers/import", content="payer_id\n",
                        headers=headers).status_code == 403


# ---------------------------------------------------------------- the seed and the scrubber


def test_payers_toml_seeds_the_table_and_is_the_default_until_then(app: FastAPI) -> None:
    with Session(app.state.engine) as s:
        assert payers.terms_for("ACMEHEALTH", session=s).version == 0  # the shipped default
        assert payers.seed_shipped(session=s) == ["ACMEHEALTH", "MCAREDEMO", "SANDBOX"]
        assert payers.seed_shipped(session=s) == []
        acme = payers.terms_for("ACMEHEALTH", session=s)
        assert (acme.version, acme.timely_filing_days, acme.appeal_windows,
                acme.max_attempts) == (1, 90, [180], 2)
        assert payers.history(session=s, payer_id="ACMEHEALTH")[0].author == "payers.toml"


def test_the_scrubber_reads_the_filing_limit_and_edit_selection_from_the_record(
        app: FastAPI) -> None:
    doc = ClaimDocument.model_validate(claim_doc(payer_id="PLANID12345",
                                                 service_date="2026-01-05"))
    today = date(2026, 3, 6)  # 60 days after the service
    with Session(app.state.engine) as s:
        def rules_found() -> set[str]:
            outcome = scrub_document(session=s, document=doc, today=today)
            return {f.rule for f in outcome.errors + outcome.warnings}

        assert "timely_filing" not in rules_found()  # payers.toml's [default]: 90 days
        payers.create_payer(session=s, payer=payers.NewPayer.model_validate(
            {**RR, "timely_filing_days": 50}), author="mona")
        outcome = scrub_document(session=s, document=doc, today=today)
        assert [f.rule for f in outcome.errors] == ["timely_filing"]
        assert "R&R Health Plan accepts claims up to 50 days" in outcome.errors[0].message
        payers.update_payer(session=s, payer_id="PLANID12345", author="mona",
                            change=payers.TermsFields(edits=["npi", "member_id"]))
        assert "timely_filing" not in rules_found()  # not among the edits the payer runs
        doc_bad = doc.model_copy(update={"billing_provider": doc.billing_provider.model_copy(
            update={"npi": "1234567890"})})
        outcome = scrub_document(session=s, document=doc_bad, today=today)
        assert [f.rule for f in outcome.errors] == ["npi"]


# ---------------------------------------------------------------- CSV


def test_the_example_csv_imports_and_a_second_import_changes_nothing(app: FastAPI) -> None:
    text = EXAMPLE.read_text()
    with Session(app.state.engine) as s:
        payers.seed_shipped(session=s)
        first = payers.import_csv(session=s, text=text, author="cli")
        assert first.errors == []
        assert first.created == ["PLANID12345", "999996666"]
        assert first.updated == ["ACMEHEALTH"]  # payers.toml's version 1, then the file's
        again = payers.import_csv(session=s, text=text, author="cli")
        assert (again.created, again.updated, again.errors) == ([], [], [])
        assert len(s.exec(select(PayerTermsVersion)).all()) == 3 + 2 + 1
        key = payers.terms_for("999996666", session=s)
        assert key.claim_types == ["professional", "institutional"]
        assert key.appeal_windows == [120, 180, 60]
        assert key.follow_up_days == [45]
        assert key.appeals_address is not None
        assert key.appeals_address.city == "Miami"
        acme = payers.history(session=s, payer_id="ACMEHEALTH")[0]
        assert (acme.version, acme.author, acme.note) == (2, "cli",
                                                          "contract 2026: 90-day filing")


BAD = """payer_id,name,timely_filing_days,appeal_windows,follow_up_days,edits,appeals_line1
GOOD1,Good Payer,120,120;60,30,,
NONAME,,30,,,,
WORDS,Words,ninety,,,,
LEVELS,Levels,30,120;0,,,
ORDER,Order,30,,60;30,,
EDITS,Edits,30,,,npi;nope,
HALFADDR,Half,30,,,,PO Box 1
,Nobody,30,,,,
"""


def test_bad_rows_are_reported_by_row_and_column_and_the_good_ones_go_in(app: FastAPI) -> None:
    with Session(app.state.engine) as s:
        report = payers.import_csv(session=s, text=BAD, author="cli")
    assert report.created == ["GOOD1"]
    assert [(e.row, e.column) for e in report.errors] == [
        (3, "name"), (4, "timely_filing_days"), (5, "appeal_windows"), (6, "follow_up_days"),
        (7, "edits"), (8, "appeals_city"), (8, "appeals_state"), (8, "appeals_zip"),
        (9, "payer_id")]
    assert "nope" in report.errors[4].message


# ---------------------------------------------------------------- the page


def test_the_page_lists_adds_and_edits_with_history(as_role: Any) -> None:
    mona = as_role("manager")
    page = mona.get("/admin/payers")
    assert page.status_code == 200
    csrf = csrf_in_page(page.text)
    form = {"csrf_token": csrf, "payer_id": "PLANID12345", "name": "R&R Health Plan",
            "claim_types": ["professional"], "timely_filing_days": "180",
            "corrected_claim_window_days": "120", "appeal_windows": "180; 60",
            "follow_up_days": "30; 45", "max_attempts": "3", "note": "onboarding"}
    added = mona.post("/admin/payers", data=form)
    assert added.status_code == 303, added.text
    assert "R&amp;R Health Plan" in mona.get("/admin/payers").text
    edit = mona.get("/admin/payers/PLANID12345")
    assert edit.status_code == 200
    assert 'value="180; 60"' in edit.text
    saved = mona.post("/admin/payers/PLANID12345",
                      data={**form, "timely_filing_days": "95", "note": "amendment 2"})
    assert saved.status_code == 303
    assert saved.headers["location"] == "/admin/payers/PLANID12345?saved=2"
    history = mona.get("/admin/payers/PLANID12345").text
    assert "amendment 2" in history
    assert "onboarding" in history
    bad = mona.post("/admin/payers/PLANID12345", data={**form, "appeal_windows": "x"})
    assert bad.status_code == 422
    assert "appeal_windows" in bad.text
    twice = mona.post("/admin/payers", data=form)
    assert twice.status_code == 409
    assert mona.get("/admin/payers/NOPE").status_code == 404


def test_the_page_needs_csrf_and_a_manager(as_role: Any) -> None:
    assert as_role("manager").post("/admin/payers", data={"payer_id": "X"}).status_code == 403
    assert as_role("biller").get("/admin/payers").status_code == 403
