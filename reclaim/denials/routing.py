"""Denial -> route, from a data table a manager can edit (reclaim/denials/routing_table.toml).

A row matches a denial on group (or "*"), CARC (or "*") and one of the denial's RARCs (or "*").
The most specific matching row wins: a RARC counts 4, a group 2 and a CARC 1, so
group+CARC+RARC (7) > CARC+RARC (5) > RARC alone (4) > group+CARC (3) > group (2) > CARC (1).
Equal specificity is settled by the row's `priority` (higher first), then by order in the table.
No match falls to the table's `default_route`.

A row may be conditional: `auto_fix` rows name an `auto_fix_kind` and apply only when the data the
fix needs is on file (the `RoutingContext` says so), other rows may `require` a context flag; when
the condition fails, the row's `fallback` route applies. The decision runs in an activity, so a
table edit never changes a replayed history; `table_version` identifies the table it used.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, Field, ValidationError, computed_field

from contracts.enums import AutoFixKind, Route
from reclaim.codes.carc import CARC_PATTERN, GROUP_LABELS, RARC_PATTERN
from reclaim.codes.plain import explain_attempt_cap, explain_route
from reclaim.denials.detect import DenialFinding

ContextFlag = Literal[
    "rendering_provider_on_file",
    "place_of_service_on_file",
    "referring_provider_on_file",
    "ordering_provider_on_file",
    "modifier_rule_on_file",
    "timely_filing_proof",
]

ROUTES: tuple[str, ...] = tuple(route.value for route in Route)
AUTO_FIX_KINDS: tuple[str, ...] = tuple(kind.value for kind in AutoFixKind)
CONTEXT_FLAGS: tuple[str, ...] = get_args(ContextFlag)
# The data each auto-fix needs on file.
AUTO_FIX_REQUIRES: dict[str, str] = {
    "rendering_provider": "rendering_provider_on_file",
    "place_of_service": "place_of_service_on_file",
    "referring_provider": "referring_provider_on_file",
    "ordering_provider": "ordering_provider_on_file",
    "modifier": "modifier_rule_on_file",
}
NEW_ORIGINAL_RARC = "MA130"
DEFAULT_TABLE_PATH = Path(__file__).with_name("routing_table.toml")
_ROW_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


class RoutingTableError(ValueError):
    """A routing table that cannot be used; lists every problem with its row."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"routing table {source}: " + "; ".join(problems))


class RoutingRule(BaseModel):
    id: str
    group: str = "*"
    carc: str = "*"
    rarc: str = "*"
    route: Route
    auto_fix_kind: AutoFixKind | None = None
    requires: ContextFlag | None = None
    fallback: Route | None = None
    priority: int = 0
    note: str = ""

    @property
    def specificity(self) -> int:
        return 4 * (self.rarc != "*") + 2 * (self.group != "*") + (self.carc != "*")

    @property
    def condition(self) -> str | None:
        if self.auto_fix_kind is not None:
            return AUTO_FIX_REQUIRES[self.auto_fix_kind]
        return self.requires

    def matches(self, *, group: str, carc: str, rarcs: list[str]) -> bool:
        return (
            self.group in ("*", group)
            and self.carc in ("*", carc)
            and (self.rarc == "*" or self.rarc in rarcs)
        )


class RoutingTable(BaseModel):
    default_route: Route
    rules: list[RoutingRule]
    description: str = ""

    @computed_field  # type: ignore[prop-decorator]
    @cached_property  # the table is read, never changed, once parsed
    def table_version(self) -> str:
        canonical = json.dumps(
            {
                "default_route": self.default_route,
                "rules": [r.model_dump(mode="json") for r in self.rules],
            },
            sort_keys=True,
        )
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


class RoutingContext(BaseModel):
    """What is on file for this claim, as facts the routing conditions read."""

    rendering_provider_on_file: bool = False
    place_of_service_on_file: bool = False
    referring_provider_on_file: bool = False
    ordering_provider_on_file: bool = False
    modifier_rule_on_file: bool = False
    timely_filing_proof: bool = False
    max_attempts: int = Field(default=3, ge=1)

    def flag(self, name: str) -> bool:
        return bool(getattr(self, name))


class RouteDecision(BaseModel):
    route: Route
    reason: str
    rule_id: str | None  # None when the table's default route applied
    auto_fix_kind: AutoFixKind | None = None
    table_version: str
    # MA130: the resubmission must be a new original claim, not a replacement.
    new_original_claim: bool = False
    # The attempt cap is reached: no automatic resubmission; a manager must decide.
    escalate_to_manager: bool = False


# ---------------------------------------------------------------- validation


def _row_problems(index: int, raw: Any) -> tuple[RoutingRule | None, list[str]]:
    label = f"row {index + 1}"
    if not isinstance(raw, Mapping):
        return None, [f"{label}: expected a table of fields, got {type(raw).__name__}"]
    label += f" (id {raw.get('id')!r})" if raw.get("id") else ""
    try:
        rule = RoutingRule.model_validate(dict(raw))
    except ValidationError as exc:
        return None, [
            f"{label}: {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        ]
    return rule, [f"{label}: {p}" for p in _rule_problems(rule)]


def _rule_problems(rule: RoutingRule) -> list[str]:
    problems: list[str] = []
    if not _ROW_ID.match(rule.id):
        problems.append("id must be lower-case letters, digits, '-', '_' or '.'")
    if rule.group != "*" and rule.group not in GROUP_LABELS:
        problems.append(f"group {rule.group!r} is not one of CO, PR, OA, PI, CR or '*'")
    if rule.carc != "*" and not CARC_PATTERN.match(rule.carc):
        problems.append(f"carc {rule.carc!r} is not a CARC code or '*'")
    if rule.rarc != "*" and not RARC_PATTERN.match(rule.rarc):
        problems.append(f"rarc {rule.rarc!r} is not a RARC code or '*'")
    if rule.specificity == 0:
        problems.append("matches every denial; use default_route instead")
    problems.extend(_condition_problems(rule))
    return problems


def _condition_problems(rule: RoutingRule) -> list[str]:
    if rule.route == "auto_fix" and rule.auto_fix_kind is None:
        return ["an auto_fix route needs auto_fix_kind"]
    if rule.route != "auto_fix" and rule.auto_fix_kind is not None:
        return ["auto_fix_kind is only for the auto_fix route"]
    if rule.auto_fix_kind is not None and rule.requires not in (None, rule.condition):
        return [f"auto_fix_kind {rule.auto_fix_kind} already requires {rule.condition}"]
    if rule.condition is None and rule.fallback is not None:
        return ["fallback is only for conditional rows (auto_fix or requires)"]
    if rule.condition is not None and rule.fallback is None:
        return [f"a conditional row needs a fallback route for when {rule.condition} is false"]
    if rule.fallback is not None and rule.fallback in ("auto_fix", rule.route):
        return [f"fallback {rule.fallback!r} must be a different, human or final route"]
    return []


def _duplicate_problems(rules: list[RoutingRule]) -> list[str]:
    seen: dict[tuple[str, str, str], str] = {}
    ids: set[str] = set()
    problems: list[str] = []
    for rule in rules:
        key = (rule.group, rule.carc, rule.rarc)
        if key in seen:
            problems.append(f"id {rule.id!r} matches the same codes as {seen[key]!r}: {key}")
        seen.setdefault(key, rule.id)
        if rule.id in ids:
            problems.append(f"id {rule.id!r} is used twice")
        ids.add(rule.id)
    return problems


def parse_table(data: Mapping[str, Any], *, source: str = "<data>") -> RoutingTable:
    """Validate a table given as data (parsed TOML, or JSON from the manager's editor)."""
    problems: list[str] = []
    unknown = set(data) - {"default_route", "description", "rule"}
    if unknown:
        problems.append(f"unknown top-level keys {sorted(unknown)}")
    default_route = data.get("default_route")
    if default_route not in ROUTES or default_route == "auto_fix":
        problems.append(f"default_route must be a human or final route, got {default_route!r}")
    raw_rules = data.get("rule")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise RoutingTableError(source, [*problems, "no [[rule]] rows"])
    rules: list[RoutingRule] = []
    for index, raw in enumerate(raw_rules):
        rule, row_problems = _row_problems(index, raw)
        problems.extend(row_problems)
        if rule is not None:
            rules.append(rule)
    problems.extend(_duplicate_problems(rules))
    if problems:
        raise RoutingTableError(source, problems)
    return RoutingTable(
        default_route=default_route, rules=rules, description=str(data.get("description", ""))
    )


def load_table(path: Path) -> RoutingTable:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise RoutingTableError(str(path), [f"not valid TOML: {exc}"]) from exc
    return parse_table(data, source=str(path))


def load_default_table() -> RoutingTable:
    return load_table(DEFAULT_TABLE_PATH)


# ---------------------------------------------------------------- routing


def best_rule(denial: DenialFinding, *, table: RoutingTable) -> RoutingRule | None:
    matching = [
        (index, rule)
        for index, rule in enumerate(table.rules)
        if rule.matches(group=denial.group, carc=denial.carc, rarcs=denial.rarcs)
    ]
    if not matching:
        return None
    _, rule = min(matching, key=lambda pair: (-pair[1].specificity, -pair[1].priority, pair[0]))
    return rule


def _rule_decision(
    rule: RoutingRule, *, context: RoutingContext, codes: str
) -> tuple[Route, AutoFixKind | None, str]:
    condition = rule.condition
    # In people's words (reclaim.codes.plain), the row's id last for whoever edits the table.
    if condition is None:
        return rule.route, None, explain_route(codes, route=rule.route, note=rule.note,
                                               rule_id=rule.id)
    met = context.flag(condition)
    route = rule.route if met else rule.fallback
    assert route is not None  # a conditional row has a fallback (table validation)
    why = explain_route(codes, route=route, note=rule.note, condition=condition, met=met,
                        rule_id=rule.id)
    return route, rule.auto_fix_kind if met else None, why


# Routes whose usual end is another submission to the same payer, which the attempt cap limits.
_RESUBMITTING: frozenset[str] = frozenset({"auto_fix", "coder", "front_desk"})


def route_denial(
    denial: DenialFinding, *, table: RoutingTable, context: RoutingContext
) -> RouteDecision:
    codes = denial.codes
    rule = best_rule(denial, table=table)
    if rule is None:
        route: Route = table.default_route
        kind: AutoFixKind | None = None
        reason = explain_route(codes, route=route, default=True)
    else:
        route, kind, reason = _rule_decision(rule, context=context, codes=codes)
    escalate = denial.attempt >= context.max_attempts and route in _RESUBMITTING
    if escalate:
        reason += explain_attempt_cap(denial.attempt, context.max_attempts)
    if escalate and route == "auto_fix":
        assert rule is not None
        assert rule.fallback is not None
        route, kind = rule.fallback, None
    return RouteDecision(
        route=route,
        reason=reason,
        rule_id=rule.id if rule else None,
        auto_fix_kind=kind,
        table_version=table.table_version,
        new_original_claim=NEW_ORIGINAL_RARC in denial.rarcs,
        escalate_to_manager=escalate,
    )


# A claim with several findings takes the route that needs the most from people first.
_CLAIM_PRECEDENCE: tuple[Route, ...] = (
    Route.front_desk,
    Route.coder,
    Route.appeal,
    Route.auto_fix,
    Route.close,
    Route.write_off,
    Route.patient,
)


def claim_route(decisions: list[RouteDecision]) -> RouteDecision:
    """The one decision that drives a claim with several denied adjustments."""
    if not decisions:
        raise ValueError("claim_route needs at least one route decision")
    return min(decisions, key=lambda d: _CLAIM_PRECEDENCE.index(d.route))
