from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from reclaim.denials.routing import (
    DEFAULT_TABLE_PATH,
    RouteDecision,
    RoutingContext,
    RoutingTableError,
    best_rule,
    claim_route,
    load_table,
    parse_table,
    route_denial,
)

ALL_ON = {
    "rendering_provider_on_file": True,
    "place_of_service_on_file": True,
    "referring_provider_on_file": True,
    "ordering_provider_on_file": True,
    "modifier_rule_on_file": True,
}

# Every row of DOMAIN.md's routing table: (codes, rarcs, context, route, auto_fix_kind)
DOMAIN_ROWS = [
    ("PR-1", (), {}, "patient", None),
    ("PR-2", (), {}, "patient", None),
    ("PR-3", (), {}, "patient", None),
    ("CO-45", (), {}, "write_off", None),
    ("CO-253", (), {}, "write_off", None),
    ("CO-24", (), {}, "write_off", None),
    ("OA-23", (), {}, "write_off", None),
    ("CO-4", (), {"modifier_rule_on_file": True}, "auto_fix", "modifier"),
    ("CO-4", (), {}, "coder", None),
    ("CO-182", (), {"modifier_rule_on_file": True}, "auto_fix", "modifier"),
    ("CO-182", (), {}, "coder", None),
    ("CO-11", (), {}, "coder", None),
    ("CO-146", (), {}, "coder", None),
    ("CO-167", (), {}, "coder", None),
    ("OA-16", ("M76",), {}, "coder", None),
    ("CO-97", (), {}, "coder", None),
    ("CO-234", (), {}, "coder", None),
    ("CO-236", (), {}, "coder", None),
    ("OA-59", ("M15",), {}, "coder", None),
    ("OA-59", ("M80",), {}, "coder", None),
    ("CO-151", (), {}, "coder", None),
    ("OA-119", ("N362",), {}, "coder", None),
    ("CO-16", ("N290",), {"rendering_provider_on_file": True}, "auto_fix", "rendering_provider"),
    ("CO-16", ("N290",), {}, "front_desk", None),
    ("CO-16", ("M77",), {"place_of_service_on_file": True}, "auto_fix", "place_of_service"),
    ("CO-16", ("M77",), {}, "front_desk", None),
    ("CO-16", ("N286",), {"referring_provider_on_file": True}, "auto_fix", "referring_provider"),
    ("CO-16", ("N286",), {}, "front_desk", None),
    ("CO-16", ("N265",), {"ordering_provider_on_file": True}, "auto_fix", "ordering_provider"),
    ("CO-16", ("N265",), {}, "front_desk", None),
    ("CO-16", ("MA120",), ALL_ON, "front_desk", None),
    ("CO-16", ("MA130",), ALL_ON, "front_desk", None),
    ("CO-16", (), ALL_ON, "front_desk", None),
    ("CO-5", (), {"place_of_service_on_file": True}, "auto_fix", "place_of_service"),
    ("CO-5", (), {}, "coder", None),
    ("CO-22", (), {}, "front_desk", None),
    ("CO-109", (), {}, "front_desk", None),
    ("OA-16", ("MA04",), {}, "front_desk", None),
    ("OA-16", ("N479",), {}, "front_desk", None),
    ("CO-26", (), {}, "front_desk", None),
    ("CO-27", (), {}, "front_desk", None),
    ("CO-31", (), {}, "front_desk", None),
    ("OA-16", ("N382",), {}, "front_desk", None),
    ("CO-197", (), {}, "front_desk", None),
    ("CO-198", (), {}, "front_desk", None),
    ("CO-288", (), {}, "front_desk", None),
    ("CO-50", (), {}, "appeal", None),
    ("PI-50", ("N115",), {}, "appeal", None),
    ("PI-50", ("N386",), {}, "appeal", None),
    ("CO-50", ("M76",), {}, "coder", None),
    ("CO-18", (), {}, "close", None),
    ("CO-29", (), {}, "write_off", None),
    ("CO-29", (), {"timely_filing_proof": True}, "appeal", None),
    ("CO-226", (), {}, "front_desk", None),
    ("CO-252", (), {}, "front_desk", None),
]


@pytest.mark.parametrize(
    ("codes", "rarcs", "flags", "route", "kind"),
    DOMAIN_ROWS,
    ids=[c + "".join("+" + r for r in rs) + "-on-file" * bool(f) for c, rs, f, *_ in DOMAIN_ROWS],
)
def test_domain_routing_rows(table, make_finding, codes, rarcs, flags, route, kind):
    decision = route_denial(
        make_finding(codes, *rarcs), table=table, context=RoutingContext(**flags)
    )
    assert (decision.route, decision.auto_fix_kind) == (route, kind), decision.reason
    assert decision.rule_id is not None
    assert decision.table_version == table.table_version
    assert codes in decision.reason


def test_every_table_row_is_reachable(table, make_finding):
    """No row is shadowed by a more specific or earlier one."""
    for rule in table.rules:
        group = "CO" if rule.group == "*" else rule.group
        carc = "999" if rule.carc == "*" else rule.carc
        rarcs = () if rule.rarc == "*" else (rule.rarc,)
        assert best_rule(make_finding(f"{group}-{carc}", *rarcs), table=table) == rule, rule.id


@pytest.mark.parametrize(
    ("codes", "rarcs", "rule_id"),
    [
        ("CO-16", ("N290", "MA130"), "co-16-n290"),  # the field remark beats MA130 (priority)
        ("CO-16", ("MA130", "N290"), "co-16-n290"),
        ("CO-16", ("N1",), "co-16"),  # an informational remark has no row: group+carc applies
        ("CO-16", ("M76",), "rarc-m76"),  # a RARC row beats group+carc
        ("PR-96", (), "pr-any"),
    ],
)
def test_most_specific_row_wins(table, make_finding, codes, rarcs, rule_id):
    decision = route_denial(make_finding(codes, *rarcs), table=table, context=RoutingContext())
    assert decision.rule_id == rule_id


def test_unknown_codes_take_the_default_route(table, make_finding):
    decision = route_denial(make_finding("OA-B7"), table=table, context=RoutingContext())
    assert (decision.route, decision.rule_id) == ("coder", None)
    assert "no routing rule names these codes" in decision.reason


def test_ma130_marks_a_new_original_claim(table, make_finding):
    context = RoutingContext(rendering_provider_on_file=True)
    decision = route_denial(make_finding("CO-16", "N290", "MA130"), table=table, context=context)
    assert (decision.route, decision.new_original_claim) == ("auto_fix", True)
    plain = route_denial(make_finding("CO-16", "N290"), table=table, context=context)
    assert plain.new_original_claim is False


@pytest.mark.parametrize(
    ("codes", "attempt", "route", "escalate"),
    [
        ("CO-4", 2, "auto_fix", False),
        ("CO-4", 3, "coder", True),  # no automatic resubmission past the cap
        ("CO-11", 3, "coder", True),
        ("CO-50", 3, "appeal", False),  # an appeal is not a resubmission
        ("PR-1", 5, "patient", False),
    ],
)
def test_attempt_cap(table, make_finding, codes, attempt, route, escalate):
    context = RoutingContext(modifier_rule_on_file=True, max_attempts=3)
    decision = route_denial(make_finding(codes, attempt=attempt), table=table, context=context)
    assert (decision.route, decision.escalate_to_manager) == (route, escalate)


def test_claim_route_prefers_human_work():
    def decision(route: str) -> RouteDecision:
        return RouteDecision(route=route, reason="r", rule_id="x", table_version="v")

    assert claim_route([decision("patient"), decision("auto_fix")]).route == "auto_fix"
    assert claim_route([decision("auto_fix"), decision("coder")]).route == "coder"
    with pytest.raises(ValueError, match="at least one"):
        claim_route([])


# ---------------------------------------------------------------- the table itself


def _raw_default() -> dict:
    return tomllib.loads(DEFAULT_TABLE_PATH.read_text())


def test_table_version_is_stable_and_changes_with_content():
    first = parse_table(_raw_default())
    assert first.table_version == parse_table(_raw_default()).table_version
    edited = _raw_default()
    edited["rule"][0]["route"] = "coder"
    assert parse_table(edited).table_version != first.table_version


BAD_ROWS = [
    ({"id": "x", "group": "ZZ", "carc": "16", "route": "coder"}, "group 'ZZ'"),
    ({"id": "x", "carc": "16!", "route": "coder"}, "carc '16!'"),
    ({"id": "x", "carc": "16", "rarc": "Q1", "route": "coder"}, "rarc 'Q1'"),
    ({"id": "x", "carc": "16", "route": "pay_it"}, "route"),
    ({"id": "x", "carc": "16", "route": "auto_fix", "fallback": "coder"}, "needs auto_fix_kind"),
    (
        {"id": "x", "carc": "16", "route": "auto_fix", "auto_fix_kind": "modifier"},
        "needs a fallback route for when modifier_rule_on_file is false",
    ),
    (
        {"id": "x", "carc": "16", "route": "coder", "auto_fix_kind": "modifier"},
        "only for the auto_fix route",
    ),
    ({"id": "x", "carc": "16", "route": "coder", "fallback": "close"}, "only for conditional"),
    (
        {
            "id": "x",
            "carc": "29",
            "route": "appeal",
            "requires": "timely_filing_proof",
            "fallback": "appeal",
        },
        "must be a different",
    ),
    ({"id": "x", "route": "coder"}, "matches every denial"),
    ({"id": "Bad Id", "carc": "16", "route": "coder"}, "id must be"),
    ({"carc": "16", "route": "coder"}, "id: Field required"),
    ("not a table", "expected a table of fields"),
]


@pytest.mark.parametrize(("row", "message"), BAD_ROWS, ids=[m for _, m in BAD_ROWS])
def test_bad_rows_are_refused_with_the_row_named(row, message):
    data = {"default_route": "coder", "rule": [{"id": "ok", "carc": "18", "route": "close"}, row]}
    with pytest.raises(RoutingTableError, match="row 2") as err:
        parse_table(data, source="test")
    assert message in str(err.value)


def test_duplicates_and_table_level_problems_are_all_reported():
    data = {
        "default_route": "auto_fix",
        "colour": "blue",
        "rule": [
            {"id": "a", "group": "CO", "carc": "18", "route": "close"},
            {"id": "a", "group": "CO", "carc": "18", "route": "coder"},
        ],
    }
    with pytest.raises(RoutingTableError) as err:
        parse_table(data, source="test")
    problems = err.value.problems
    assert any("default_route" in p for p in problems)
    assert any("unknown top-level keys ['colour']" in p for p in problems)
    assert any("matches the same codes" in p for p in problems)
    assert any("used twice" in p for p in problems)


def test_no_rules_and_bad_toml(tmp_path: Path):
    with pytest.raises(RoutingTableError, match="no \\[\\[rule\\]\\] rows"):
        parse_table({"default_route": "coder"})
    bad = tmp_path / "table.toml"
    bad.write_text("default_route = \n")
    with pytest.raises(RoutingTableError, match="not valid TOML"):
        load_table(bad)
