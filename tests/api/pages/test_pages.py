"""The pages: login, CSRF, roles, each page with data, and a constant number of queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from reclaim.denials.store import RoutingVersion, current_table, current_toml
from reclaim.models import AuditEntry, Claim, WorkItem
from tests.api.pages.conftest import PASSWORD, QueryCounter, csrf_in_page, csrf_of, login
from tests.factories import (
    add_claim,
    add_denial,
    add_item,
    add_remittance,
    seed,
)

NOW = datetime.now(UTC)


# ---------------------------------------------------------------- login


def test_login_page_has_labelled_fields(anon: TestClient) -> None:
    html = anon.get("/login").text
    assert '<label for="username">' in html
    assert '<label for="password">' in html


def test_login_sets_a_safe_session_cookie(anon: TestClient) -> None:
    response = anon.post("/login", data={"username": "cora", "password": PASSWORD,
                                         "next": "/claims?status=denied"})
    assert response.status_code == 303
    assert response.headers["location"] == "/claims?status=denied"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie


def test_session_cookie_is_secure_over_https(app: FastAPI) -> None:
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        response = client.post("/login", data={"username": "cora", "password": PASSWORD})
    assert "secure" in response.headers["set-cookie"].lower()


@pytest.mark.parametrize("password", ["wrong-password", ""])
def test_wrong_password_is_refused(anon: TestClient, password: str) -> None:
    response = anon.post("/login", data={"username": "cora", "password": password})
    assert response.status_code == 401
    assert "Wrong username or password" in response.text


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example", "/\\evil"])
def test_login_never_redirects_off_site(anon: TestClient, target: str) -> None:
    response = anon.post("/login", data={"username": "cora", "password": PASSWORD,
                                         "next": target})
    assert response.headers["location"] == "/"


def test_login_from_a_foreign_origin_is_refused(anon: TestClient) -> None:
    response = anon.post("/login", data={"username": "cora", "password": PASSWORD},
                         headers={"Origin": "https://evil.example"})
    assert response.status_code == 403


@pytest.mark.parametrize(
    "path",
    ["/", "/work", "/claims", "/claims/1", "/mail", "/admin/routing", "/admin/audit",
     "/admin/users", "/partials/work", "/work-items/1/letter", "/files",
     "/claims/1/submissions/1/form"],
)
def test_every_page_needs_login(anon: TestClient, path: str) -> None:
    response = anon.get(path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


def test_htmx_fragment_without_session_redirects_the_page(anon: TestClient) -> None:
    response = anon.get("/partials/work", headers={"HX-Request": "true"})
    assert response.headers["hx-redirect"].startswith("/login?next=")


def test_healthz_and_login_are_public(anon: TestClient) -> None:
    assert anon.get("/healthz").status_code == 200
    assert anon.get("/login").status_code == 200
    assert anon.get("/static/htmx.min.js").status_code == 200


def test_logout_needs_csrf_and_ends_the_session(anon: TestClient) -> None:
    client = anon
    login(client, "cora")
    assert client.post("/logout").status_code == 403
    response = client.post("/logout", data={"csrf_token": csrf_of(client)})
    assert response.status_code == 303
    assert client.get("/work").status_code == 303


# ---------------------------------------------------------------- CSRF and roles


def test_form_posts_need_the_csrf_token(page_db: Engine, as_role: Any) -> None:
    ids = seed(page_db)
    client = as_role("coder")
    item = ids["coder_item"]
    assert client.post(f"/work-items/{item}/take").status_code == 403
    assert client.post(f"/work-items/{item}/take",
                       data={"csrf_token": "forged"}).status_code == 403
    ok = client.post(f"/work-items/{item}/take", data={"csrf_token": csrf_of(client)})
    assert ok.status_code == 303
    by_header = client.post(f"/work-items/{item}/take",
                            headers={"X-CSRF-Token": csrf_of(client), "HX-Request": "true"})
    assert by_header.status_code == 200
    assert 'id="work-table"' in by_header.text


def test_the_page_carries_the_token_of_its_session(page_db: Engine, as_role: Any) -> None:
    seed(page_db)
    client = as_role("coder")
    assert csrf_in_page(client.get("/work").text) == csrf_of(client)


@pytest.mark.parametrize(
    ("role", "path", "expected"),
    [
        ("coder", "/", 303),  # coders land on their queue
        ("coder", "/admin/routing", 403),
        ("coder", "/admin/audit", 403),
        ("coder", "/admin/users", 403),
        ("front_desk", "/admin/routing", 403),
        ("biller", "/admin/routing", 403),
        ("manager", "/admin/users", 403),
        ("manager", "/", 200),
        ("manager", "/admin/routing", 200),
        ("manager", "/admin/audit", 200),
        ("admin", "/admin/users", 200),
        ("admin", "/", 200),
        ("coder", "/partials/dashboard", 403),
        ("front_desk", "/files", 403),
        ("coder", "/files", 200),
        ("biller", "/files", 200),
        ("manager", "/files", 200),
    ],
)
def test_page_roles(as_role: Any, role: str, path: str, expected: int) -> None:
    assert as_role(role).get(path).status_code == expected


def test_only_managers_reassign(page_db: Engine, as_role: Any) -> None:
    ids = seed(page_db)
    coder = as_role("coder")
    refused = coder.post(f"/work-items/{ids['coder_item']}/assign",
                         data={"csrf_token": csrf_of(coder), "username": "cora"})
    assert refused.status_code == 403
    manager = as_role("manager")
    ok = manager.post(f"/work-items/{ids['coder_item']}/assign",
                      data={"csrf_token": csrf_of(manager), "username": "", "next": "/work"})
    assert ok.status_code == 303
    wrong_queue = manager.post(f"/work-items/{ids['coder_item']}/assign",
                               data={"csrf_token": csrf_of(manager), "username": "fran"})
    assert wrong_queue.status_code == 422
    with Session(page_db) as s:
        item = s.get(WorkItem, ids["coder_item"])
        assert item is not None
        assert item.assignee is None


def test_a_coder_cannot_take_front_desk_work(page_db: Engine, as_role: Any) -> None:
    with Session(page_db) as s:
        item = add_item(s, add_claim(s), queue="front_desk")
        s.commit()
        item_id = item.id
    coder = as_role("coder")
    response = coder.post(f"/work-items/{item_id}/take", data={"csrf_token": csrf_of(coder)})
    assert response.status_code == 403


# ---------------------------------------------------------------- pages with data


def test_work_page(page_db: Engine, as_role: Any) -> None:
    ids = seed(page_db)
    html = as_role("coder").get("/work").text
    assert f'href="/claims/{ids["denied"]}#correction"' in html
    # The denial in plain words from its codes (the code has its own column), never "absorbed".
    assert "claim lacks information or has a billing error — fix and resend" in html
    assert "<code>CO-16/\u200bN290</code>" in html  # may wrap after the slash
    assert 'class="overdue' in html  # due two hours ago
    assert "<time datetime=" in html
    assert 'hx-trigger="every 5s"' in html
    assert "Assign item" not in html  # coders take, managers assign


def test_work_page_for_managers_shows_every_queue(page_db: Engine, as_role: Any) -> None:
    ids = seed(page_db)
    html = as_role("manager").get("/work").text
    assert f'id="item-{ids["appeal_item"]}"' in html
    assert f'id="item-{ids["coder_item"]}"' in html
    assert "Assign item" in html
    only_appeal = as_role("manager").get("/work?queue=appeal").text
    assert f'id="item-{ids["coder_item"]}"' not in only_appeal


def test_claims_page_filters_and_formats(page_db: Engine, as_role: Any) -> None:
    ids = seed(page_db)
    client = as_role("coder")
    html = client.get("/claims?payer=ACME&status=needs_correction").text
    assert '<span id="claims-total">1</span>' in html
    assert f'href="/claims/{ids["denied"]}"' in html
    assert "$1,234.50" in html
    assert '<span id="claims-total">0</span>' in client.get("/claims?min_amount=5000").text
    assert '<span id="claims-total">1</span>' in client.get("/claims?q=okafor").text
    assert client.get("/claims?cohort=bogus").status_code == 422


def test_claims_page_paginates(page_db: Engine, as_role: Any) -> None:
    seed(page_db, claims=60)
    client = as_role("coder")
    first = client.get("/claims").text
    assert 'rel="next"' in first
    assert "page 1 of 2" in first
    second = client.get("/claims?page=2").text
    assert 'rel="prev"' in second


def test_claim_page_shows_everything(page_db: Engine, as_role: Any) -> None:
    ids = seed(page_db)
    client = as_role("coder")
    html = client.get(f"/claims/{ids['denied']}").text
    assert "Type 2 diabetes mellitus without complications" in html  # E11.9's description
    assert "CO-16" in html
    assert "N290" in html
    assert "(fix and resend: the payer pays once the claim is corrected)" in html  # plain words
    assert "absorbs" not in html  # a fixable CO-16 is not "contractual: absorbed"
    assert "E11 is not billable" in html  # scrub finding
    assert 'id="correction-form"' in html
    assert 'name="diagnoses[0]"' in html
    assert 'data-field="lines[0].modifiers"' in html
    # CO-16/N290 names the rendering provider: its fields come first, every other is one click
    # away (a <details> that holds the patient, the payer, the lines ...).
    first, _, rest = html.partition('<details class="all-fields"')
    assert 'name="rendering_provider.npi"' in first
    assert 'name="patient.member_id"' not in first
    for name in ("patient.member_id", "payer_id", "billing_provider.npi",
                 "referring_provider.npi", "prior_authorization", "lines[0].units",
                 "place_of_service", "service_date"):
        assert f'name="{name}"' in rest, name
    assert "ISA*00~" in html  # the 837 as sent
    assert "Printable CMS-1500" in html
    assert "Denied by ACME: CO-16" in html  # timeline
    with Session(page_db) as s:
        viewed = s.exec(select(AuditEntry).where(AuditEntry.claim_id == ids["denied"],
                                                 AuditEntry.action == "view")).all()
    assert [v.username for v in viewed] == ["cora"]


def test_claim_page_form_only_for_who_works_the_item(page_db: Engine, as_role: Any) -> None:
    ids = seed(page_db)
    html = as_role("front_desk").get(f"/claims/{ids['denied']}").text
    assert 'id="correction-form"' not in html
    biller = as_role("biller").get(f"/claims/{ids['appealed']}").text
    assert "Appeal sent" in biller
    assert "/letter" in biller


def test_claim_partial_polls(page_db: Engine, as_role: Any) -> None:
    ids = seed(page_db)
    html = as_role("coder").get(f"/partials/claims/{ids['denied']}").text
    assert html.lstrip().startswith('<div id="claim-live"')
    assert "<html" not in html


def test_missing_claim_is_a_404_page(as_role: Any) -> None:
    response = as_role("coder").get("/claims/999999", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert "claim 999999 not found" in response.text
    assert "<html" in response.text


def test_printable_forms(page_db: Engine, as_role: Any) -> None:
    ids = seed(page_db)
    client = as_role("coder")
    cms = client.get(f"/claims/{ids['denied']}/submissions/1/form").text
    assert "CMS-1500" in cms
    assert "E119" in cms
    assert "$1,234.50" not in cms
    assert "RC" in cms
    assert "1234567893" in cms
    ub = client.get(f"/claims/{ids['ub']}/submissions/1/form").text
    assert "UB-04" in ub
    assert "0131" in ub
    assert "0450" in ub
    assert client.get(f"/claims/{ids['ub']}/submissions/9/form").status_code == 404


def test_appeal_letter(page_db: Engine, as_role: Any) -> None:
    ids = seed(page_db)
    client = as_role("biller")
    response = client.get(f"/work-items/{ids['appeal_item']}/letter")
    assert response.status_code == 200
    assert "Dear payer" in response.text
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert client.get(f"/work-items/{ids['coder_item']}/letter").status_code == 404


def test_mail_page_only_in_embedded_mode(page_db: Engine, as_role: Any, app: FastAPI) -> None:
    seed(page_db)
    client = as_role("coder")
    assert "New work: claim" in client.get("/mail").text
    app.state.settings = app.state.settings.model_copy(update={"smtp_host": "mail.example"})
    assert client.get("/mail").status_code == 404
    assert 'href="/mail"' not in client.get("/work").text


def test_dashboard_numbers_link_to_their_claims(page_db: Engine, as_role: Any) -> None:
    seed(page_db)
    client = as_role("manager")
    html = client.get("/").text
    assert 'data-kpi="initial-denial-rate">' in html
    assert "<svg" in html
    assert "Pareto" in html
    assert 'href="/claims?cohort=denied_first_pass"' in html
    assert client.get("/claims?cohort=denied_first_pass").status_code == 200
    partial = client.get("/partials/dashboard?payer=ACME").text
    assert partial.lstrip().startswith('<div id="dashboard"')
    assert 'href="/claims?payer=ACME&amp;cohort=denied_first_pass"' in partial


def test_metrics_api_matches_the_dashboard(page_db: Engine, as_role: Any) -> None:
    seed(page_db)
    manager = as_role("manager")
    body = manager.get("/api/v1/metrics").json()
    assert body["initial_denial_rate"]["numerator"] == "2"
    assert body["date_basis"] == "service_date"
    html = manager.get("/").text
    rate = body["initial_denial_rate"]["rate"]
    assert f'data-kpi="initial-denial-rate">{rate * 100:.1f}%' in html
    assert manager.get("/api/v1/metrics?payer=ACME&from=2026-01-01&to=2025-01-01").status_code \
        == 422
    assert as_role("coder").get("/api/v1/metrics").status_code == 403


def test_audit_page(page_db: Engine, as_role: Any) -> None:
    ids = seed(page_db)
    as_role("coder").get(f"/claims/{ids['denied']}")
    html = as_role("manager").get(f"/admin/audit?claim_id={ids['denied']}").text
    assert "cora" in html
    assert "view" in html


# ---------------------------------------------------------------- completing work


def _correction_form(client: TestClient, engine: Engine, claim_id: int,
                     **changes: Any) -> dict[str, Any]:
    """The correction form as the page fills it from the claim, with `changes` typed in."""
    from api.pages.forms import form_values

    with Session(engine) as s:
        claim = s.get(Claim, claim_id)
        assert claim is not None
        data: dict[str, Any] = dict(form_values(claim.document))
    data.update({"csrf_token": csrf_of(client), "action": "resubmit"})
    data.update(changes)
    return data


def test_completing_a_correction(page_db: Engine, as_role: Any, fake_client: Any) -> None:
    ids = seed(page_db)
    client = as_role("coder")
    response = client.post(f"/work-items/{ids['coder_item']}/complete",
                           data=_correction_form(client, page_db, ids["denied"],
                                                 note="coded the hyperglycemia",
                                                 **{"diagnoses[0]": "E11.65"}))
    assert response.status_code == 303
    assert response.headers["location"] == f"/claims/{ids['denied']}?completed=resubmit"
    workflow_id, request = fake_client.updates[-1]
    assert workflow_id == f"work-item-{ids['coder_item']}"
    assert request.action == "resubmit"
    assert request.user == "cora"
    assert request.corrections == {"diagnoses": ["E11.65", "I10"]}  # only what changed
    assert "goes on" in client.get(response.headers["location"]).text


def test_a_refused_correction_shows_the_findings_inline(page_db: Engine, as_role: Any,
                                                        fake_client: Any) -> None:
    ids = seed(page_db)
    fake_client.refuse_with = [{"rule": "ncci.ptp", "severity": "error",
                                "field": "lines[0].modifiers", "message": "needs modifier 59"}]
    client = as_role("coder")
    response = client.post(f"/work-items/{ids['coder_item']}/complete",
                           data=_correction_form(client, page_db, ids["denied"],
                                                 **{"lines[0].modifiers": "XX"}))
    assert response.status_code == 409
    assert "still fails the scrubber" in response.text
    assert '<span class="field-error" id="err-lines-0-modifiers">needs modifier 59</span>' in \
        response.text
    assert 'value="XX"' in response.text  # what the coder typed is kept


def test_an_incomplete_correction_names_the_field(page_db: Engine, as_role: Any,
                                                  fake_client: Any) -> None:
    ids = seed(page_db)
    client = as_role("coder")
    response = client.post(f"/work-items/{ids['coder_item']}/complete",
                           data=_correction_form(client, page_db, ids["denied"],
                                                 **{"lines[0].charge": "lots"}))
    assert response.status_code == 422
    assert "lines[0].charge" in response.text
    assert fake_client.updates == []


def test_check_with_the_scrubber_completes_nothing(page_db: Engine, as_role: Any,
                                                   fake_client: Any) -> None:
    ids = seed(page_db)
    client = as_role("coder")
    response = client.post(f"/work-items/{ids['coder_item']}/complete",
                           data=_correction_form(client, page_db, ids["denied"], action="check",
                                                 **{"diagnoses[0]": "E11"}))
    assert response.status_code == 200
    assert "The scrubber says" in response.text
    assert 'id="err-diagnoses-0"' in response.text
    assert fake_client.updates == []


def test_the_appeal_buttons_complete_the_item(page_db: Engine, as_role: Any,
                                              fake_client: Any) -> None:
    ids = seed(page_db)
    client = as_role("biller")
    response = client.post(f"/work-items/{ids['appeal_item']}/complete",
                           data={"csrf_token": csrf_of(client), "action": "appeal_sent"})
    assert response.status_code == 303
    assert fake_client.updates[-1][1].action == "appeal_sent"


# ---------------------------------------------------------------- admin


def test_routing_edit_makes_a_version(page_db: Engine, as_role: Any) -> None:
    client = as_role("manager")
    html = client.get("/admin/routing").text
    assert 'name="rule-0-id"' in html
    assert "The shipped default table (in force)" in html
    with Session(page_db) as s:
        rows = current_table(session=s).rules
    form: dict[str, Any] = {"csrf_token": csrf_of(client), "rule_count": str(len(rows) + 1),
                            "default_route": "coder", "description": "edited",
                            "note": "CO-16 to the front desk"}
    for i, rule in enumerate(rows):
        for name, value in rule.model_dump(exclude_none=True).items():
            form[f"rule-{i}-{name}"] = str(value)
    form[f"rule-{len(rows)}-id"] = "co-16-n290-test"
    form[f"rule-{len(rows)}-group"] = "CO"
    form[f"rule-{len(rows)}-carc"] = "16"
    form[f"rule-{len(rows)}-rarc"] = "N999"
    form[f"rule-{len(rows)}-route"] = "front_desk"
    form["rule-0-delete"] = "1"
    response = client.post("/admin/routing", data=form)
    assert response.status_code == 303, response.text
    with Session(page_db) as s:
        table = current_table(session=s)
        versions = s.exec(select(RoutingVersion)).all()
    assert [v.author for v in versions] == ["mona"]
    assert table.rules[-1].id == "co-16-n290-test"
    assert table.rules[-1].route == "front_desk"
    assert rows[0].id not in {r.id for r in table.rules}
    assert "CO-16 to the front desk" in client.get("/admin/routing").text


def test_a_bad_routing_table_is_not_saved(page_db: Engine, as_role: Any) -> None:
    client = as_role("manager")
    response = client.post("/admin/routing", data={
        "csrf_token": csrf_of(client), "mode": "toml", "note": "oops",
        "table_toml": 'default_route = "coder"\n[[rule]]\nid = "x"\ngroup = "ZZ"\n'
                      'carc = "16"\nroute = "coder"\n'})
    assert response.status_code == 422
    assert "group &#39;ZZ&#39; is not one of" in response.text
    with Session(page_db) as s:
        assert s.exec(select(RoutingVersion)).first() is None
        assert current_toml(session=s).startswith("# Denial routing")


def test_a_nul_in_a_form_post_is_422_naming_the_field(page_db: Engine, as_role: Any,
                                                     anon: TestClient) -> None:
    """PostgreSQL refuses NUL in text: a form field carrying one would be a 500 (or a note
    failing its activity on every retry). It is refused at the door, and nothing is stored."""
    client = as_role("manager")
    response = client.post("/admin/routing", data={
        "csrf_token": csrf_of(client), "mode": "toml", "note": "sent\x00twice",
        "table_toml": current_toml_text(page_db)})
    assert response.status_code == 422, response.text
    assert response.json()["fields"][0]["field"] == "note"
    with Session(page_db) as s:
        assert s.exec(select(RoutingVersion)).first() is None
    response = anon.post("/login", data={"username": "cora\x00", "password": PASSWORD})
    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "username"
    # `%00` typed as text is three characters, not a NUL.
    assert anon.post("/login", data={"username": "%00", "password": "x"}).status_code != 422


def current_toml_text(engine: Engine) -> str:
    with Session(engine) as s:
        return current_toml(session=s)


def test_admin_adds_a_user_who_can_sign_in(app: FastAPI, as_role: Any) -> None:
    admin = as_role("admin")
    response = admin.post("/admin/users", data={
        "csrf_token": csrf_of(admin), "username": "newbie", "password": "long-enough-1",
        "role": "coder", "email": "newbie@example.com"})
    assert response.status_code == 201, response.text[-3000:]
    assert "rk_" in response.text  # the API token, shown once
    duplicate = admin.post("/admin/users", data={
        "csrf_token": csrf_of(admin), "username": "newbie", "password": "long-enough-1",
        "role": "coder"})
    assert duplicate.status_code == 409
    assert "already exists" in duplicate.text
    short = admin.post("/admin/users", data={
        "csrf_token": csrf_of(admin), "username": "x", "password": "short", "role": "coder"})
    assert short.status_code == 422
    assert "password" in short.text
    with TestClient(app, follow_redirects=False) as fresh:
        login(fresh, "newbie", "long-enough-1")
        assert fresh.get("/work").status_code == 200


# ---------------------------------------------------------------- no N+1


def _queries(engine: Engine, client: TestClient, path: str) -> int:
    with QueryCounter(engine) as counter:
        response = client.get(path)
    assert response.status_code == 200, response.text
    return counter.count


@pytest.mark.parametrize(
    "path", ["/claims", "/work", "/", "/partials/work", "/partials/dashboard", "/admin/audit",
             "/api/v1/metrics", "/files"])
def test_pages_run_a_constant_number_of_queries(page_db: Engine, as_role: Any,
                                                path: str) -> None:
    seed(page_db, claims=2)
    client = as_role("manager")
    client.get(f"/claims/{1}")
    few = _queries(page_db, client, path)
    with Session(page_db) as s:
        for i in range(25):
            c = add_claim(s, status="denied", payer=f"P{i % 3}", denied=True)
            r = add_remittance(s, c, paid="0", status_code="4", received_at=NOW)
            add_denial(s, c, r, created_at=NOW, carc=str(16 + i % 5))
            add_item(s, c, queue="coder", due_at=NOW - timedelta(hours=i), assignee="cora")
        s.commit()
        assert len(s.exec(select(Claim)).all()) > 25
    assert _queries(page_db, client, path) == few


def test_claims_fragment_keeps_the_address_bar_on_the_page(page_db: Engine,
                                                            as_role: Any) -> None:
    seed(page_db)
    response = as_role("coder").get("/partials/claims?payer=ACME&q=okafor")
    assert response.headers["hx-push-url"] == "/claims?payer=ACME&q=okafor"
    assert response.text.lstrip().startswith('<div id="claims-table"')
