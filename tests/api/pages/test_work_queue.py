"""The /work page as a queue: sort links and filters in the URL, bulk take and assign, the CSV."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from reclaim.models import AuditEntry, WorkItem
from tests.api.pages.conftest import csrf_of
from tests.factories import add_claim, add_item

NOW = datetime.now(UTC)
CO16 = {"denials": [{"group": "CO", "carc": "16", "rarcs": ["N290"]}]}


def _items(engine: Engine) -> dict[str, int]:
    with Session(engine) as s:
        a = add_claim(s, charge="500.00", last_name="Alpha")
        b = add_claim(s, charge="90.00", last_name="Bravo")
        c = add_claim(s, charge="300.00", last_name="Charlie")
        ids = {
            "a": add_item(s, a, data=CO16, sla_due_at=NOW + timedelta(days=1),
                          title=f"Claim {a.id}: denied — CO-16 claim lacks inf").id,
            "b": add_item(s, b, sla_due_at=NOW - timedelta(hours=1),
                          data={"denials": [{"group": "CO", "carc": "11", "rarcs": []}]}).id,
            "c": add_item(s, c, queue="front_desk", kind="correction",
                          sla_due_at=NOW + timedelta(days=2),
                          detail="The payer rejected the claim: A7:33 rejected").id,
        }
        s.commit()
    return ids  # type: ignore[return-value]


def _order(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr class="[^"]*" id="item-(\d+)"', html)]


def test_rows_read_once_each_in_plain_words(page_db: Engine, as_role: Any) -> None:
    ids = _items(page_db)
    html = as_role("manager").get("/work").text
    row = html[html.index(f'id="item-{ids["a"]}"'):]
    row = row[:row.index("</tr>")]
    assert "<strong>Denied</strong>" in row
    assert "lacks inf<" not in row  # the workflow's cut title is not shown
    assert row.count("CO-16") == 1
    assert "fix and resend" in row
    assert "$500.00" in row
    assert "absorbs" not in row
    rejected = html[html.index(f'id="item-{ids["c"]}"'):]
    assert "<code>A7:33</code>" in rejected[:rejected.index("</tr>")]
    assert "A7:A7" not in html


def test_default_order_is_urgency_and_headers_sort(page_db: Engine, as_role: Any) -> None:
    ids = _items(page_db)
    client = as_role("manager")
    assert _order(client.get("/work").text) == [ids["b"], ids["a"], ids["c"]]
    html = client.get("/work?sort=amount&dir=desc").text
    assert _order(html) == [ids["a"], ids["c"], ids["b"]]
    assert 'aria-sort="descending"' in html
    assert 'href="/work?sort=amount"' in html  # the header link turns the order around
    filtered = client.get("/work?queue=coder&sort=amount").text
    assert _order(filtered) == [ids["b"], ids["a"]]
    assert 'href="/work?queue=coder&amp;sort=age&amp;dir=desc"' in filtered  # oldest first
    assert 'name="sort" value="amount"' in filtered  # filtering keeps the sort
    assert 'href="/work/export.csv?queue=coder&amp;sort=amount"' in filtered


def test_a_coder_bulk_takes_and_is_told_what_was_not_taken(page_db: Engine,
                                                          as_role: Any) -> None:
    ids = _items(page_db)
    coder = as_role("coder")
    response = coder.post("/work-items/bulk", data={
        "csrf_token": csrf_of(coder), "action": "take", "next": "/work?scope=queue",
        "item": [str(ids["a"]), str(ids["b"]), str(ids["c"])]})
    assert response.status_code == 200
    assert "2 items assigned to you." in response.text
    assert f"item {ids['c']} is in the front desk queue, which is not yours" in response.text
    with Session(page_db) as s:
        assert s.get(WorkItem, ids["a"]).assignee == "cora"  # type: ignore[union-attr]
        assert s.get(WorkItem, ids["c"]).assignee is None  # type: ignore[union-attr]
        entries = s.exec(select(AuditEntry)).all()
        assert len([e for e in entries if "(bulk)" in e.detail]) == 2


def test_a_manager_bulk_assigns(page_db: Engine, as_role: Any) -> None:
    ids = _items(page_db)
    manager = as_role("manager")
    response = manager.post("/work-items/bulk", data={
        "csrf_token": csrf_of(manager), "action": "assign", "username": "cora",
        "item": [str(ids["a"]), str(ids["c"])]})
    assert "1 item assigned to cora." in response.text
    assert "which cora cannot work" in response.text
    with Session(page_db) as s:
        assert s.get(WorkItem, ids["a"]).assignee == "cora"  # type: ignore[union-attr]


def test_bulk_needs_csrf_a_manager_to_assign_and_real_ids(page_db: Engine,
                                                          as_role: Any) -> None:
    ids = _items(page_db)
    coder = as_role("coder")
    assert coder.post("/work-items/bulk", data={"action": "take",
                                                "item": [str(ids["a"])]}).status_code == 403
    refused = coder.post("/work-items/bulk", data={
        "csrf_token": csrf_of(coder), "action": "assign", "username": "cora",
        "item": [str(ids["a"])]}, headers={"accept": "text/html"})
    assert refused.status_code == 403
    assert "Only managers assign" in refused.text
    bad = coder.post("/work-items/bulk", data={"csrf_token": csrf_of(coder), "action": "take",
                                               "item": ["1; drop"]})
    assert bad.status_code == 422
    assert "is not a work item number" in bad.text
    nothing = coder.post("/work-items/bulk", data={"csrf_token": csrf_of(coder),
                                                   "action": "take"})
    assert "Nothing was checked" in nothing.text


def test_export_is_the_filtered_list_as_csv(page_db: Engine, as_role: Any) -> None:
    ids = _items(page_db)
    response = as_role("manager").get("/work/export.csv?queue=coder&sort=amount&dir=desc")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [int(r["item"]) for r in rows] == [ids["a"], ids["b"]]
    assert rows[0]["code"] == "CO-16/N290"
    assert rows[0]["at_stake"] == "500.00"
    coder_rows = list(csv.DictReader(io.StringIO(as_role("coder").get(
        "/work/export.csv?scope=queue").text)))
    assert str(ids["c"]) not in [r["item"] for r in coder_rows]  # not the coder's queue


def test_work_items_api_sorts_and_filters(page_db: Engine, as_role: Any) -> None:
    ids = _items(page_db)
    client = as_role("manager")
    urgent = client.get("/api/v1/work-items").json()["items"]
    assert [i["id"] for i in urgent] == [ids["b"], ids["a"], ids["c"]]
    assert urgent[0]["sla_overdue"] is True
    by_code = client.get("/api/v1/work-items?code=A7").json()["items"]
    assert [(i["id"], i["reason_code"]) for i in by_code] == [(ids["c"], "A7:33")]
    bad = client.get("/api/v1/work-items?sort=nonsense")
    assert bad.status_code == 422
    assert bad.json()["fields"][0]["field"] == "sort"
