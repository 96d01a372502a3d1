"""The 999 and 277CA readers are linear in the file size, like the 835's (tests/x12): a file four
times larger takes at most about four times as long per item, never quadratically more."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from reclaim.x12.models import (
    Ack999,
    AckError,
    AckTransaction,
    ClaimStatus277,
    Envelope,
    Status277CA,
)
from reclaim.x12.read_277ca import read_277ca
from reclaim.x12.read_999 import read_999
from reclaim.x12.write_payer import write_277ca, write_999

ENVELOPE = Envelope(sender_id="SANDBOX", receiver_id="RECLAIM", interchange_control_number=9,
                    group_control_number=9, transaction_control_number="0001",
                    created=datetime(2026, 11, 3, 10, 5), usage="T")


def big_999(transactions: int) -> str:
    acks = [AckTransaction(
        control_number=f"{n:04d}", implementation="005010X222A1", status="R" if n % 3 else "A",
        errors=[AckError(segment_id="NM1", segment_position=21, code="8"),
                AckError(segment_id="NM1", segment_position=21, code="1", element_position=9)]
        if n % 3 else []) for n in range(1, transactions + 1)]
    return write_999(Ack999(envelope=ENVELOPE, group_control_number=17,
                            implementation="005010X222A1", transactions=acks, group_status="P",
                            received_count=transactions,
                            accepted_count=sum(a.status == "A" for a in acks)))


def big_277ca(claims: int) -> str:
    return write_277ca(Status277CA(
        envelope=ENVELOPE, payer_name="Sandbox Health", payer_id="SANDBOX",
        provider_name="Springfield Family Medicine", provider_npi="1234567893",
        claims=[ClaimStatus277(
            patient_control_number=f"RC{n}-1", payer_claim_control_number=f"SBX{n}",
            status_category="A1" if n % 4 else "A7", status_code="20" if n % 4 else "562",
            entity_code="PR", action="accepted" if n % 4 else "rejected",
            total_charge=Decimal("150.00"), member_id=f"W{n:09d}",
            service_date=date(2026, 11, 2)) for n in range(1, claims + 1)]))


def best_time(read: Callable[[str], Any], text: str, *, runs: int) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        read(text)
        timings.append(time.perf_counter() - started)
    return min(timings)


@pytest.mark.parametrize(
    ("read", "build", "count"),
    [(read_999, big_999, lambda r: len(r[0].transactions)),
     (read_277ca, big_277ca, lambda r: len(r[0].claims))],
    ids=["999", "277CA"],
)
def test_reading_is_linear(read: Callable[[str], Any], build: Callable[[int], str],
                           count: Callable[[Any], int]) -> None:
    small, large = build(1_000), build(4_000)
    assert count(read(small)) == 1_000
    assert count(read(large)) == 4_000
    per_item_small = best_time(read, small, runs=3) / 1_000
    per_item_large = best_time(read, large, runs=2) / 4_000
    assert per_item_large <= 3 * per_item_small


def test_one_huge_segment_is_refused_quickly() -> None:
    text = big_999(3).replace("AK1*", "AK1*" + "9" * 2_000_000, 1)
    started = time.perf_counter()
    with pytest.raises(ValueError, match="AK1"):
        read_999(text)
    assert time.perf_counter() - started < 5
