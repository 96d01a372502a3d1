"""The secrets a process starts with: made for the embedded stack, demanded of every other one.

The embedded stack (`RECLAIM_TEMPORAL_ADDRESS` unset: `reclaim up` on one machine) keeps a random
payload key ring in `<data dir>/payload_key`, created on first start with mode 0600 and read on
every later start, so nobody has to choose one and nobody runs on the key published in the source.
An install that ran before this file existed sealed its workflow payloads with that published
passphrase; its first generated ring keeps the passphrase's key as a decrypt-only second key, so
every open history still opens (docs/operations.md, "Rotating the payload key").

Any other deployment must set its own: `RECLAIM_PAYLOAD_KEY` that is not the default, not empty
and not a short passphrase, and `RECLAIM_METRICS_TOKEN` for the Prometheus endpoint. A missing or
weak one stops the process at start with the setting named (`InsecureSetting`).

Browser sessions are random tokens stored in the database (reclaim/sessions.py): no process signs
anything with `RECLAIM_SECRET_KEY` any more, so it is not checked here.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from reclaim.codec import (
    MIN_PASSPHRASE_LENGTH,
    KeyRing,
    PayloadKeyError,
    key_from_passphrase,
    new_key_setting,
)
from reclaim.config import Settings

DEFAULT_PAYLOAD_KEY = Settings.model_fields["payload_key"].default
# The source's default and the one docker-compose.yml falls back to: both are public.
PUBLISHED_PAYLOAD_KEYS = frozenset({DEFAULT_PAYLOAD_KEY,
                                    "demo-only payload passphrase - change me"})
SHARED_PASSPHRASE_MIN = 32
KEY_FILE = "payload_key"
METRICS_TOKEN_MIN = 16


class InsecureSetting(RuntimeError):
    """A secret setting is missing, left at its default, or too weak for a shared deployment."""


def embedded(settings: Settings) -> bool:
    return settings.temporal_address is None


def secured(settings: Settings, *, metrics_token: str | None = None,
            serves_metrics: bool = False) -> Settings:
    """The settings this process may run with: the embedded key filled in, or the shared
    deployment's secrets checked (the metrics token by the process serving GET /metrics).
    Raises InsecureSetting naming the setting."""
    if embedded(settings):
        if settings.payload_key.strip() in ("", DEFAULT_PAYLOAD_KEY):
            return settings.model_copy(update={"payload_key": embedded_payload_key(settings)})
        _check_payload_key(settings.payload_key, shared=False)
        return settings
    _check_payload_key(settings.payload_key, shared=True)
    if serves_metrics and len((metrics_token or "").strip()) < METRICS_TOKEN_MIN:
        raise InsecureSetting(
            f"RECLAIM_METRICS_TOKEN must be set (at least {METRICS_TOKEN_MIN} characters) when "
            "Reclaim runs outside the embedded stack: GET /metrics answers only a scraper that "
            "sends it as a bearer token (docs/operations.md)")
    return settings


def _check_payload_key(value: str, *, shared: bool) -> None:
    if not value.strip():
        raise InsecureSetting(
            "RECLAIM_PAYLOAD_KEY is empty: set a key ring (`reclaim keygen` prints one)")
    if value.strip() in PUBLISHED_PAYLOAD_KEYS:
        raise InsecureSetting(
            "RECLAIM_PAYLOAD_KEY is a default published with Reclaim: set your own key ring "
            "(`reclaim keygen` prints one)")
    try:
        ring = KeyRing.from_setting(value)
    except PayloadKeyError as exc:
        raise InsecureSetting(str(exc)) from exc
    passphrase = ring.primary.kid.startswith("p-") and ":" not in value
    if shared and passphrase and len(value.strip()) < SHARED_PASSPHRASE_MIN:
        raise InsecureSetting(
            f"RECLAIM_PAYLOAD_KEY is a passphrase of {len(value.strip())} characters: a shared "
            f"deployment needs at least {SHARED_PASSPHRASE_MIN}, or a key ring (`reclaim keygen`)")


def embedded_payload_key(settings: Settings) -> str:
    """This install's payload key ring, made on first use (mode 0600, never overwritten)."""
    path = settings.data_dir / KEY_FILE
    if path.exists():
        return _read(path)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    ring = new_key_setting("k" + os.urandom(4).hex())
    if _has_history(settings):
        ring += "," + _legacy_item()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another part of the stack made it first: use theirs
        return _read(path)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(ring + "\n")
    return ring


def _read(path: Path) -> str:
    value = path.read_text(encoding="ascii").strip()
    if not value:
        raise InsecureSetting(f"{path} is empty: delete it only if no workflow is open "
                              "(docs/operations.md, 'Rotating the payload key')")
    return value


def _has_history(settings: Settings) -> bool:
    """An install that ran before the key file: its open workflows used the default key."""
    return any((settings.data_dir / name).exists() for name in ("reclaim.db", "temporal.db"))


def _legacy_item() -> str:
    key = key_from_passphrase(DEFAULT_PAYLOAD_KEY)
    assert len(DEFAULT_PAYLOAD_KEY) >= MIN_PASSPHRASE_LENGTH
    return f"{key.kid}:{base64.b64encode(key.secret).decode('ascii')}"
