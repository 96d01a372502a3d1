"""The provider directory: `/api/v1/providers` (201, 409, 422 naming the field, the NPI's Luhn
check), the CSV import (good file, bad rows by row and column, a re-import changing nothing), the
managers' page (render, add, edit, CSRF) and who may write."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from reclaim import providers
from reclaim.models import AuditEntry, DirectoryProvider
from tests.api.pages.conftest import csrf_in_page

EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "examples" / "providers.csv"
MANAGER = {"Authorization": "Bearer tok-mona"}
CODER = {"Authorization": "Bearer tok-cora"}
GROUP = {"npi": "1234567893", "name": "Associates in Medicine", "tax_id": "587654321",
         "taxonomy": "207Q00000X",
         "address": {"line1": "1313 Las Vegas Boulevard", "city": "Las Vegas", "state": "NV",
                     "zip": "89109"}}
HENDRIX = {"npi": "1122333341", "first_name": "Jim", "last_name": "Hendrix",
           "taxonomy": "208D00000X", "billing_npi": "1234567893"}


@pytest.fixture
def api(app: FastAPI) -> TestClient:
    return TestClient(app)


def _post(api: TestClient, body: dict[str, Any], headers: dict[str, str] = MANAGER) -> Any:
    return api.post("/api/v1/providers", json=body, headers=headers)


def test_a_billing_provider_then_a_rendering_provider_under_it(api: TestClient) -> None:
    created = _post(api, GROUP)
    assert created.status_code == 201, created.text
    assert created.json()["role"] == "billing"
    rendering = _post(api, HENDRIX)
    assert rendering.status_code == 201, rendering.text
    assert rendering.json() | {"role": "rendering", "billing_npi": "1234567893"} == \
        rendering.json()
    listed = api.get("/api/v1/providers", headers=CODER).json()["providers"]
    assert [p["npi"] for p in listed] == ["1234567893", "1122333341"]
    one = api.get("/api/v1/providers/1122333341", headers=CODER)
    assert one.status_code == 200
    assert one.json()["last_name"] == "Hendrix"
    assert api.get("/api/v1/providers/1912301953", headers=CODER).status_code == 404


def test_a_known_npi_is_409(api: TestClient) -> None:
    assert _post(api, GROUP).status_code == 201
    again = _post(api, {**GROUP, "name": "Another name"})
    assert again.status_code == 409
    assert "1234567893" in again.json()["detail"]


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        pytest.param({"npi": "1234567890"}, "npi", "check digit", id="bad Luhn digit"),
        pytest.param({"npi": "123456789"}, "npi", "10 digits", id="nine digits"),
        pytest.param({"npi": "3234567893"}, "npi", "start with 1 or 2", id="first digit"),
        pytest.param({"taxonomy": "207Q"}, "taxonomy", "NUCC", id="taxonomy"),
        pytest.param({"tax_id": "12-34"}, "tax_id", "9 digits", id="tax id"),
        pytest.param({"billing_npi": "1234567890"}, "billing_npi", "check digit",
                     id="billing NPI Luhn"),
        pytest.param({"address": {"line1": "1 Main", "city": "X", "state": "N", "zip": "1"}},
                     "address.state", "at least 2", id="address"),
    ],
)
def test_a_bad_field_is_422_naming_it(api: TestClient, change: dict[str, Any], field: str,
                                      words: str) -> None:
    response = _post(api, {**GROUP, **change})
    assert response.status_code == 422, response.text
    fields = {f["field"]: f["message"] for f in response.json()["fields"]}
    assert field in fields, fields
    assert words in fields[field]


def test_no_name_and_an_unknown_billing_npi_are_422(api: TestClient) -> None:
    nameless = _post(api, {"npi": "1122333341", "first_name": "Jim"})
    assert nameless.status_code == 422
    assert "name" in nameless.json()["detail"]
    orphan = _post(api, HENDRIX)  # its billing provider is not on file
    assert orphan.status_code == 422
    assert orphan.json()["detail"].startswith("billing_npi: NPI 1234567893 is not in the directory")
    backwards = {**GROUP, "active_from": "2026-02-01", "active_to": "2026-01-01"}
    assert _post(api, backwards).json()["detail"].startswith("active_to:")


def test_patch_changes_only_what_it_names_and_is_audited(api: TestClient, app: FastAPI) -> None:
    _post(api, GROUP)
    _post(api, HENDRIX)
    patched = api.patch("/api/v1/providers/1122333341", json={"active_to": "2026-06-30"},
                        headers=MANAGER)
    assert patched.status_code == 200, patched.text
    assert patched.json()["active_to"] == "2026-06-30"
    assert patched.json()["taxonomy"] == "208D00000X"
    bad = api.patch("/api/v1/providers/1122333341", json={"billing_npi": "1122333341"},
                    headers=MANAGER)
    assert bad.status_code == 422
    assert bad.json()["detail"].startswith("billing_npi:")
    assert api.patch("/api/v1/providers/1912301953", json={"name": "X"},
                     headers=MANAGER).status_code == 404
    with Session(app.state.engine) as s:
        actions = [a.action for a in s.exec(select(AuditEntry)).all()]
    assert actions == ["add_provider", "add_provider", "change_provider"]


def test_writes_are_for_managers_and_admins(api: TestClient) -> None:
    for who in ("cora", "fran", "bill"):
        assert _post(api, GROUP, {"Authorization": f"Bearer tok-{who}"}).status_code == 403
        assert api.patch("/api/v1/providers/1234567893", json={},
                         headers={"Authorization": f"Bearer tok-{who}"}).status_code == 403
    assert _post(api, GROUP, {"Authorization": "Bearer tok-ada"}).status_code == 201
    assert api.get("/api/v1/providers").status_code == 401


# ---------------------------------------------------------------- CSV


def test_the_example_csv_imports_and_a_second_import_changes_nothing(api: TestClient,
                                                                     app: FastAPI) -> None:
    text = EXAMPLE.read_text()
    first = api.post("/api/v1/providers/import", content=text, headers=MANAGER).json()
    assert first["errors"] == []
    assert sorted(first["created"]) == sorted(line.split(",")[0]
                                              for line in text.splitlines()[1:])
    again = api.post("/api/v1/providers/import", content=text, headers=MANAGER).json()
    assert (again["created"], again["updated"], again["errors"]) == ([], [], [])
    assert len(again["unchanged"]) == len(first["created"])
    with Session(app.state.engine) as s:
        rows = {r.npi: r for r in s.exec(select(DirectoryProvider)).all()}
    assert len(rows) == len(first["created"])
    # A rendering provider listed before its billing provider still goes in.
    assert rows["1582037465"].billing_npi == "1912301953"
    assert rows["1234567893"].tax_id == "587654321"  # "58-7654321" in the file
    assert rows["1234567893"].address == {"line1": "1313 Las Vegas Boulevard", "line2": None,
                                          "city": "Las Vegas", "state": "NV", "zip": "89109"}


def test_a_re_import_updates_the_row_it_changes(app: FastAPI) -> None:
    with Session(app.state.engine) as s:
        providers.import_csv(session=s, text=EXAMPLE.read_text())
        changed = EXAMPLE.read_text().replace("Jim,Hendrix,208D00000X",
                                              "James,Hendrix,208D00000X")
        report = providers.import_csv(session=s, text=changed)
        assert report.updated == ["1122333341"]
        assert s.get(DirectoryProvider, "1122333341").first_name == "James"  # type: ignore[union-attr]
        assert len(s.exec(select(DirectoryProvider)).all()) == 5


BAD_ROWS = """npi,name,first_name,last_name,taxonomy,tax_id,address_line1,city,state,zip,billing_npi
1234567893,Associates in Medicine,,,207Q00000X,587654321,1 Main St,Las Vegas,NV,89109,
1234567890,Typo Clinic,,,,,,,,,
1122333341,,Jim,,,,,,,,1234567893
1765432103,,Dana,Whitfield,207Q,,,,,,1234567893
1912301953,Ben Kildare Service,,,,5876543,,,,,
1582037465,,Maya,Ortiz,,,,,,,1345678910
1345678910,Lakeside Clinic,,,,,9 Elm,Reno,N,89501,
,Nobody,,,,,,,,,
"""


def test_bad_rows_are_reported_by_row_and_column_and_the_good_ones_go_in(app: FastAPI) -> None:
    with Session(app.state.engine) as s:
        report = providers.import_csv(session=s, text=BAD_ROWS)
        assert report.created == ["1234567893"]
        assert [(e.row, e.column) for e in report.errors] == [
            (3, "npi"), (4, "name"), (5, "taxonomy"), (6, "tax_id"), (7, "billing_npi"),
            (8, "state"), (9, "npi")]
        assert "check digit" in str(report.errors[0])
        assert str(report.errors[0]).startswith("row 3, column npi: NPI 1234567890")


def test_a_row_with_too_many_cells_is_refused_and_the_rest_read(app: FastAPI) -> None:
    text = "npi,name\n1234567893,Clinic,extra\n1912301953,Ben Kildare Service\n"
    with Session(app.state.engine) as s:
        report = providers.import_csv(session=s, text=text)
    assert [(e.row, e.column) for e in report.errors] == [(2, "(row)")]
    assert report.created == ["1912301953"]


def test_a_csv_with_an_unknown_column_is_refused_at_its_header(app: FastAPI) -> None:
    with Session(app.state.engine) as s:
        report = providers.import_csv(session=s, text="npi,nmae\n1234567893,X\n")
    assert [(e.row, e.column) for e in report.errors] == [(1, "nmae")]
    assert report.created == []


# ---------------------------------------------------------------- the page


def test_the_page_lists_adds_and_edits(as_role: Any) -> None:
    mona = as_role("manager")
    page = mona.get("/admin/providers")
    assert page.status_code == 200
    assert "No providers yet." in page.text
    csrf = csrf_in_page(page.text)
    form = {"csrf_token": csrf, "npi": "1234567893", "name": "Associates in Medicine",
            "tax_id": "587654321", "address_line1": "1313 Las Vegas Boulevard",
            "city": "Las Vegas", "state": "NV", "zip": "89109"}
    added = mona.post("/admin/providers", data=form)
    assert added.status_code == 303
    assert added.headers["location"] == "/admin/providers?saved=1234567893"
    person = {"csrf_token": csrf, "npi": "1122333341", "first_name": "Jim",
              "last_name": "Hendrix", "billing_npi": "1234567893"}
    assert mona.post("/admin/providers", data=person).status_code == 303
    listed = mona.get("/admin/providers").text
    assert "Associates in Medicine" in listed
    assert "Hendrix, Jim" in listed
    edit = mona.get("/admin/providers/1122333341")
    assert edit.status_code == 200
    assert 'value="Hendrix"' in edit.text
    saved = mona.post("/admin/providers/1122333341",
                      data={**person, "first_name": "James", "active_to": "2026-12-31"})
    assert saved.status_code == 303
    assert "Hendrix, James" in mona.get("/admin/providers").text
    assert mona.get("/admin/providers/1912301953").status_code == 404


def test_the_page_names_what_is_wrong(as_role: Any) -> None:
    mona = as_role("manager")
    csrf = csrf_in_page(mona.get("/admin/providers").text)
    bad = mona.post("/admin/providers", data={"csrf_token": csrf, "npi": "1234567890",
                                              "name": "Typo Clinic"})
    assert bad.status_code == 422
    assert "npi: NPI 1234567890 fails its check digit" in bad.text
    assert 'value="Typo Clinic"' in bad.text  # what was typed is kept
    mona.post("/admin/providers", data={"csrf_token": csrf, "npi": "1234567893", "name": "A"})
    twice = mona.post("/admin/providers", data={"csrf_token": csrf, "npi": "1234567893",
                                                "name": "A"})
    assert twice.status_code == 409
    edit = mona.post("/admin/providers/1234567893", data={"csrf_token": csrf, "name": "",
                                                          "first_name": "Solo"})
    assert edit.status_code == 422
    assert "name:" in edit.text


def test_the_page_needs_csrf_and_a_manager(as_role: Any) -> None:
    mona = as_role("manager")
    assert mona.post("/admin/providers", data={"npi": "1234567893",
                                               "name": "A"}).status_code == 403
    cora = as_role("coder")
    assert cora.get("/admin/providers").status_code == 403
    assert "/admin/providers" in mona.get("/admin/routing").text  # in the managers' menu
