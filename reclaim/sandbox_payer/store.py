"""The payer's state in SQLite (data_dir/payer.db, WAL), so a restarted payer still releases what
it owes: received 837 files, one submission row per claim, pending outputs with their release
time, and released 277CA/835 files numbered by a monotonically increasing `seq`.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

log = logging.getLogger("reclaim.sandbox_payer")
OutputType = Literal["277CA", "835"]
SubmissionStatus = Literal["accepted", "rejected", "rejected_999"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS received_files (
    file_id TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
    received_at TEXT NOT NULL,
    content BLOB NOT NULL,
    answer TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS submissions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    file_id TEXT NOT NULL REFERENCES received_files(file_id),
    patient_control_number TEXT NOT NULL,
    frequency_code TEXT NOT NULL,
    original_claim_number TEXT,
    payer_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    total_charge TEXT NOT NULL,
    received_at TEXT NOT NULL,
    payer_claim_control_number TEXT UNIQUE,
    status TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS submissions_pcn ON submissions(patient_control_number);
CREATE TABLE IF NOT EXISTS pending_outputs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    submission_id INTEGER NOT NULL REFERENCES submissions(id),
    type TEXT NOT NULL,
    batch_key TEXT NOT NULL,
    release_at REAL NOT NULL,
    item TEXT NOT NULL,
    released_seq INTEGER
);
CREATE INDEX IF NOT EXISTS pending_due ON pending_outputs(released_seq, release_at);
CREATE TABLE IF NOT EXISTS released_files (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    file_id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    payer_id TEXT NOT NULL,
    name TEXT NOT NULL,
    content TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""


class NewSubmission(BaseModel):
    patient_control_number: str
    frequency_code: str
    original_claim_number: str | None = None  # REF*F8 as sent
    payer_id: str
    member_id: str
    total_charge: Decimal


class Submission(NewSubmission):
    id: int
    file_id: str
    received_at: datetime
    payer_claim_control_number: str | None = None  # assigned by the payer; None when rejected
    status: SubmissionStatus


class PendingOutput(BaseModel):
    id: int
    submission_id: int
    type: OutputType
    batch_key: str
    release_at: float
    item: dict[str, Any]


class ReleasedFile(BaseModel):
    seq: int
    file_id: str
    type: OutputType
    payer_id: str
    name: str
    content: str
    created_at: datetime


class NewFile(BaseModel):
    file_id: str
    type: OutputType
    payer_id: str
    name: str
    content: str
    created_at: datetime


class PayerStore:
    """One connection guarded by a lock: the payer is one process, and writes are short."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Everything inside commits together or not at all."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # ------------------------------------------------------------ received files

    def answer_for(self, *, sha256: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT answer FROM received_files WHERE sha256 = ?", (sha256,)
            ).fetchone()
        return None if row is None else json.loads(row["answer"])

    @staticmethod
    def add_received_file(
        db: sqlite3.Connection, *, file_id: str, sha256: str, content: bytes, received_at: datetime
    ) -> None:
        db.execute(
            "INSERT INTO received_files (file_id, sha256, received_at, content, answer)"
            " VALUES (?, ?, ?, ?, '{}')",
            (file_id, sha256, received_at.isoformat(), content),
        )

    @staticmethod
    def set_answer(db: sqlite3.Connection, *, file_id: str, answer: dict[str, Any]) -> None:
        db.execute(
            "UPDATE received_files SET answer = ? WHERE file_id = ?",
            (json.dumps(answer), file_id),
        )

    @staticmethod
    def next_counter(db: sqlite3.Connection, name: str) -> int:
        db.execute(
            "INSERT INTO counters (name, value) VALUES (?, 1)"
            " ON CONFLICT(name) DO UPDATE SET value = value + 1",
            (name,),
        )
        return int(db.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()[0])

    # ------------------------------------------------------------ submissions

    @staticmethod
    def add_submission(
        db: sqlite3.Connection,
        *,
        claim: NewSubmission,
        file_id: str,
        received_at: datetime,
        status: SubmissionStatus,
    ) -> int:
        cursor = db.execute(
            "INSERT INTO submissions (file_id, patient_control_number, frequency_code,"
            " original_claim_number, payer_id, member_id, total_charge, received_at, status)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                file_id,
                claim.patient_control_number,
                claim.frequency_code,
                claim.original_claim_number,
                claim.payer_id,
                claim.member_id,
                str(claim.total_charge),
                received_at.isoformat(),
                status,
            ),
        )
        return int(cursor.lastrowid or 0)

    @staticmethod
    def settle_submission(
        db: sqlite3.Connection,
        *,
        submission_id: int,
        payer_claim_control_number: str | None,
        status: SubmissionStatus,
    ) -> None:
        db.execute(
            "UPDATE submissions SET payer_claim_control_number = ?, status = ? WHERE id = ?",
            (payer_claim_control_number, status, submission_id),
        )

    def submissions(self, *, patient_control_number: str | None = None) -> list[Submission]:
        query = "SELECT * FROM submissions"
        params: tuple[str, ...] = ()
        if patient_control_number is not None:
            query += " WHERE patient_control_number = ?"
            params = (patient_control_number,)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY id", params).fetchall()
        return [Submission.model_validate(dict(row)) for row in rows]

    # ------------------------------------------------------------ outputs

    @staticmethod
    def add_pending(
        db: sqlite3.Connection,
        *,
        submission_id: int,
        type: OutputType,
        batch_key: str,
        release_at: float,
        item: BaseModel,
    ) -> None:
        db.execute(
            "INSERT INTO pending_outputs (submission_id, type, batch_key, release_at, item)"
            " VALUES (?, ?, ?, ?, ?)",
            (submission_id, type, batch_key, release_at, item.model_dump_json()),
        )

    def pending_count(self) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT COUNT(*) FROM pending_outputs WHERE released_seq IS NULL"
            ).fetchone()
        return int(row[0])

    def release_due(
        self,
        *,
        now: float,
        build: Callable[[sqlite3.Connection, OutputType, str, list[PendingOutput]], NewFile],
    ) -> list[int]:
        """Turn every due output into files, one per (type, batch key); the seqs released.

        277CA files are numbered before 835s of the same tick, so a reader sees the
        acknowledgment of a claim before its remittance.
        """
        with self.transaction() as db:
            rows = db.execute(
                "SELECT * FROM pending_outputs WHERE released_seq IS NULL AND release_at <= ?"
                " ORDER BY CASE type WHEN '277CA' THEN 0 ELSE 1 END, id",
                (now,),
            ).fetchall()
            batches: dict[tuple[OutputType, str], list[PendingOutput]] = {}
            for row in rows:
                pending = PendingOutput.model_validate(
                    {**dict(row), "item": json.loads(row["item"])}
                )
                batches.setdefault((pending.type, pending.batch_key), []).append(pending)
            seqs = []
            for (kind, key), items in batches.items():
                # A batch that cannot be written stays pending without holding back the others.
                db.execute("SAVEPOINT batch")
                try:
                    seq = self._insert_file(db, build(db, kind, key, items))
                except ValueError:
                    db.execute("ROLLBACK TO batch")
                    db.execute("RELEASE batch")
                    log.exception("sandbox payer: cannot write a %s for %s", kind, key)
                    continue
                db.executemany(
                    "UPDATE pending_outputs SET released_seq = ? WHERE id = ?",
                    [(seq, item.id) for item in items],
                )
                db.execute("RELEASE batch")
                seqs.append(seq)
        return seqs

    @staticmethod
    def _insert_file(db: sqlite3.Connection, file: NewFile) -> int:
        cursor = db.execute(
            "INSERT INTO released_files (file_id, type, payer_id, name, content, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                file.file_id,
                file.type,
                file.payer_id,
                file.name,
                file.content,
                file.created_at.isoformat(),
            ),
        )
        return int(cursor.lastrowid or 0)

    def released_files(self, *, after: int, limit: int) -> list[ReleasedFile]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM released_files WHERE seq > ? ORDER BY seq LIMIT ?", (after, limit)
            ).fetchall()
        return [ReleasedFile.model_validate(dict(row)) for row in rows]
