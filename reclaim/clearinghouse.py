"""Where 837s go and 999/277CA/835 come from: the sandbox payer over HTTP, or a directory
mailbox (an SFTP-style outbox/inbox pair) that a real clearinghouse feeds."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import aiohttp


@dataclass(frozen=True)
class Receipt:
    reference: str | None
    ack: str | None  # a 999 returned synchronously, when the clearinghouse does that


@dataclass(frozen=True)
class InboundFile:
    position: str  # cursor value after this file
    name: str
    content: str


class ClearinghouseError(RuntimeError):
    pass


class Clearinghouse(Protocol):
    async def submit(self, *, name: str, x12: str) -> Receipt: ...

    async def fetch(self, *, after: str) -> list[InboundFile]: ...

    async def done(self, file: InboundFile, *, ok: bool, reason: str = "") -> None: ...

    async def aclose(self) -> None:
        """Let go of connections (the worker calls it as it stops)."""


class SandboxClearinghouse:
    """The sandbox payer's HTTP interface (reclaim.sandbox_payer.app).

    Over aiohttp rather than httpx: this client runs on the worker's event loop for every
    submission and every poll, and there aiohttp took a quarter of the CPU per request that
    httpx did (0.29 against 1.26 ms, bench/README.md)."""

    def __init__(self, base_url: str, *, timeout_s: float = 30) -> None:
        self._base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        # Made on first use, in the event loop that uses it (an aiohttp session belongs to one).
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def submit(self, *, name: str, x12: str) -> Receipt:
        async with self._http().post(
            f"{self._base_url}/837",
            data=x12.encode(),
            headers={"content-type": "application/edi-x12", "x-filename": name},
        ) as response:
            if response.status >= 500:
                raise ClearinghouseError(f"clearinghouse answered {response.status}")
            if response.status >= 400:
                # The file itself was refused: no point retrying the same bytes.
                text = await response.text()
                raise ClearinghouseError(f"clearinghouse refused the file: {text[:300]}")
            body = await response.json()
        return Receipt(reference=str(body.get("file_id")), ack=body.get("ack"))

    async def fetch(self, *, after: str) -> list[InboundFile]:
        async with self._http().get(f"{self._base_url}/files",
                                    params={"after": after or "0", "limit": "200"}) as response:
            response.raise_for_status()
            files = (await response.json())["files"]
        return [
            InboundFile(position=str(f["seq"]), name=f["name"], content=f["content"])
            for f in files
        ]

    async def done(self, file: InboundFile, *, ok: bool, reason: str = "") -> None:  # noqa: ARG002
        """The sandbox keeps its files; the cursor is what moves."""

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


class MailboxClearinghouse:
    """outbox/ for what we send, inbox/ for what comes back; processed/ and failed/ keep the
    history. Files are written under a temporary name and renamed, so a reader never sees half."""

    def __init__(self, root: Path):
        self.root = root
        for sub in ("outbox", "inbox", "processed", "failed"):
            (root / sub).mkdir(parents=True, exist_ok=True)

    async def submit(self, *, name: str, x12: str) -> Receipt:
        target = self.root / "outbox" / name
        if not target.exists():
            tmp = target.with_suffix(target.suffix + ".part")
            tmp.write_text(x12)
            os.replace(tmp, target)
        return Receipt(reference=name, ack=None)

    async def fetch(self, *, after: str) -> list[InboundFile]:  # noqa: ARG002
        # Processed files leave the inbox, so what is there is what is new: no cursor.
        inbox = self.root / "inbox"
        files = sorted(
            p for p in inbox.iterdir() if p.is_file() and not p.name.startswith(".")
            and not p.name.endswith(".part")
        )
        return [
            InboundFile(position=p.name, name=p.name, content=p.read_text(errors="replace"))
            for p in files
        ]

    async def done(self, file: InboundFile, *, ok: bool, reason: str = "") -> None:
        source = self.root / "inbox" / file.name
        if not source.exists():
            return
        folder = self.root / ("processed" if ok else "failed")
        shutil.move(str(source), folder / file.name)
        if not ok:
            (folder / (file.name + ".reason.txt")).write_text(reason + "\n")

    async def aclose(self) -> None:
        """A directory holds no connection."""


def clearinghouse_from_setting(value: str, *, payer_url: str) -> Clearinghouse:
    if value == "sandbox":
        return SandboxClearinghouse(payer_url)
    if value.startswith("mailbox:"):
        return MailboxClearinghouse(Path(value.split(":", 1)[1]))
    raise ValueError(f"RECLAIM_CLEARINGHOUSE must be 'sandbox' or 'mailbox:PATH', not {value!r}")
