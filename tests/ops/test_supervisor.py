"""reclaim.supervisor with tiny real children: restart with back-off, crash loops, clean stop."""

from __future__ import annotations

import functools
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from reclaim.supervisor import CrashLoop, Launch, Supervisor


def launcher(code: str, starts: list[float] | None = None) -> Launch:
    def launch() -> subprocess.Popen[bytes]:
        if starts is not None:
            starts.append(time.monotonic())
        return subprocess.Popen([sys.executable, "-c", code])
    return launch


def run_until(supervisor: Supervisor, done: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "supervisor did not get there in time"
        supervisor.check()
        time.sleep(0.02)


def test_a_crashed_child_is_restarted_after_a_doubling_back_off() -> None:
    lines: list[str] = []
    starts: list[float] = []
    supervisor = Supervisor(base_delay=0.2, max_delay=5, crash_limit=10, crash_window=60,
                            report=lines.append)
    child = supervisor.start("worker", launcher("import sys; sys.exit(3)", starts))
    run_until(supervisor, lambda: child.restarts >= 3)
    supervisor.stop_all()
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    # 0.2 s, 0.4 s, 0.8 s after each exit, plus the child's own run time (lower bounds only:
    # a busy machine stretches the run time, never the back-off).
    assert gaps[0] >= 0.2
    assert gaps[1] >= 0.4
    assert gaps[2] >= 0.8
    crashed = [line for line in lines if "exited" in line]
    assert crashed[0] == ("worker exited with code 3; restarting in 0.2s "
                          "(crash 1 of 10 allowed within 60s)")
    assert "restarting in 0.4s" in crashed[1]
    assert "restarting in 0.8s" in crashed[2]
    assert any(line.startswith("worker restarted (pid ") for line in lines)


def test_the_back_off_is_capped() -> None:
    supervisor = Supervisor(base_delay=1, max_delay=3, crash_limit=100, report=lambda _: None)
    child = supervisor.start("api", launcher("pass"))
    child.crashes.extend([0.0] * 6)
    assert supervisor.delay(child) == 3
    supervisor.stop_all()


def test_a_healthy_child_is_left_alone() -> None:
    supervisor = Supervisor(base_delay=0.05, report=lambda _: None)
    child = supervisor.start("payer", launcher("import time; time.sleep(30)"))
    for _ in range(10):
        supervisor.check()
        time.sleep(0.02)
    assert child.restarts == 0
    assert child.proc.poll() is None
    supervisor.stop_all()
    assert child.proc.poll() is not None


def test_a_crash_loop_names_the_part_and_ends_supervision() -> None:
    supervisor = Supervisor(base_delay=0.01, max_delay=0.01, crash_limit=5, crash_window=60,
                            report=lambda _: None)
    steady = supervisor.start("api", launcher("import time; time.sleep(30)"))
    flaky = supervisor.start("temporal", launcher("import sys; sys.exit(7)"))
    with pytest.raises(CrashLoop) as caught:
        supervisor.run(lambda: False, poll=0.01)
    assert caught.value.name == "temporal"
    assert caught.value.returncode == 7
    assert "temporal exited 5 times within 60s (last exit code 7)" in str(caught.value)
    assert flaky.restarts == 4
    supervisor.stop_all()
    assert steady.proc.poll() is not None


def test_crashes_outside_the_window_do_not_count() -> None:
    now = [100.0]
    supervisor = Supervisor(base_delay=0, crash_limit=2, crash_window=10,
                            report=lambda _: None, clock=lambda: now[0])
    child = supervisor.start("smtp", launcher("pass"))
    child.proc.wait()
    supervisor.check()  # crash 1 at t=100
    supervisor.check()  # restarted
    child.proc.wait()
    now[0] = 120.0
    supervisor.check()  # crash at t=120: the one at t=100 is out of the window
    assert len(child.crashes) == 1
    supervisor.stop_all()


def test_stop_all_stops_the_parts_together_and_temporal_after_them(tmp_path: Path) -> None:
    """Each child notes when SIGTERM reaches it and when it is done (a second later, as a
    worker finishing its tasks): the worker and the API are both told before either is done,
    and Temporal, which they need while they shut down, only after both are."""
    order = tmp_path / "order"
    code = ("import signal, sys, time\n"
            "def note(what):\n"
            f"    open({str(order)!r}, 'a').write(what + ' ' + sys.argv[1] + '\\n')\n"
            "def bye(*_):\n"
            "    note('told'); time.sleep(1); note('done'); sys.exit(0)\n"
            "signal.signal(signal.SIGTERM, bye)\n"
            "print('ready', flush=True)\n"
            "time.sleep(30)\n")
    supervisor = Supervisor(report=lambda _: None)
    for name in ("temporal", "worker", "api"):
        child = supervisor.start(name, functools.partial(
            subprocess.Popen, [sys.executable, "-c", code, name], stdout=subprocess.PIPE),
            last=name == "temporal")
        assert child.proc.stdout is not None
        assert child.proc.stdout.readline() == b"ready\n"
    supervisor.stop_all(timeout=10)
    lines = order.read_text().splitlines()
    assert sorted(lines[:2]) == ["told api", "told worker"]
    assert sorted(lines[2:4]) == ["done api", "done worker"]
    assert lines[4:] == ["told temporal", "done temporal"]
    assert all(proc.returncode == 0 for _, proc in supervisor.children)


def test_stop_all_kills_a_child_that_ignores_sigterm() -> None:
    code = ("import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
            "print('ready', flush=True)\ntime.sleep(30)\n")
    supervisor = Supervisor(report=lambda _: None)
    child = supervisor.start("worker", lambda: subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE))
    assert child.proc.stdout is not None
    assert child.proc.stdout.readline() == b"ready\n"
    supervisor.stop_all(timeout=0.5)
    assert child.proc.returncode == -9


def test_up_exits_1_on_a_crash_loop_naming_the_part(monkeypatch: pytest.MonkeyPatch) -> None:
    import typer

    import cli

    monkeypatch.setattr(cli, "stop_on_signals", lambda: lambda: False)
    supervisor = Supervisor(base_delay=0.01, max_delay=0.01, report=lambda _: None)
    supervisor.start("payer", launcher("import sys; sys.exit(2)"))
    with cli.console.capture() as captured, pytest.raises(typer.Exit) as caught:
        cli._supervise(supervisor)
    assert caught.value.exit_code == 1
    assert "payer exited 5 times within 60s" in captured.get()
