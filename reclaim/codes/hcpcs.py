"""HCPCS Level II (public domain, CMS): a letter A-V then 4 digits (J1100, E0110, G0439).

Reclaim ships a short list of common codes (data/hcpcs_common.csv). With CMS's full annual file
loaded (`load_file`), a well-formed code missing from it is reported as unknown.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

_HCPCS = re.compile(r"^[A-V][0-9]{4}$")


def is_hcpcs(code: str) -> bool:
    return bool(_HCPCS.match(code))


@dataclass(frozen=True, slots=True)
class HcpcsCodeSet:
    labels: dict[str, str] = field(default_factory=dict)
    complete: bool = False  # True only for a full CMS file: then an unknown code is an error

    def label(self, code: str) -> str | None:
        return self.labels.get(code)

    def knows(self, code: str) -> bool | None:
        """True/False when the list can answer, None when it is only a partial list."""
        if code in self.labels:
            return True
        return False if self.complete else None


@cache
def common_codes() -> HcpcsCodeSet:
    text = resources.files("reclaim.codes").joinpath("data/hcpcs_common.csv").read_text("utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return HcpcsCodeSet(labels={row["code"]: row["label"] for row in rows})


def load_file(path: Path) -> HcpcsCodeSet:
    """Read CMS's HCPCS file: the fixed-width text record (code in columns 1-5, the short
    description at 92-119) or a CSV/TSV export whose first column is the code. Lines that do not
    start with a code (headers, notes) are skipped; a file with no code at all is refused."""
    labels: dict[str, str] = {}
    for line in path.read_text("utf-8", errors="replace").splitlines():
        code = line[:5]
        if not _HCPCS.match(code):
            continue
        labels.setdefault(code, _description(line))
    if not labels:
        raise ValueError(f"{path}: no HCPCS code (a letter A-V then 4 digits) at a line start")
    return HcpcsCodeSet(labels=labels, complete=True)


def _description(line: str) -> str:
    for sep in ("\t", ","):
        if line[5:6] == sep:
            parts = next(csv.reader([line], delimiter=sep))
            return parts[1].strip() if len(parts) > 1 else ""
    return (line[91:119] or line[11:91]).strip()
