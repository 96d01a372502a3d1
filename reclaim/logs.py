"""Structured JSON logs: one object a line, with claim and workflow ids, never PHI.

Only whitelisted `extra` keys are written, so a careless `extra={"patient": ...}` cannot leak a
name into the logs.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime

SAFE_EXTRAS = frozenset({
    "claim_id", "workflow_id", "work_item_id", "file_id", "edi_kind", "count", "task_queue",
    "mail_id", "attempt", "status", "route", "path", "duration_ms",
})


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in SAFE_EXTRAS:
            if key in record.__dict__:
                entry[key] = record.__dict__[key]
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[0].__name__
        return json.dumps(entry, default=str)


def configure(level: str | None = None) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level or os.environ.get("RECLAIM_LOG_LEVEL", "INFO"))
    # Library loggers that would print request details (and so possibly PHI) stay quiet.
    for noisy in ("httpx", "httpcore", "uvicorn.access", "aiosmtpd", "mail.log", "pyx12"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
