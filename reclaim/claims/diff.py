"""What a correction changed: two claim documents compared field by field (paths as the
scrubber's findings name them: `patient.member_id`, `lines[0].modifiers`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from reclaim.claims.fields import label_for

_INDEX = re.compile(r"\[\d+\]")
_LINE = re.compile(r"^lines\[(\d+)\]\.")


def _flatten(value: Any, prefix: str, out: dict[str, str]) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            _flatten(item, f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(value, list) and any(isinstance(v, Mapping) for v in value):
        for i, item in enumerate(value):
            _flatten(item, f"{prefix}[{i}]", out)
    elif isinstance(value, list):
        out[prefix] = ", ".join(str(v) for v in value)
    else:
        out[prefix] = "" if value is None else str(value)


def flatten(document: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    _flatten(document, "", out)
    return out


def _same(a: str, b: str) -> bool:
    if a == b:
        return True
    try:
        return Decimal(a) == Decimal(b)  # 150 and 150.00 are one charge
    except (InvalidOperation, ValueError):
        return False


def _label(path: str) -> str:
    line = _LINE.match(path)
    label = label_for(_INDEX.sub("[]", path))
    return f"Line {int(line.group(1)) + 1} {label.lower()}" if line else label


def document_diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[dict[str, str]]:
    """Each field whose value differs: `{field, label, before, after}`, in document order."""
    old, new = flatten(before), flatten(after)
    keys = list(new) + [k for k in old if k not in new]
    return [{"field": key, "label": _label(key), "before": old.get(key, ""),
             "after": new.get(key, "")}
            for key in keys if not _same(old.get(key, ""), new.get(key, ""))]
