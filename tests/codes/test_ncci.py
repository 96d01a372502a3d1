"""NCCI PTP edits and MUE limits: CMS file layouts, import into SQLite, both CodeEdits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, SQLModel, create_engine, select

from reclaim.codes.ncci import (
    CodeEdits,
    InMemoryCodeEdits,
    MueLimit,
    NcciEdit,
    NcciFileError,
    SqlCodeEdits,
    import_mue,
    import_ncci,
    parse_mue,
    parse_ptp,
    sample_edits,
    sample_files,
)

PTP, MUE = sample_files()
DAY = date(2026, 11, 2)


@pytest.fixture
def session() -> Iterator[Session]:
    engine = create_engine("sqlite://")
    tables = [NcciEdit.__table__, MueLimit.__table__]  # type: ignore[attr-defined]
    SQLModel.metadata.create_all(engine, tables=tables)
    with Session(engine) as session:
        yield session
    engine.dispose()


def test_sample_ptp_file_skips_the_header_lines() -> None:
    rows = list(parse_ptp(PTP))
    assert len(rows) == 13
    first = rows[0]
    assert (first.column1, first.column2, first.modifier_indicator) == ("11042", "97597", 1)
    assert first.effective_date == date(2015, 1, 1)
    assert first.deletion_date is None
    deleted = next(r for r in rows if r.column1 == "29881")
    assert deleted.deletion_date == date(2010, 1, 1)
    prior = next(r for r in rows if r.column1 == "36415")
    assert prior.effective_date == date(1996, 1, 1)


def test_sample_mue_file() -> None:
    rows = {row.code: row for row in parse_mue(MUE)}
    assert len(rows) == 11
    assert (rows["11042"].max_units, rows["11042"].adjudication_indicator) == (1, 2)
    assert rows["J1100"].max_units == 30
    assert rows["J1100"].rationale == "Clinical: Data"


def test_ptp_as_csv_without_the_1996_column(tmp_path: Path) -> None:
    path = tmp_path / "ptp.csv"
    path.write_text(
        "CPT codes and descriptions only are copyright 2026 American Medical Association.\n"
        "Column 1,Column 2,Effective Date,Deletion Date,Modifier,Rationale\n"
        "93000,93005,20150101,*,0,Standards of medical / surgical practice\n"
        "J1100,96372,01/01/2020,,1,\n"
    )
    rows = list(parse_ptp(path))
    assert [(r.column1, r.column2, r.modifier_indicator) for r in rows] == [
        ("93000", "93005", 0),
        ("J1100", "96372", 1),
    ]
    assert rows[1].effective_date == date(2020, 1, 1)
    assert rows[1].deletion_date is None


@pytest.mark.parametrize(
    ("line", "complaint"),
    [
        ("11042\t97597\t\t20150101\t*\t2\tx", "modifier indicator '2'"),
        ("11042\t97597\t\t2015-13-45\t*\t1\tx", "is not a date"),
        ("11042\tXX\t\t20150101\t*\t1\tx", "column 2"),
        ("11042\t97597\t\t20150101", "expected effective date"),
    ],
)
def test_bad_ptp_lines_name_the_line(tmp_path: Path, line: str, complaint: str) -> None:
    path = tmp_path / "ptp.txt"
    path.write_text(f"header\n{line}\n")
    with pytest.raises(NcciFileError, match=rf"ptp.txt, line 2: .*{complaint}"):
        list(parse_ptp(path))


def test_bad_mue_line_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "mue.csv"
    path.write_text("HCPCS/CPT Code,MUE\n11042,one,2 Date of Service Edit: Policy,x\n")
    with pytest.raises(NcciFileError, match="mue.csv, line 2"):
        list(parse_mue(path))


def test_import_is_idempotent(session: Session) -> None:
    assert import_ncci(session=session, path=PTP) == 13
    assert import_mue(session=session, path=MUE) == 11
    assert import_ncci(session=session, path=PTP) == 13
    assert import_mue(session=session, path=MUE) == 11
    session.commit()
    assert session.exec(select(func.count()).select_from(NcciEdit)).one() == 13
    assert session.exec(select(func.count()).select_from(MueLimit)).one() == 11


def test_import_updates_changed_rows(session: Session, tmp_path: Path) -> None:
    import_mue(session=session, path=MUE)
    import_ncci(session=session, path=PTP)
    changed_mue = tmp_path / "mue.csv"
    changed_mue.write_text("11042,3,3 Date of Service Edit: Clinical,Changed\n")
    changed_ptp = tmp_path / "ptp.txt"
    changed_ptp.write_text("11042\t97597\t\t20150101\t20260101\t1\tDeleted\n")
    import_mue(session=session, path=changed_mue)
    import_ncci(session=session, path=changed_ptp)
    session.commit()
    session.expire_all()
    limit = session.get(MueLimit, "11042")
    assert limit is not None
    assert (limit.max_units, limit.adjudication_indicator) == (3, 3)
    edits = SqlCodeEdits(session)
    assert edits.ptp("11042", "97597", date(2025, 12, 31)) is not None
    assert edits.ptp("11042", "97597", date(2026, 1, 1)) is None


@pytest.mark.parametrize(
    ("col1", "col2", "on", "indicator"),
    [
        ("11042", "97597", DAY, 1),
        ("97597", "11042", DAY, None),  # pairs are ordered: column 1, then column 2
        ("11042", "99214", DAY, 1),
        ("11042", "99214", date(2023, 12, 31), None),  # before the edit took effect
        ("20610", "20604", DAY, 0),
        ("29881", "29880", DAY, None),  # deleted in 2010
        ("29881", "29880", date(2009, 6, 1), 1),
        ("99214", "99213", DAY, None),
    ],
)
def test_both_code_edits_agree(
    session: Session, col1: str, col2: str, on: date, indicator: int | None
) -> None:
    import_ncci(session=session, path=PTP)
    import_mue(session=session, path=MUE)
    implementations: list[CodeEdits] = [sample_edits(), SqlCodeEdits(session)]
    for edits in implementations:
        edit = edits.ptp(col1, col2, on)
        assert (None if edit is None else edit.modifier_indicator) == indicator
        assert edits.mue("11042") == 1
        assert edits.mue("99999") is None


def test_in_memory_edits_from_objects() -> None:
    edits = InMemoryCodeEdits(
        ptp_edits=[
            NcciEdit(
                column1="A", column2="B", effective_date=date(2020, 1, 1), modifier_indicator=1
            ),
            NcciEdit(
                column1="A", column2="B", effective_date=date(2024, 1, 1), modifier_indicator=0
            ),
        ],
        mue_limits=[MueLimit(code="A", max_units=2, adjudication_indicator=1)],
    )
    newest = edits.ptp("A", "B", DAY)
    assert newest is not None
    assert newest.modifier_indicator == 0
    older = edits.ptp("A", "B", date(2022, 1, 1))
    assert older is not None
    assert older.modifier_indicator == 1
    assert edits.mue("A") == 2
