"""The denial routing table as managers edit it: every save is a new version (the history).

The newest version is the table in force; with no version saved, the shipped default
(`reclaim/denials/routing_table.toml`) is. A version is stored only after
`reclaim.denials.routing.parse_table` accepts it, so a bad edit never reaches the router.
"""

from __future__ import annotations

import json
import tomllib
from datetime import datetime
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import Column, Text
from sqlmodel import Field, Session, SQLModel, col, select

from reclaim.denials.routing import DEFAULT_TABLE_PATH, RoutingTable, RoutingTableError, parse_table
from reclaim.models import utcnow

RULE_FIELDS: tuple[str, ...] = (
    "id", "group", "carc", "rarc", "route", "auto_fix_kind", "requires", "fallback", "priority",
    "note",
)


class RoutingVersion(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    author: str = Field(max_length=80)
    note: str = Field(default="", max_length=500)
    table_toml: str = Field(sa_column=Column(Text, nullable=False))


def latest_version(*, session: Session) -> RoutingVersion | None:
    return session.exec(
        select(RoutingVersion).order_by(col(RoutingVersion.id).desc()).limit(1)
    ).first()


def current_toml(*, session: Session) -> str:
    return _toml_of(latest_version(session=session))


def _toml_of(version: RoutingVersion | None) -> str:
    return version.table_toml if version else _default_toml()


@cache
def _default_toml() -> str:
    return DEFAULT_TABLE_PATH.read_text(encoding="utf-8")


def parse_toml(text: str, *, source: str) -> RoutingTable:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RoutingTableError(source, [f"not valid TOML: {exc}"]) from exc
    return parse_table(data, source=source)


def current_table(*, session: Session) -> RoutingTable:
    """The routing table in force (what the router should read). Parsed once per version and
    process: every remittance posted reads it. Callers must not change the table they get."""
    version = latest_version(session=session)
    source = f"version {version.id}" if version else str(DEFAULT_TABLE_PATH)
    return _parsed(_toml_of(version), source)


@lru_cache(maxsize=16)
def _parsed(text: str, source: str) -> RoutingTable:
    return parse_toml(text, source=source)


def save_version(*, session: Session, author: str, note: str, table_toml: str) -> RoutingVersion:
    """Validate and store a new version; raises RoutingTableError listing every problem."""
    parse_toml(table_toml, source="the edited table")
    version = RoutingVersion(author=author, note=note[:500], table_toml=table_toml)
    session.add(version)
    session.flush()
    return version


def history(*, session: Session, limit: int = 50) -> list[RoutingVersion]:
    return list(
        session.exec(
            select(RoutingVersion).order_by(col(RoutingVersion.id).desc()).limit(limit)
        ).all()
    )


def get_version(*, session: Session, version_id: int) -> RoutingVersion | None:
    return session.get(RoutingVersion, version_id)


def table_rows(table_toml: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The table's header (default_route, description) and its rows, for the editor."""
    data = tomllib.loads(table_toml)
    header = {"default_route": data.get("default_route", ""),
              "description": data.get("description", "")}
    return header, [dict(r) for r in data.get("rule", [])]


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    # A JSON string with non-ASCII kept as is is a valid TOML basic string.
    return json.dumps(str(value), ensure_ascii=False)


def rows_to_toml(*, default_route: str, description: str, rows: list[dict[str, Any]]) -> str:
    """Write the editor's rows back as a routing table file (empty fields left out)."""
    lines = [f"description = {_toml_value(description)}",
             f"default_route = {_toml_value(default_route)}", ""]
    for row in rows:
        lines.append("[[rule]]")
        for name in RULE_FIELDS:
            value = row.get(name)
            if value is None or value == "":
                continue
            lines.append(f"{name} = {_toml_value(value)}")
        lines.append("")
    return "\n".join(lines)
