"""Scrub generated claims and compare with only parsing them into ClaimDocument.

    python bench/scrub.py [--n LINES] [--seed SEED]

Prints figures, then as its last line one JSON object:
{"bench": "scrub", "lines_per_s": ..., "ratio": scrub_time / parse_time, ...}.
Loading the ICD-10-CM release (a one-off start-up cost) is timed apart as `startup_s`.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, TypeVar

from reclaim.claims.schemas import ClaimDocument
from reclaim.codes import icd10
from reclaim.codes.ncci import sample_edits
from reclaim.scrub import Finding, ScrubContext, load_payer_rules, scrub

T = TypeVar("T")

TODAY = date(2026, 11, 27)
PAYERS = {"SANDBOX": "W{:09d}", "ACMEHEALTH": "W{:09d}", "MCAREDEMO": "1EG4TE5MK{:02d}"}
PROCEDURES = [
    "99213",
    "99214",
    "99215",
    "11042",
    "97597",
    "20610",
    "36415",
    "93000",
    "96372",
    "J1100",
    "J3420",
    "G0439",
    "80053",
    "97110",
    "0001U",
    "1234F",
]
VISIT_MODIFIERS = [["25"], ["25"], []]
OTHER_MODIFIERS = [[], [], [], ["59"], ["XS"], ["RT"], ["LT"], ["GP"], ["26"], ["25"]]
NPIS = ["1234567893"] * 9 + ["1245319599"] * 9 + ["1234567890"]  # 1 in 19 mistyped


def diagnosis_pool(rng: random.Random, size: int = 3000) -> list[str]:
    """Billable codes from the release, plus some categories and invalid ones."""
    sample = rng.sample(icd10.all_codes(), size * 3)
    leaves = [c for c in sample if (found := icd10.lookup(c)) is not None and found.billable]
    return leaves[:size] + ["E11", "I25", "S52.521", "E11.99", "G63", "V00.01XA", "O09.00"]


def clear_caches() -> None:
    """So the timed run pays for its own ICD-10-CM lookups."""
    icd10.lookup.cache_clear()
    icd10.suggest_billable.cache_clear()


def generate(n_lines: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    pool = diagnosis_pool(rng)
    documents: list[bytes] = []
    total = 0
    while total < n_lines:
        count = min(rng.randint(1, 6), n_lines - total)
        documents.append(json.dumps(_claim(rng, pool, count)).encode())
        total += count
    return documents


def _claim(rng: random.Random, pool: list[str], count: int) -> dict[str, Any]:
    payer = rng.choice(list(PAYERS))
    diagnoses = rng.sample(pool, rng.randint(1, 4))
    service = TODAY - timedelta(days=rng.choice([rng.randint(0, 60)] * 9 + [rng.randint(0, 400)]))
    return {
        "payer_id": payer,
        "patient": {
            "first_name": "Ann",
            "last_name": "Lee",
            "birth_date": (service - timedelta(days=rng.randint(6000, 30000))).isoformat(),
            "sex": rng.choice("FMU"),
            "member_id": PAYERS[payer].format(rng.randint(1, 99)),
            "address": {"line1": "1 Main St", "city": "Springfield", "state": "IL", "zip": "62701"},
        },
        "billing_provider": {
            "npi": rng.choice(NPIS),
            "name": "Springfield Family Medicine",
            "tax_id": "371234567",
            "address": {"line1": "9 Oak Ave", "city": "Springfield", "state": "IL", "zip": "62704"},
        },
        "rendering_provider": {"npi": rng.choice(NPIS), "first_name": "Raj", "last_name": "Patel"},
        "service_date": service.isoformat(),
        "place_of_service": rng.choice(["11"] * 8 + ["22", "21", "02"]),
        "diagnoses": diagnoses,
        "lines": [_line(rng, len(diagnoses)) for _ in range(count)],
    }


def _line(rng: random.Random, diagnoses: int) -> dict[str, Any]:
    procedure = rng.choice(PROCEDURES)
    visit = procedure.startswith("992")
    return {
        "procedure": procedure,
        "modifiers": rng.choice(VISIT_MODIFIERS if visit else OTHER_MODIFIERS),
        "units": rng.choice([1, 1, 1, 2]),
        "charge": f"{rng.randint(0, 40000) / 100:.2f}",
        "diagnosis_pointers": rng.sample(
            range(1, diagnoses + 1), min(diagnoses, rng.randint(1, 4))
        ),
    }


def parse(raw: list[bytes]) -> list[ClaimDocument]:
    return [ClaimDocument.model_validate_json(item) for item in raw]


def best_of(repeat: int, work: Callable[[], T]) -> tuple[float, T]:
    best, result = float("inf"), None
    for _ in range(max(repeat, 1)):
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    return best, result  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="service lines in total")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    args = parser.parse_args()

    started = time.perf_counter()
    icd10.lookup("E11.9")  # loads the release
    startup = time.perf_counter() - started
    raw = generate(args.n, args.seed)

    parse_time, documents = best_of(args.repeat, lambda: parse(raw))

    edits = sample_edits()
    contexts = {
        payer: ScrubContext(payer=load_payer_rules(payer), today=TODAY, edits=edits)
        for payer in PAYERS
    }

    def run() -> list[list[Finding]]:
        clear_caches()
        return [scrub(doc, ctx=contexts[doc.payer_id]) for doc in documents]

    scrub_time, findings = best_of(args.repeat, run)

    lines = sum(len(doc.lines) for doc in documents)
    clean = sum(1 for found in findings if not any(f.severity == "error" for f in found))
    print(f"claims {len(documents)}, lines {lines}, clean {clean / len(documents):.1%}")
    print(f"start-up (ICD-10-CM release) {startup:.2f} s")
    print(f"parse {parse_time:.3f} s, scrub {scrub_time:.3f} s")
    result = {
        "bench": "scrub",
        "lines": lines,
        "claims": len(documents),
        "lines_per_s": round(lines / scrub_time),
        "parse_s": round(parse_time, 4),
        "scrub_s": round(scrub_time, 4),
        "ratio": round(scrub_time / parse_time, 3),
        "startup_s": round(startup, 3),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
