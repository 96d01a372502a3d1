"""Keep `reclaim up`'s children running: plain subprocess management.

A part that exits is started again after a back-off that doubles with each recent crash
(`base_delay`, 2x, 4x, ... up to `max_delay`); `crash_limit` exits of one part within
`crash_window` seconds is a crash loop: the supervisor stops and says which part. Ctrl-C
(SIGINT) or SIGTERM stops every child: those the others need (`start(..., last=True)`: the
embedded Temporal) once the rest have exited, and the rest together (each shuts down on its
own, so one slow to finish does not hold the others up).
"""

from __future__ import annotations

import logging
import signal
import subprocess
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

Launch = Callable[[], "subprocess.Popen[bytes]"]


class CrashLoop(Exception):
    """A part exited `crash_limit` times within `crash_window` seconds."""

    def __init__(self, name: str, returncode: int, crashes: int, window: float) -> None:
        super().__init__(f"{name} exited {crashes} times within {window:.0f}s "
                         f"(last exit code {returncode}); stopping everything")
        self.name = name
        self.returncode = returncode


@dataclass
class Child:
    name: str
    launch: Launch
    proc: subprocess.Popen[bytes]
    crashes: deque[float] = field(default_factory=deque)
    restart_at: float | None = None
    restarts: int = 0
    last: bool = False


class Supervisor:
    def __init__(self, *, base_delay: float = 1.0, max_delay: float = 30.0,
                 crash_limit: int = 5, crash_window: float = 60.0,
                 report: Callable[[str], None] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.crash_limit = crash_limit
        self.crash_window = crash_window
        self.report = report or log.warning
        self.clock = clock
        self.parts: list[Child] = []

    @property
    def children(self) -> list[tuple[str, subprocess.Popen[bytes]]]:
        return [(child.name, child.proc) for child in self.parts]

    def start(self, name: str, launch: Launch, *, last: bool = False) -> Child:
        """Start a part; `last`: the others need it, so it is stopped after them."""
        child = Child(name, launch, launch(), last=last)
        self.parts.append(child)
        return child

    def delay(self, child: Child) -> float:
        """The back-off before the next start: doubles with each crash still in the window."""
        recent = max(len(child.crashes), 1)
        return float(min(self.max_delay, self.base_delay * 2 ** (recent - 1)))

    def check(self) -> None:
        """One pass: note the parts that exited, start again those whose back-off is over.
        Raises CrashLoop when a part crashes too often."""
        now = self.clock()
        for child in self.parts:
            if child.restart_at is not None:
                if now >= child.restart_at:
                    self._restart(child)
                continue
            code = child.proc.poll()
            if code is not None:
                self._crashed(child, code, now)

    def _crashed(self, child: Child, code: int, now: float) -> None:
        child.crashes.append(now)
        while child.crashes and child.crashes[0] < now - self.crash_window:
            child.crashes.popleft()
        if len(child.crashes) >= self.crash_limit:
            raise CrashLoop(child.name, code, len(child.crashes), self.crash_window)
        wait = self.delay(child)
        child.restart_at = now + wait
        self.report(f"{child.name} exited with code {code}; restarting in {wait:.1f}s "
                    f"(crash {len(child.crashes)} of {self.crash_limit} allowed within "
                    f"{self.crash_window:.0f}s)")

    def _restart(self, child: Child) -> None:
        child.proc = child.launch()
        child.restart_at = None
        child.restarts += 1
        self.report(f"{child.name} restarted (pid {child.proc.pid})")

    def run(self, stopping: Callable[[], bool], poll: float = 0.2) -> None:
        """Supervise until `stopping()` is true; CrashLoop ends it early."""
        while not stopping():
            self.check()
            time.sleep(poll)

    def stop_all(self, timeout: float = 15) -> None:
        """SIGTERM the children in two waves, each signalled newest first and all at once: the
        parts nobody needs, then (once those have exited) the `last` ones. SIGKILL a child that
        outlives `timeout` after its wave was signalled."""
        for wave in (False, True):
            stop_processes([c.proc for c in reversed(self.parts) if c.last is wave], timeout)


def stop_processes(procs: list[subprocess.Popen[bytes]], timeout: float) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for proc in procs:
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()



def stop_on_signals() -> Callable[[], bool]:
    """Catch SIGINT and SIGTERM; the returned function says whether one came."""
    caught: list[int] = []

    def handle(sig: int, _frame: object) -> None:
        caught.append(sig)

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)
    return lambda: bool(caught)
