"""Strict validation of an X12 file against pyx12's own 5010 implementation-guide maps.

Used by the tests (every file Reclaim or the sandbox payer writes must pass) and by anyone who wants
the strict verdict on a file; the readers stay tolerant and report warnings instead.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pyx12.errors
import pyx12.params
import pyx12.x12n_document


@contextmanager
def _quiet_pyx12() -> Iterator[None]:
    # pyx12 logs every error it records; we return them instead, so silence its logger tree.
    logger = logging.getLogger("pyx12")
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(level)


def validate_x12(text: str) -> list[str]:
    """pyx12's error messages for the file, each saying where; [] when the file is valid."""
    report = io.StringIO()
    try:
        with _quiet_pyx12():
            valid = pyx12.x12n_document.x12n_document(
                param=pyx12.params.params(),
                src_file=io.StringIO(text),
                fd_997=None,
                fd_html=None,
                fd_json=report,
            )
    except (pyx12.errors.X12Error, pyx12.errors.EngineError) as exc:
        return [f"pyx12 could not read the file: {exc}"]
    if not report.getvalue():
        return [] if valid else ["pyx12: not an X12 data file"]
    errors = list(_messages(json.loads(report.getvalue())))
    if not valid and not errors:
        errors.append("pyx12 rejected the file without a detailed error")
    return errors


def _messages(doc: dict[str, Any]) -> Iterator[str]:
    for isa in doc["interchanges"]:
        yield from _listed(isa["errors"], "ISA")
        for gs in isa["groups"]:
            yield from _listed(gs["errors"], f"GS {gs['gs_control_num']}")
            for st in gs["transactions"]:
                where = f"ST {st['trn_set_control_num']}"
                yield from _listed(st["errors"], where)
                for seg in st["segments"]:
                    yield from _segment_messages(seg)


def _listed(errors: list[dict[str, Any]], where: str) -> Iterator[str]:
    for err in errors:
        yield f"{where}: {err['err_str']} (code {err['err_cde']})"


def _segment_messages(seg: dict[str, Any]) -> Iterator[str]:
    where = f"segment {seg['seg_count']} {seg['seg_id']} (line {seg['cur_line']})"
    for err in seg["errors"]:
        yield f"{where}: {err['err_str']} (code {err['err_cde']}, value {err['err_val']!r})"
    for ele in seg["elements"]:
        position = f"{seg['seg_id']}{int(ele['ele_pos']):02d}"
        if ele["subele_pos"]:
            position += f"-{ele['subele_pos']}"
        for err in ele["errors"]:
            yield (
                f"{where} {position}: {err['err_str']} "
                f"(code {err['err_cde']}, value {err['err_val']!r})"
            )
