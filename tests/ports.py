"""A port for a test server that no outgoing connection can take before the server binds it.

Binding port 0 hands out a port from the kernel's ephemeral range, the same range outgoing
connections draw their local ports from; between choosing a port and the server binding it
(seconds, when Temporal starts first), a connection to PostgreSQL or Temporal can take it and
the server fails with 'address in use'. Ports below the ephemeral range are never handed out
that way.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def _ephemeral_low() -> int:
    try:
        return int(_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """A port below the ephemeral range that nothing listens on now."""
    low = _ephemeral_low()
    start = 10000 if low > 11000 else 1024
    for _ in range(200):
        port = random.randrange(start, low)
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port between {start} and {low}")
