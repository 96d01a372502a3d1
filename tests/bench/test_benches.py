"""Each benchmark this folder covers, run with a tiny --n: it finishes, and its last stdout line
is the JSON the issue asks for, with figures that make sense."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

BENCH = Path(__file__).resolve().parents[2] / "bench"


def run_bench(script: str, *args: str, timeout: float = 240) -> dict[str, Any]:
    done = subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True,
                          text=True, timeout=timeout, cwd=BENCH.parent)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    last = done.stdout.strip().splitlines()[-1]
    return dict(json.loads(last))


def test_throughput_prints_its_figures_last() -> None:
    result = run_bench("throughput.py", "--n", "5", "--rounds", "1")
    assert result["bench"] == "throughput"
    assert {"claims_per_s", "bare_per_s", "ratio", "p50_s", "p95_s",
            "worker_rss_mb"} <= result.keys()
    assert result["claims_per_s"] > 0
    assert result["bare_per_s"] > 0
    assert result["ratio"] == pytest.approx(result["claims_per_s"] / result["bare_per_s"],
                                            rel=0.01)
    assert 0 < result["p50_s"] <= result["p95_s"]
    assert result["worker_rss_mb"] > 0
    assert result["replacements"] == 1  # one of five claims denied, fixed and paid


def test_era_ingest_prints_its_figures_last() -> None:
    # Over 20 signals the worker sends them: the small file is signalled inline, the big queued.
    result = run_bench("era_ingest.py", "--n", "40", "--small", "10", "--inline-signals", "20",
                       "--loops", "60", "--close", "12")
    assert result["bench"] == "era_ingest"
    assert {"claims_per_s", "ratio"} <= result.keys()
    assert result["claims_per_s"] > 0
    assert result["ratio"] == pytest.approx(result["ingest_s"] / result["tokenize_s"], rel=0.01)
    # Against pyx12's X12Reader (segments with their elements): slower than RawX12File.
    assert 0 < result["ratio_x12reader"] < result["ratio"]
    assert result["segments"] > 40 * 5  # CLP, CAS, NM1, SVC... for every claim
    # Each POST measured in a process of its own.
    assert result["rss_growth_mb"] > 0
    assert result["small_rss_growth_mb"] > 0
    # The POST answered before its signals were sent (by the worker, in the bench's process).
    assert (result["signals"], result["inline_signals"]) == ("queued", 20)
    assert result["ingest_s"] < result["signalled_s"]
    assert 0 < result["signal_s"] < result["signalled_s"]
    assert result["worker_cpu_s"] >= 0
    # The pathological file answered; twelve claims closed after their 835, against as many
    # bare workflows closing after their signal.
    assert result["pathological_loops"] == 60
    assert result["pathological_s"] > 0
    assert result["close_n"] == 12
    assert result["close_s"] > result["close_post_s"] > 0
    assert result["close_bare_s"] > 0
    assert result["close_ratio"] == pytest.approx(result["close_s"] / result["close_bare_s"],
                                                  rel=0.01)


def test_pages_prints_its_figures_last() -> None:
    result = run_bench("pages.py", "--n", "300", "--rounds", "2")
    assert result["bench"] == "pages"
    assert set(result["p95_ms"]) >= {"/", "/work (coder)", "/claims/{id}", "/api/v1/claims"}
    assert 0 < result["max_p95_ms"] == max(result["p95_ms"].values())


def test_load_signs_its_clients_in_and_counts_every_answer() -> None:
    result = run_bench("load.py", "--n", "300", "--clients", "4", "--requests", "6")
    assert result["bench"] == "load"
    assert (result["clients"], result["requests"]) == (4, 24)
    # Every request answered 200 (a failed sign-in stops the bench before this).
    assert result["errors"] == 0
    assert set(result["by_path"]) == {"/claims", "/work", "/", "/api/v1/claims"}
    assert 0 < result["p50_ms"] <= result["p95_ms"]


def test_a_bad_size_is_refused_with_a_clear_message() -> None:
    done = subprocess.run([sys.executable, str(BENCH / "era_ingest.py"), "--n", "0"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "--n, --small, --loops and --close must be positive" in done.stderr
