"""Types say what they mean: mypy --strict (pyproject's [tool.mypy]) passes on every package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECKED = ("contracts", "reclaim", "workflows", "activities", "api", "worker.py", "cli.py",
           "temporal_client.py")


def test_mypy_strict_passes() -> None:
    done = subprocess.run([sys.executable, "-m", "mypy", "--strict", *CHECKED], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
