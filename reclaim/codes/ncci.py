"""NCCI procedure-to-procedure (PTP) edits and medically unlikely edits (MUE), read from CMS's
published quarterly files and stored in the database.

PTP file (tab separated text, or CSV): column 1, column 2, an optional "in existence prior to 1996"
flag, effective date, deletion date (`*` when none), modifier indicator (0 no modifier allowed,
1 an NCCI-associated modifier allowed, 9 not applicable), rationale. MUE file: HCPCS/CPT code, MUE
value, MUE adjudication indicator ("2 Date of Service Edit: Policy"), rationale. Both start with
copyright and header lines, which are skipped: a data line is one that starts with a code.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel
from sqlalchemy import UniqueConstraint
from sqlmodel import Field, Session, SQLModel, col, select

from reclaim.db import conflict_insert

_CODE = re.compile(r"^(?:[0-9]{4}[0-9A-Z]|[A-V][0-9]{4})$")
_DATE_FORMATS = ("%Y%m%d", "%m/%d/%Y", "%Y-%m-%d")
_BATCH = 1000


class NcciEdit(SQLModel, table=True):
    __tablename__ = "ncci_edit"
    __table_args__ = (UniqueConstraint("column1", "column2", "effective_date"),)

    id: int | None = Field(default=None, primary_key=True)
    column1: str = Field(max_length=5, index=True)
    column2: str = Field(max_length=5, index=True)
    effective_date: date
    deletion_date: date | None = None
    modifier_indicator: int = Field(ge=0, le=9)
    rationale: str = Field(default="", max_length=200)

    def active_on(self, on: date) -> bool:
        # A deletion date is the first day the edit no longer applies.
        return self.effective_date <= on and (self.deletion_date is None or on < self.deletion_date)


class MueLimit(SQLModel, table=True):
    __tablename__ = "mue_limit"

    code: str = Field(primary_key=True, max_length=5)
    max_units: int = Field(ge=0)
    adjudication_indicator: int = Field(ge=1, le=3)  # 1 per line, 2/3 per date of service
    rationale: str = Field(default="", max_length=200)


class NcciFileError(ValueError):
    """A CMS file line that starts with a code but cannot be read; says which line and why."""

    def __init__(self, path: Path, line: int, reason: str) -> None:
        super().__init__(f"{path}, line {line}: {reason}")


class PtpRow(BaseModel):
    column1: str
    column2: str
    effective_date: date
    deletion_date: date | None
    modifier_indicator: int
    rationale: str


class MueRow(BaseModel):
    code: str
    max_units: int
    adjudication_indicator: int
    rationale: str


def parse_ptp(path: Path) -> Iterator[PtpRow]:
    for number, fields in _data_lines(path):
        if len(fields) < 2 or not _CODE.match(fields[1]):
            raise NcciFileError(path, number, f"column 2 {fields[1:2]} is not a CPT/HCPCS code")
        rest = fields[2:]
        start = next(
            (i for i, value in enumerate(rest) if re.fullmatch(r"[0-9/-]{8,10}", value)), None
        )
        if start is None or len(rest) < start + 3:
            raise NcciFileError(path, number, "expected effective date, deletion date, modifier")
        effective, deletion, indicator = rest[start : start + 3]
        if indicator not in ("0", "1", "9"):
            raise NcciFileError(path, number, f"modifier indicator {indicator!r} is not 0, 1 or 9")
        yield PtpRow(
            column1=fields[0],
            column2=fields[1],
            effective_date=_date(path, number, effective),
            deletion_date=None if deletion in ("", "*") else _date(path, number, deletion),
            modifier_indicator=int(indicator),
            rationale=" ".join(rest[start + 3 :])[:200],
        )


def parse_mue(path: Path) -> Iterator[MueRow]:
    for number, fields in _data_lines(path):
        if len(fields) < 3 or not fields[1].isdigit() or fields[2][:1] not in ("1", "2", "3"):
            raise NcciFileError(
                path, number, "expected code, MUE value, adjudication indicator 1-3"
            )
        yield MueRow(
            code=fields[0],
            max_units=int(fields[1]),
            adjudication_indicator=int(fields[2][0]),
            rationale=" ".join(fields[3:])[:200],
        )


def import_ncci(*, session: Session, path: Path) -> int:
    """Upsert the PTP edits of a CMS file; returns the number of edits read. Running it again with
    the same file changes nothing. The caller commits."""
    keys = ("column1", "column2", "effective_date")
    return _upsert(session, NcciEdit, keys, (row.model_dump() for row in parse_ptp(path)))


def import_mue(*, session: Session, path: Path) -> int:
    """Upsert the MUE limits of a CMS file; returns the number of codes read. The caller commits."""
    return _upsert(session, MueLimit, ("code",), (row.model_dump() for row in parse_mue(path)))


class CodeEdits(Protocol):
    def ptp(self, col1: str, col2: str, on: date) -> NcciEdit | None: ...

    def mue(self, code: str) -> int | None: ...


class InMemoryCodeEdits:
    """Edits held in dictionaries: for tests, the demo and the benchmark."""

    def __init__(
        self, *, ptp_edits: Iterable[NcciEdit] = (), mue_limits: Iterable[MueLimit] = ()
    ) -> None:
        self._pairs: dict[tuple[str, str], list[NcciEdit]] = {}
        for edit in ptp_edits:
            self._pairs.setdefault((edit.column1, edit.column2), []).append(edit)
        for edits in self._pairs.values():
            edits.sort(key=lambda e: e.effective_date, reverse=True)
        self._mue = {limit.code: limit.max_units for limit in mue_limits}

    @classmethod
    def from_files(cls, *, ptp_path: Path, mue_path: Path) -> InMemoryCodeEdits:
        return cls(
            ptp_edits=[NcciEdit(**row.model_dump()) for row in parse_ptp(ptp_path)],
            mue_limits=[MueLimit(**row.model_dump()) for row in parse_mue(mue_path)],
        )

    def ptp(self, col1: str, col2: str, on: date) -> NcciEdit | None:
        edits = self._pairs.get((col1, col2))
        if not edits:
            return None
        return next((edit for edit in edits if edit.active_on(on)), None)

    def mue(self, code: str) -> int | None:
        return self._mue.get(code)


class SqlCodeEdits:
    """Edits read from the database tables, remembered for the life of this object."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._ptp: dict[tuple[str, str, date], NcciEdit | None] = {}
        self._mue: dict[str, int | None] = {}

    def ptp(self, col1: str, col2: str, on: date) -> NcciEdit | None:
        key = (col1, col2, on)
        if key not in self._ptp:
            query = (
                select(NcciEdit)
                .where(NcciEdit.column1 == col1, NcciEdit.column2 == col2)
                .where(NcciEdit.effective_date <= on)
                .where(col(NcciEdit.deletion_date).is_(None) | (col(NcciEdit.deletion_date) > on))
                .order_by(col(NcciEdit.effective_date).desc())
            )
            self._ptp[key] = self._session.exec(query).first()
        return self._ptp[key]

    def mue(self, code: str) -> int | None:
        if code not in self._mue:
            limit = self._session.get(MueLimit, code)
            self._mue[code] = limit.max_units if limit else None
        return self._mue[code]


def sample_files() -> tuple[Path, Path]:
    """The small PTP and MUE fixture files shipped for tests and the demo."""
    data = resources.files("reclaim.codes").joinpath("data")
    return Path(str(data / "ncci_ptp_sample.txt")), Path(str(data / "mue_sample.txt"))


@cache
def sample_edits() -> InMemoryCodeEdits:
    ptp_path, mue_path = sample_files()
    return InMemoryCodeEdits.from_files(ptp_path=ptp_path, mue_path=mue_path)


def _data_lines(path: Path) -> Iterator[tuple[int, list[str]]]:
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        for number, line in enumerate(handle, start=1):
            fields = _split(line.rstrip("\r\n"))
            if fields and _CODE.match(fields[0]):
                yield number, fields


def _split(line: str) -> list[str]:
    if "\t" in line:
        return [field.strip() for field in line.split("\t")]
    return [field.strip() for field in next(csv.reader([line]), [])]


def _date(path: Path, line: int, value: str) -> date:
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise NcciFileError(path, line, f"{value!r} is not a date (YYYYMMDD)")


def _upsert(
    session: Session, model: type[SQLModel], keys: tuple[str, ...], rows: Iterable[dict[str, Any]]
) -> int:
    count = 0
    batch: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        count += 1
        batch[tuple(row[k] for k in keys)] = row  # a file repeating a key: the last line wins
        if len(batch) >= _BATCH:
            _write_batch(session, model, keys, list(batch.values()))
            batch.clear()
    if batch:
        _write_batch(session, model, keys, list(batch.values()))
    session.flush()
    return count


def _write_batch(
    session: Session, model: type[SQLModel], keys: tuple[str, ...], rows: list[dict[str, Any]]
) -> None:
    statement = conflict_insert(session, model).values(rows)
    updates = {name: statement.excluded[name] for name in rows[0] if name not in keys}
    session.execute(statement.on_conflict_do_update(index_elements=list(keys), set_=updates))
