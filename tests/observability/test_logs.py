"""The JSON log formatter writes whitelisted extras only, so PHI passed by mistake as an extra
(or hidden in an exception message) never reaches the logs."""

from __future__ import annotations

import json
import logging
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from reclaim.logs import SAFE_EXTRAS, JsonFormatter

BASE_KEYS = {"ts", "level", "logger", "msg", "error"}
RESERVED = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
PHI = {"patient": "Ann Lee", "first_name": "Ann", "last_name": "Lee",
       "member_id": "W123456789", "birth_date": "1960-04-02",
       "document": {"patient": {"last_name": "Lee"}}}

extra_keys = st.one_of(st.sampled_from(sorted(SAFE_EXTRAS | set(PHI))),
                       st.text(min_size=1, max_size=20)).filter(lambda k: k not in RESERVED)
extra_values = st.one_of(st.none(), st.integers(), st.text(max_size=30),
                         st.lists(st.integers(), max_size=3))


def formatted(extras: dict[str, object], exc: BaseException | None = None) -> dict[str, object]:
    record = logging.LogRecord("reclaim.test", logging.INFO, __file__, 1, "claim moved", None,
                               (type(exc), exc, exc.__traceback__) if exc else None)
    record.__dict__.update(extras)
    line = JsonFormatter().format(record)
    assert "\n" not in line
    return json.loads(line)  # type: ignore[no-any-return]


@settings(max_examples=300, derandomize=True, database=None)
@given(st.dictionaries(extra_keys, extra_values, max_size=8))
def test_only_whitelisted_extras_are_written(extras: dict[str, object]) -> None:
    entry = formatted(extras)
    assert set(entry) <= BASE_KEYS | SAFE_EXTRAS
    for key in set(extras) & SAFE_EXTRAS:
        assert key in entry


def test_phi_extras_and_exception_messages_stay_out() -> None:
    try:
        raise ValueError("member W123456789 (Ann Lee) not found")
    except ValueError:
        exc = sys.exc_info()[1]
    assert exc is not None
    entry = formatted({**PHI, "claim_id": 7, "workflow_id": "claim-7"}, exc)
    assert entry["claim_id"] == 7
    assert entry["workflow_id"] == "claim-7"
    assert entry["error"] == "ValueError"
    text = json.dumps(entry)
    for needle in ("Ann", "Lee", "W123456789", "1960-04-02"):
        assert needle not in text
