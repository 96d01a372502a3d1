"""One settings object for every process (`RECLAIM_` prefix, DESIGN.md)."""

from __future__ import annotations

import re
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, TypeAdapter, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

SEARCH_ATTRIBUTES = {
    "ClaimStatus": "Keyword",
    "PayerId": "Keyword",
    "DenialRoute": "Keyword",
    "AssignedTo": "Keyword",
}

# An interchange id (ISA06/ISA08, 15 characters at most, GS02/GS03 at least 2) and a party's
# name (NM103): letters, digits and a few marks, none of them an X12 delimiter.
X12_ID = r"^[A-Za-z0-9][A-Za-z0-9 .\-]{1,14}$"
X12_NAME = r"^[A-Za-z0-9][A-Za-z0-9 .,&'\-]{0,59}$"


# The work queues (contracts.enums.Queue) an internal SLA can be set for.
WORK_QUEUES = ("coder", "front_desk", "appeal", "manager")
# Internal SLA per queue (RECLAIM_WORK_ITEM_DUE_AFTER): how long a person has for an item of it.
DEFAULT_WORK_ITEM_DUE_AFTER: dict[str, timedelta] = {
    "coder": timedelta(days=2), "front_desk": timedelta(days=1),
    "appeal": timedelta(days=7), "manager": timedelta(days=3),
}
_DURATION = TypeAdapter(timedelta)
_SHORT_DURATION = re.compile(r"^(\d+)([dhms])$")
_SHORT_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def parse_duration(text: str) -> timedelta:
    """A duration as every other setting takes it (ISO-8601 "P2D", "PT1M", or seconds), or the
    short "2d" / "12h" / "30m" / "45s"."""
    short = _SHORT_DURATION.match(text.strip().lower())
    if short:
        return timedelta(**{_SHORT_UNITS[short.group(2)]: int(short.group(1))})
    if re.fullmatch(r"\d+(\.\d+)?", text.strip()):
        return timedelta(seconds=float(text))
    return _DURATION.validate_strings(text.strip())


def parse_queue_durations(text: str) -> dict[str, timedelta]:
    """"coder=2d,front_desk=P1D" -> {queue: duration}; queues not named keep their default."""
    out = dict(DEFAULT_WORK_ITEM_DUE_AFTER)
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        queue, sep, value = part.partition("=")
        queue = queue.strip().lower()
        if not sep or not value.strip():
            raise ValueError(f"{part!r}: write QUEUE=DURATION, e.g. coder=2d")
        if queue not in WORK_QUEUES:
            raise ValueError(f"{queue!r} is not a work queue (one of {', '.join(WORK_QUEUES)})")
        try:
            duration = parse_duration(value)
        except ValueError as exc:
            raise ValueError(f"{queue}: {value.strip()!r} is not a duration (2d, PT12H or "
                             "seconds)") from exc
        if duration <= timedelta(0):
            raise ValueError(f"{queue}: the duration must be more than zero")
        out[queue] = duration
    return out


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RECLAIM_", extra="ignore")

    data_dir: Path = Path("var")
    database_url: str | None = None

    temporal_address: str | None = None  # unset: `reclaim up` starts the embedded dev server
    temporal_port: int = 7233  # of the embedded dev server
    temporal_ui_port: int = 8233
    temporal_namespace: str = "default"
    temporal_tls_cert: Path | None = None
    temporal_tls_key: Path | None = None
    temporal_api_key: str | None = None
    task_queue: str = "claims"
    # The time-skipping test server knows no custom search attributes; production always has them.
    search_attributes: bool = True
    temporal_ui_origin: str = "http://127.0.0.1:8233"

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # API processes (`reclaim api`): one is one GIL; give a busy server one per core.
    api_workers: int = Field(default=1, ge=1, le=64)
    public_url: str | None = None  # links in emails; default http://<api_host>:<api_port>

    # Who our 837s are from and to, as the clearinghouse assigned them: the submitter's id is
    # ISA06, GS02 and NM109 of 1000A; the receiver's ISA08, GS03 and NM109 of 1000B (ISA
    # qualifier ZZ, mutually defined). A 999 answers an 837 only when it comes back between
    # the same two (README, "How an answer finds its claim").
    submitter_id: str = Field(default="RECLAIM", pattern=X12_ID)
    submitter_name: str = Field(default="RECLAIM BILLING", pattern=X12_NAME)
    receiver_id: str = Field(default="SANDBOXCH", pattern=X12_ID)
    receiver_name: str = Field(default="SANDBOX CLEARINGHOUSE", pattern=X12_NAME)

    payer_url: str = "http://127.0.0.1:8001"
    payer_host: str = "127.0.0.1"  # where `reclaim payer` listens (0.0.0.0 in containers)
    payer_port: int | None = None  # default: the port of payer_url
    clearinghouse: str = "sandbox"  # "sandbox" | "mailbox:PATH"
    clearinghouse_poll_seconds: float = Field(default=1.0, gt=0)
    # Threads the worker runs its database work on; unset: 1 on SQLite, 4 on PostgreSQL.
    worker_db_threads: int | None = Field(default=None, ge=1, le=256)
    # The poller's sweep for payer answers stored but not acted on (reclaim.edi.outbox).
    reconcile_grace: timedelta = timedelta(seconds=60)
    reconcile_every: timedelta = timedelta(seconds=30)
    # POST /api/v1/edi signals a file's claims before answering when it holds at most this many
    # signals; a bigger file's are sent by the worker (EdiSignalWorkflow) after the 202.
    edi_inline_signals: int = Field(default=500, ge=0)

    smtp_host: str | None = None  # unset: `reclaim up` starts the local sink on :1025
    smtp_port: int = 1025
    mail_from: str = "reclaim@localhost"

    secret_key: str = "dev-secret-change-me"
    payload_key: str = "dev-payload-key-change-me"
    admin_token: str | None = None
    # Browser sessions (reclaim/sessions.py): ended after this long unused, and this long at most.
    session_idle_minutes: int = Field(default=60, ge=1)
    session_max_hours: int = Field(default=12, ge=1)
    # Login throttling (reclaim/throttle.py, in memory: one API process): failed logins allowed
    # per username and per client address within the window before exponential back-off.
    login_user_failures: int = Field(default=5, ge=1)
    login_address_failures: int = Field(default=20, ge=1)
    login_failure_window: timedelta = timedelta(minutes=15)
    login_backoff_max: timedelta = timedelta(minutes=15)
    demo: bool = True

    # Durations people wait on: ISO-8601 ("P2D", "PT1M") or seconds.
    work_item_remind_after: timedelta = timedelta(days=2)
    work_item_escalate_after: timedelta = timedelta(days=5)
    payer_follow_up_after: timedelta = timedelta(days=30)
    payer_ack_after: timedelta = timedelta(days=2)
    deadline_warning_lead: timedelta = timedelta(days=14)
    # The internal SLA of a work item, per queue, stored on the item when it opens (its
    # `sla_due_at`); the queue is ordered by it. "coder=2d,front_desk=1d,appeal=P7D".
    work_item_due_after: Annotated[dict[str, timedelta], NoDecode] = Field(
        default_factory=lambda: dict(DEFAULT_WORK_ITEM_DUE_AFTER))
    write_off_approval_above: str = "100.00"
    digest_hour: int = Field(default=7, ge=0, le=23)  # UTC hour of the coders' daily digest

    @field_validator("work_item_due_after", mode="before")
    @classmethod
    def _queue_durations(cls, value: object) -> object:
        if isinstance(value, str):
            return parse_queue_durations(value)
        return value

    def work_item_sla(self, queue: str) -> timedelta:
        return self.work_item_due_after.get(queue, DEFAULT_WORK_ITEM_DUE_AFTER["coder"])

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'reclaim.db').resolve()}"

    @property
    def resolved_worker_db_threads(self) -> int:
        """SQLite writes one transaction at a time: a second thread only waits for the write
        lock and takes turns with the first for the GIL (bench/README.md, throughput)."""
        if self.worker_db_threads is not None:
            return self.worker_db_threads
        return 1 if self.resolved_database_url.startswith("sqlite") else 4

    @property
    def resolved_temporal_address(self) -> str:
        return self.temporal_address or f"127.0.0.1:{self.temporal_port}"

    @property
    def resolved_public_url(self) -> str:
        return self.public_url or f"http://{self.api_host}:{self.api_port}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
