"""Per-payer scrubbing rules from payers.toml (a file a manager can read and edit)."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import reclaim.scrub.rules  # noqa: F401  (registers every rule, so edit names can be checked)
from reclaim.scrub.models import PayerRules
from reclaim.scrub.registry import RULES

_PAYER_KEYS = {"skip_edits"}


def load_payer_rules(payer_id: str, *, path: Path | None = None) -> PayerRules:
    """The rules for a payer id; a payer the file does not list gets the [default] section."""
    default, payers = _read(str(path) if path else None)
    section = payers.get(payer_id, {})
    merged = {**default, **{k: v for k, v in section.items() if k not in _PAYER_KEYS}}
    skipped = set(section.get("skip_edits", ()))
    merged["edits"] = tuple(edit for edit in merged["edits"] if edit not in skipped)
    merged["rejected_modifiers"] = {
        **default.get("rejected_modifiers", {}),
        **section.get("rejected_modifiers", {}),
    }
    return PayerRules(payer_id=payer_id, **merged)


def known_payers(*, path: Path | None = None) -> list[str]:
    return sorted(_read(str(path) if path else None)[1])


@cache
def _read(path: str | None) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    if path is None:
        text = resources.files("reclaim.scrub").joinpath("payers.toml").read_text("utf-8")
    else:
        text = Path(path).read_text("utf-8")
    where = path or "reclaim/scrub/payers.toml"
    data = tomllib.loads(text)
    if "default" not in data:
        raise ValueError(f"{where}: a [default] section is required")
    payers: dict[str, dict[str, Any]] = data.get("payers", {})
    for name, section in {"default": data["default"], **payers}.items():
        _check_edits(where, name, section)
    return data["default"], payers


def _check_edits(where: str, name: str, section: dict[str, Any]) -> None:
    for key in ("edits", "skip_edits", "warn_only"):
        unknown = set(section.get(key, ())) - RULES.keys()
        if unknown:
            raise ValueError(f"{where} [{name}] {key}: unknown edits {sorted(unknown)}")
