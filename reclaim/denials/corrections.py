"""The correction map (reclaim/denials/correction_map.toml): for a denial, a 277CA rejection or a
scrub finding, the fields of the claim document a person may need to change, and for a
rejection the queue that can change them. The correction form shows these fields first.

Checked when the API and the worker start (`load_default_map`): a field that is not a path of
the claim document, a scrub rule that does not exist or a queue that does not correct claims
stops the start with every problem named by its row."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from contracts.enums import Queue
from reclaim.claims.fields import field_paths
from reclaim.codes.carc import CARC_PATTERN, GROUP_LABELS, RARC_PATTERN

DEFAULT_MAP_PATH = Path(__file__).with_name("correction_map.toml")
_STATUS = re.compile(r"^[0-9]{1,5}$")
_CATEGORY = re.compile(r"^A[0-9]$")
_ENTITY = re.compile(r"^[A-Z0-9]{2,3}$")
_INDEX = re.compile(r"\[\d+\]")


class CorrectionMapError(ValueError):
    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"correction map {source}: " + "; ".join(problems))


class _Entry(BaseModel):
    model_config = {"extra": "forbid"}
    fields: list[str] = Field(min_length=1)
    hint: str = ""


class DefaultEntry(_Entry):
    pass


class DenialEntry(_Entry):
    id: str
    group: str = "*"
    carc: str = "*"
    rarc: str = "*"

    @property
    def specificity(self) -> int:
        # As in the routing table: a RARC counts 4, a group 2, a CARC 1.
        return 4 * (self.rarc != "*") + 2 * (self.group != "*") + (self.carc != "*")

    def matches(self, *, group: str, carc: str, rarcs: Iterable[str]) -> bool:
        return (self.group in ("*", group) and self.carc in ("*", carc)
                and (self.rarc == "*" or self.rarc in set(rarcs)))


class RejectionEntry(_Entry):
    id: str
    status: str
    category: str = "*"
    entity: str = "*"
    queue: Queue

    @property
    def specificity(self) -> int:
        return 2 * (self.entity != "*") + (self.category != "*")

    def matches(self, *, category: str, status: str, entity: str | None) -> bool:
        return (self.status == status and self.category in ("*", category)
                and self.entity in ("*", entity))


class FindingEntry(_Entry):
    rule: str


class CorrectionMap(BaseModel):
    default: DefaultEntry
    denials: list[DenialEntry]
    rejections: list[RejectionEntry]
    findings: list[FindingEntry]
    description: str = ""

    def for_denial(self, group: str, carc: str, rarcs: Iterable[str]) -> DenialEntry | None:
        rarcs = list(rarcs)
        found = [(i, e) for i, e in enumerate(self.denials)
                 if e.matches(group=group, carc=carc, rarcs=rarcs)]
        if not found:
            return None
        return min(found, key=lambda pair: (-pair[1].specificity, pair[0]))[1]

    def for_rejection(self, code: str | None) -> RejectionEntry | None:
        parsed = parse_status(code)
        if parsed is None:
            return None
        category, status, entity = parsed
        found = [(i, e) for i, e in enumerate(self.rejections)
                 if e.matches(category=category, status=status, entity=entity)]
        if not found:
            return None
        return min(found, key=lambda pair: (-pair[1].specificity, pair[0]))[1]

    def for_finding(self, rule: str) -> FindingEntry | None:
        return next((e for e in self.findings if e.rule == rule), None)

    def rejection_queue(self, code: str | None) -> Queue:
        entry = self.for_rejection(code)
        return entry.queue if entry is not None else Queue.coder


def parse_status(code: str | None) -> tuple[str, str, str | None] | None:
    """A 277CA answer's code `A7:33` or `A7:562:85` -> (category, status, entity)."""
    if not code:
        return None
    parts = [p.strip().upper() for p in code.split(":")]
    if len(parts) < 2 or not parts[1]:
        return None
    return parts[0], parts[1], (parts[2] or None) if len(parts) > 2 else None


# ---------------------------------------------------------------- loading and checking


def _entry_problems(label: str, entry: _Entry) -> list[str]:
    known = field_paths()
    problems = [f"{label}: field {f!r} is not a field of the claim document"
                for f in entry.fields if f not in known]
    if len(set(entry.fields)) != len(entry.fields):
        problems.append(f"{label}: a field is listed twice")
    return problems


def _denial_problems(label: str, e: DenialEntry) -> list[str]:
    problems = []
    if e.group != "*" and e.group not in GROUP_LABELS:
        problems.append(f"{label}: group {e.group!r} is not CO, PR, OA, PI, CR or '*'")
    if e.carc != "*" and not CARC_PATTERN.match(e.carc):
        problems.append(f"{label}: carc {e.carc!r} is not a CARC code or '*'")
    if e.rarc != "*" and not RARC_PATTERN.match(e.rarc):
        problems.append(f"{label}: rarc {e.rarc!r} is not a RARC code or '*'")
    if e.specificity == 0:
        problems.append(f"{label}: matches every denial; use [default] instead")
    return problems


def _rejection_problems(label: str, e: RejectionEntry) -> list[str]:
    problems = []
    if not _STATUS.match(e.status):
        problems.append(f"{label}: status {e.status!r} is not a 277CA claim status code")
    if e.category != "*" and not _CATEGORY.match(e.category):
        problems.append(f"{label}: category {e.category!r} is not A0-A9 or '*'")
    if e.entity != "*" and not _ENTITY.match(e.entity):
        problems.append(f"{label}: entity {e.entity!r} is not an entity identifier code or '*'")
    if e.queue not in (Queue.coder, Queue.front_desk):
        problems.append(f"{label}: queue {e.queue} does not correct claims (coder or front_desk)")
    return problems


def _rows(data: Mapping[str, Any], key: str, model: type[_Entry],
          problems: list[str]) -> list[Any]:
    rows = data.get(key, [])
    if not isinstance(rows, list):
        problems.append(f"[[{key}]] must be a list of tables")
        return []
    out = []
    for i, raw in enumerate(rows):
        label = f"{key} {i + 1}" + (f" ({raw.get('id') or raw.get('rule')!r})"
                                    if isinstance(raw, Mapping) else "")
        try:
            entry = model.model_validate(raw)
        except ValidationError as exc:
            problems.extend(f"{label}: {'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                            for e in exc.errors())
            continue
        problems.extend(_entry_problems(label, entry))
        if isinstance(entry, DenialEntry):
            problems.extend(_denial_problems(label, entry))
        if isinstance(entry, RejectionEntry):
            problems.extend(_rejection_problems(label, entry))
        out.append(entry)
    return out


def parse_map(data: Mapping[str, Any], *, source: str = "<data>") -> CorrectionMap:
    from reclaim.scrub import RULES  # the registry fills as the rules import

    problems: list[str] = []
    unknown = set(data) - {"description", "default", "denial", "rejection", "finding"}
    if unknown:
        problems.append(f"unknown top-level keys {sorted(unknown)}")
    default: DefaultEntry | None = None
    try:
        default = DefaultEntry.model_validate(data.get("default"))
        problems.extend(_entry_problems("[default]", default))
    except ValidationError as exc:
        problems.extend(f"[default]: {'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                        for e in exc.errors())
    denials = _rows(data, "denial", DenialEntry, problems)
    rejections = _rows(data, "rejection", RejectionEntry, problems)
    findings = _rows(data, "finding", FindingEntry, problems)
    for f in findings:
        if f.rule not in RULES:
            problems.append(f"finding {f.rule!r}: no scrub rule has this name")
    for what, keys in (
        ("denial", [(e.group, e.carc, e.rarc) for e in denials]),
        ("rejection", [(e.status, e.category, e.entity) for e in rejections]),
        ("finding", [(e.rule,) for e in findings]),
    ):
        seen: set[tuple[str, ...]] = set()
        for key in keys:
            if key in seen:
                problems.append(f"{what} {':'.join(key)} is mapped twice")
            seen.add(key)
    ids = [e.id for e in [*denials, *rejections]]
    problems.extend(f"id {i!r} is used twice in one section" for i in
                    {i for i in ids if [e.id for e in denials].count(i) > 1
                     or [e.id for e in rejections].count(i) > 1})
    if problems or default is None:
        raise CorrectionMapError(source, problems or ["[default] is missing"])
    return CorrectionMap(default=default, denials=denials, rejections=rejections,
                         findings=findings, description=str(data.get("description", "")))


def load_map(path: Path) -> CorrectionMap:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CorrectionMapError(str(path), [f"not valid TOML: {exc}"]) from exc
    return parse_map(data, source=str(path))


@cache
def load_default_map() -> CorrectionMap:
    return load_map(DEFAULT_MAP_PATH)


# ---------------------------------------------------------------- what a work item needs


@dataclass
class Focus:
    """What the correction form shows first: the fields (map paths, in order), the payer's (or
    the scrubber's) words, and what to do."""

    fields: list[str] = field(default_factory=list)
    words: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)

    def add(self, paths: Iterable[str], hint: str = "") -> None:
        for path in paths:
            if path not in self.fields:
                self.fields.append(path)
        if hint and hint not in self.hints:
            self.hints.append(hint)


def generic_path(path: str) -> str:
    """A finding's field (`lines[0].modifiers`, `diagnoses[1]`) as a map path."""
    generic = _INDEX.sub("[]", path.strip())
    generic = re.sub(r"\.(\d+)(?=\.|$)", "[]", generic)
    if generic.endswith("[]"):
        generic = generic[:-2]
    return generic


def focus_for(data: Mapping[str, Any], *, correction_map: CorrectionMap | None = None) -> Focus:
    """The focus of a work item from its data: the denials it was opened for, the 277CA
    rejection, or the scrub findings."""
    cmap = correction_map or load_default_map()
    focus = Focus()
    known = field_paths()
    for d in data.get("denials") or []:
        codes = f"{d.get('group')}-{d.get('carc')}" + "".join(
            f"/{r}" for r in d.get("rarcs") or [])
        words = f"{codes}: {d['plain']}" if d.get("plain") else codes
        if words not in focus.words:
            focus.words.append(words)
        denial = cmap.for_denial(str(d.get("group")), str(d.get("carc")), d.get("rarcs") or [])
        chosen: _Entry = denial or cmap.default
        focus.add(chosen.fields, chosen.hint)
    rejection = data.get("rejection")
    if isinstance(rejection, Mapping):
        code = rejection.get("code")
        focus.words.append(" ".join(str(p) for p in (code, rejection.get("message")) if p))
        rejected: _Entry = cmap.for_rejection(code) or cmap.default
        focus.add(rejected.fields, rejected.hint)
    for f in data.get("findings") or []:
        path = generic_path(str(f.get("field") or ""))
        focus.words.append(f"{f.get('field')}: {f.get('message')}")
        focus.add([path] if path in known else [])
        rule = cmap.for_finding(str(f.get("rule") or ""))
        if rule is not None:
            focus.add(rule.fields, rule.hint)
    if not focus.fields:
        focus.add(cmap.default.fields, cmap.default.hint)
    return focus
