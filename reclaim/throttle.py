"""Login throttling with `limits`: failed logins are counted per username and per client
address in a window (RECLAIM_LOGIN_FAILURE_WINDOW); past RECLAIM_LOGIN_USER_FAILURES (or
RECLAIM_LOGIN_ADDRESS_FAILURES) each further failure locks the key for twice as long as the
last (1 s, 2 s, 4 s, ... up to RECLAIM_LOGIN_BACKOFF_MAX). The storage is in memory: right for
one API process; several processes would share a `limits` storage (Redis, memcached) instead."""

from __future__ import annotations

import time
from datetime import timedelta

from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage, Storage
from limits.strategies import FixedWindowRateLimiter


class LoginThrottle:
    def __init__(self, *, user_failures: int = 5, address_failures: int = 20,
                 window: timedelta = timedelta(minutes=15),
                 backoff_max: timedelta = timedelta(minutes=15),
                 storage: Storage | None = None) -> None:
        self.storage = storage or MemoryStorage()
        self.limiter = FixedWindowRateLimiter(self.storage)
        seconds = max(1, int(window.total_seconds()))
        self.items = {"user": RateLimitItemPerSecond(user_failures, seconds),
                      "addr": RateLimitItemPerSecond(address_failures, seconds)}
        self.window = seconds
        self.backoff_max = max(1, int(backoff_max.total_seconds()))

    def _keys(self, username: str, address: str) -> list[tuple[str, str]]:
        return [("user", username.lower()[:200]), ("addr", address[:100])]

    def retry_after(self, *, username: str, address: str) -> float:
        """Seconds until this username and address may try again (0: now)."""
        now = time.time()
        waits = [self.storage.get_expiry(f"lock/{kind}/{key}") - now
                 for kind, key in self._keys(username, address)
                 if self.storage.get(f"lock/{kind}/{key}") > 0]
        return max([0.0, *waits])

    def failed(self, *, username: str, address: str) -> None:
        for kind, key in self._keys(username, address):
            if self.limiter.hit(self.items[kind], "login-failures", kind, key):
                continue  # still within the allowance
            over = self.storage.incr(f"over/{kind}/{key}", self.window)
            backoff = min(self.backoff_max, 2 ** min(over - 1, 30))
            self.storage.clear(f"lock/{kind}/{key}")
            self.storage.incr(f"lock/{kind}/{key}", backoff)

    def succeeded(self, *, username: str) -> None:
        """A right password clears its username's count (not the address's: one good account
        must not reset an address that is guessing others)."""
        key = username.lower()[:200]
        self.limiter.clear(self.items["user"], "login-failures", "user", key)
        self.storage.clear(f"over/user/{key}")
