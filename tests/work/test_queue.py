"""The daily-work queue: SLA from settings, urgency order, filters, plain rows, CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from contracts.enums import Queue
from contracts.messages import WorkItemSpec
from reclaim.config import Settings
from reclaim.models import User
from reclaim.work.items import list_work_items, open_work_item
from reclaim.work.queue import (
    CSV_COLUMNS,
    WorkFilter,
    headline,
    item_words,
    open_items,
    reason_code_of,
    shorten,
    to_csv,
)
from tests.factories import add_claim, add_item

NOW = datetime.now(UTC)
CO16 = {"denials": [{"group": "CO", "carc": "16", "rarcs": ["N290"]}]}


def test_sla_per_queue_comes_from_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECLAIM_WORK_ITEM_DUE_AFTER", "coder=4h,front_desk=P1D,appeal=604800")
    settings = Settings()
    assert settings.work_item_sla("coder") == timedelta(hours=4)
    assert settings.work_item_sla("front_desk") == timedelta(days=1)
    assert settings.work_item_sla("appeal") == timedelta(days=7)
    assert settings.work_item_sla("manager") == timedelta(days=3)  # the default


@pytest.mark.parametrize(
    ("value", "message"),
    [("appeals=7d", "'appeals' is not a work queue"), ("coder", "write QUEUE=DURATION"),
     ("coder=soon", "'soon' is not a duration"), ("coder=0", "more than zero")],
)
def test_a_bad_sla_setting_names_what_is_wrong(monkeypatch: pytest.MonkeyPatch, value: str,
                                              message: str) -> None:
    monkeypatch.setenv("RECLAIM_WORK_ITEM_DUE_AFTER", value)
    with pytest.raises(ValueError, match=message):
        Settings()


def test_opening_an_item_stores_its_sla_and_code(fresh_engine: Engine) -> None:
    with Session(fresh_engine) as s:
        claim = add_claim(s)
        spec = WorkItemSpec(claim_id=claim.id, key="k1", queue=Queue.coder, kind="denial",
                            title="Claim 1: denied — CO-16", data=CO16,
                            due_in=timedelta(days=90))
        opened = datetime.now(UTC)
        item = open_work_item(session=s, spec=spec, sla=timedelta(hours=4))
        assert item.sla_due_at is not None
        assert item.due_at is not None
        left = item.sla_due_at - opened
        assert timedelta(hours=3, minutes=59) < left < timedelta(hours=4, minutes=1)
        assert item.due_at - item.sla_due_at > timedelta(days=89)
        assert item.reason_code == "CO-16/N290"


@pytest.mark.parametrize(
    ("data", "detail", "code"),
    [
        (CO16, "", "CO-16/N290"),
        ({"denials": [{"group": "CO", "carc": "97", "rarcs": ["M15"]},
                      {"group": "CO", "carc": "97", "rarcs": ["M15"]}]}, "", "CO-97/M15"),
        ({}, "The payer rejected the claim: A7:33 subscriber and member id not found", "A7:33"),
        ({}, "The payer rejected the claim: A7:A7 rejected", "A7"),
        ({"findings": [{"rule": "icd10.billable", "message": "E11 is not billable"}]}, "",
         "icd10.billable"),
        ({}, "No answer from the payer", None),
    ],
)
def test_reason_codes(data: dict[str, Any], detail: str, code: str | None) -> None:
    assert reason_code_of(data, detail) == code


def test_plain_words_of_an_item_never_repeat_the_code_or_say_absorbed() -> None:
    words = item_words(CO16)
    assert words == ("claim lacks information or has a billing error — fix and resend: the payer "
                     "pays once the claim is corrected; rendering provider NPI missing or invalid.")
    assert "CO-16" not in words
    rejected = item_words({}, "The payer rejected the claim: A7:33 rejected")
    assert rejected == "rejected for invalid information: subscriber and member id not found."


def test_titles_lose_the_claim_number_and_the_cut_words() -> None:
    assert headline("Claim 12: denied — CO-16 claim lacks inform") == "Denied"
    assert headline("Claim 3: rejected at the front door") == "Rejected at the front door"
    assert headline("Fix the rendering NPI") == "Fix the rendering NPI"


def test_a_title_cut_mid_word_is_cut_at_a_word_when_the_item_opens(fresh_engine: Engine) -> None:
    detail = "CO-16 claim lacks information or has a billing error (fix and resend)."
    with Session(fresh_engine) as s:
        claim = add_claim(s)
        spec = WorkItemSpec(claim_id=claim.id, key="k2", queue=Queue.coder, kind="denial",
                            title=f"Claim {claim.id}: denied — {detail[:30]}", detail=detail,
                            data=CO16, due_in=timedelta(days=90))
        item = open_work_item(session=s, spec=spec)
    assert item.title == f"Claim {claim.id}: denied — CO-16 claim lacks information…"


def test_shorten_never_cuts_mid_word() -> None:
    text = "claim lacks information or has a billing error — fix and resend: the payer pays"
    short = shorten(text, 40)
    assert short == "claim lacks information or has a billing…"
    assert text.startswith(short[:-1])
    assert shorten("short", 40) == "short"


def _people(s: Session) -> dict[str, User]:
    users = {u.username: u for u in s.exec(select(User)).all()}
    for name, role in (("mona", "manager"), ("cora", "coder"), ("fran", "front_desk")):
        if name not in users:
            users[name] = User(username=name, role=role, password_hash="x")
            s.add(users[name])
    s.flush()
    return users


def _queue_rows(fresh_engine: Engine) -> tuple[Session, dict[str, User], dict[str, int]]:
    s = Session(fresh_engine)
    people = _people(s)
    small = add_claim(s, charge="100.00", last_name="Small")
    big = add_claim(s, charge="900.00", paid="100.00", last_name="Big")
    late = add_claim(s, charge="50.00", last_name="Late", status="needs_correction")
    rejected = add_claim(s, charge="300.00", last_name="Rejected", status="rejected")
    ids = {
        # Same SLA: more dollars at stake first; the payer's far deadline does not matter.
        "small": add_item(s, small, sla_due_at=NOW + timedelta(days=1),
                          due_at=NOW + timedelta(days=5), data=CO16).id,
        "big": add_item(s, big, sla_due_at=NOW + timedelta(days=1),
                        due_at=NOW + timedelta(days=120), data=CO16, assignee="cora").id,
        "late": add_item(s, late, sla_due_at=NOW - timedelta(hours=3),
                         due_at=NOW + timedelta(days=200),
                         data={"denials": [{"group": "CO", "carc": "11", "rarcs": []}]}).id,
        "rejected": add_item(s, rejected, queue="front_desk", kind="correction",
                             sla_due_at=NOW + timedelta(days=2),
                             detail="The payer rejected the claim: A7:33 rejected",
                             created_at=NOW - timedelta(days=9)).id,
    }
    s.flush()
    return s, people, ids  # type: ignore[return-value]


def test_default_order_is_sla_then_dollars_at_stake(fresh_engine: Engine) -> None:
    s, people, ids = _queue_rows(fresh_engine)
    rows = open_items(s, user=people["mona"], flt=WorkFilter(), manager=True)
    assert [r["id"] for r in rows] == [ids["late"], ids["big"], ids["small"], ids["rejected"]]
    first = rows[0]
    assert first["sla_overdue"]
    assert first["sla_text"].endswith("late")
    assert str(rows[1]["at_stake"]) == "800.00"
    close = next(r for r in rows if r["id"] == ids["small"])
    assert close["deadline"] == "close"  # five days left: within the 14-day lead
    assert close["escalated"]
    assert next(r for r in rows if r["id"] == ids["big"])["deadline"] is None
    api = list_work_items(session=s, status="open")
    assert [w.id for w in api] == [r["id"] for r in rows]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"sort": "amount", "dir": "desc"}, ["big", "rejected", "small", "late"]),
        ({"sort": "amount"}, ["late", "small", "rejected", "big"]),
        ({"sort": "due"}, ["small", "big", "late", "rejected"]),
        ({"sort": "age"}, ["rejected", "small", "big", "late"]),  # youngest first
        ({"code": "co-16"}, ["big", "small"]),
        ({"code": "A7"}, ["rejected"]),
        ({"queue": "front_desk"}, ["rejected"]),
        ({"assignee": "cora"}, ["big"]),
        ({"assignee": "nobody"}, ["late", "small", "rejected"]),
        ({"status": "needs_correction"}, ["late"]),
        ({"overdue": "1"}, ["late"]),
        ({"kind": "correction"}, ["rejected"]),
    ],
)
def test_filters_and_sorts(fresh_engine: Engine, params: dict[str, str],
                           expected: list[str]) -> None:
    s, people, ids = _queue_rows(fresh_engine)
    flt = WorkFilter.from_params(params)
    rows = open_items(s, user=people["mona"], flt=flt, manager=True)
    names = {v: k for k, v in ids.items()}
    got = [names[r["id"]] for r in rows]
    if params.get("sort") == "age":  # same creation time for three: only the oldest is sure
        assert got[0] == expected[0]
    else:
        assert got == expected
    assert WorkFilter.from_params(flt.params()) == flt  # the URL keeps the whole filter


def test_a_coder_sees_only_their_queues(fresh_engine: Engine) -> None:
    s, people, ids = _queue_rows(fresh_engine)
    rows = open_items(s, user=people["cora"], flt=WorkFilter(), manager=False)
    assert ids["rejected"] not in [r["id"] for r in rows]  # the front desk's
    assert {r["queue"] for r in rows} == {"coder"}


def test_csv_is_a_real_csv_with_a_header(fresh_engine: Engine) -> None:
    s, people, ids = _queue_rows(fresh_engine)
    rows = open_items(s, user=people["mona"], flt=WorkFilter(code="A7"), manager=True)
    text = to_csv(rows)
    parsed = list(csv.reader(io.StringIO(text)))
    assert tuple(parsed[0]) == CSV_COLUMNS
    assert len(parsed) == 2
    record = dict(zip(parsed[0], parsed[1], strict=True))
    assert record["item"] == str(ids["rejected"])
    assert record["code"] == "A7:33"
    assert record["at_stake"] == "300.00"
    assert record["plain_words"].startswith("rejected for invalid information")
    assert record["sla_due"].endswith("Z")


def test_csv_cells_never_run_as_formulas() -> None:
    row = {"id": 1, "claim_id": 2, "patient": "=HYPERLINK(\"x\")", "payer": "P",
           "claim_status": "denied", "queue": "coder", "kind": "denial", "headline": "Denied",
           "code": None, "words": "-1", "at_stake": Decimal("-5.00"),
           "age_days": 1, "sla_due_at": None, "sla_overdue": False, "due_at": None,
           "deadline": None, "escalated": False, "assignee": None}
    parsed = list(csv.reader(io.StringIO(to_csv([row]))))[1]
    assert parsed[2] == "'=HYPERLINK(\"x\")"
    assert parsed[9] == "'-1"
    assert parsed[10] == "-5.00"  # numbers stay numbers
