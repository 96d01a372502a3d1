"""Encryption of Temporal payloads, so PHI never reaches the Temporal server in clear.

Every payload the client or the worker sends is sealed with AES-GCM under the key ring's
primary key; the key id travels in the payload metadata so any key of the ring can open it.

`RECLAIM_PAYLOAD_KEY` takes one of two forms:

- a key ring, ``kid1:BASE64KEY,kid2:BASE64KEY``: each key 16, 24 or 32 bytes in standard or
  URL-safe base64; the FIRST key encrypts, every key decrypts. Rotate by putting the new key
  first and keeping the old ones until no open history holds payloads sealed with them.
- a passphrase (anything else, at least 16 characters): a 32-byte key is derived with
  HKDF-SHA256, no salt, info ``PASSPHRASE_INFO``; its key id is ``p-`` + the first 16 hex
  digits of SHA-256 over the derived key, so the same passphrase always gives the same id.
  A value with any comma-separated part that looks like ``id:text-without-spaces`` is read
  as a key ring, never as a passphrase.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
)

ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
PASSPHRASE_INFO = b"reclaim temporal payload key v1"
MIN_PASSPHRASE_LENGTH = 16
NONCE_SIZE = 12
AES_KEY_SIZES = (16, 24, 32)

_KID = r"[A-Za-z0-9._-]{1,64}"
# Any `id:<no spaces>` item means a key ring was meant: it is then parsed strictly, so a typo
# in a key is an error rather than silently becoming a passphrase.
_RING_ITEM = re.compile(rf"^{_KID}:\S+$")
_BASE64 = re.compile(r"^[A-Za-z0-9+/_-]+={0,2}$")
_HINT = " (a passphrase must not look like id:text-without-spaces)"


class PayloadKeyError(ValueError):
    """RECLAIM_PAYLOAD_KEY cannot be read as a key ring or a passphrase."""


class UnknownKeyError(ValueError):
    """A payload was sealed with a key id that is not in the configured key ring."""


class PayloadDecryptionError(ValueError):
    """A payload carries a known key id but does not open with that key."""


@dataclass(frozen=True)
class PayloadKey:
    kid: str
    secret: bytes = dataclasses.field(repr=False)

    def __post_init__(self) -> None:
        if not re.fullmatch(_KID, self.kid):
            raise PayloadKeyError(f"key id {self.kid!r} must be 1-64 of A-Z a-z 0-9 . _ -")
        if len(self.secret) not in AES_KEY_SIZES:
            raise PayloadKeyError(
                f"key {self.kid!r} is {len(self.secret)} bytes; AES-GCM needs 16, 24 or 32"
            )


@dataclass(frozen=True)
class KeyRing:
    """Keys by id; `keys[0]` encrypts, all of them decrypt."""

    keys: tuple[PayloadKey, ...]

    def __post_init__(self) -> None:
        if not self.keys:
            raise PayloadKeyError("the payload key ring is empty")
        kids = [key.kid for key in self.keys]
        duplicates = sorted({kid for kid in kids if kids.count(kid) > 1})
        if duplicates:
            raise PayloadKeyError(f"key id(s) {', '.join(duplicates)} appear more than once")

    @property
    def primary(self) -> PayloadKey:
        return self.keys[0]

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(key.kid for key in self.keys)

    def get(self, kid: str) -> PayloadKey:
        for key in self.keys:
            if key.kid == kid:
                return key
        raise UnknownKeyError(
            f"payload was encrypted with key id {kid!r}, which is not in RECLAIM_PAYLOAD_KEY "
            f"(configured key ids: {', '.join(self.key_ids)}); add that key back to the ring"
        )

    @classmethod
    def from_setting(cls, value: str) -> KeyRing:
        text = value.strip()
        if not text:
            raise PayloadKeyError("RECLAIM_PAYLOAD_KEY is empty")
        items = [item.strip() for item in text.split(",")]
        if any(_RING_ITEM.match(item) for item in items):
            keys = (_parse_ring_item(item, index) for index, item in enumerate(items))
            return cls(keys=tuple(keys))
        return cls(keys=(key_from_passphrase(text),))


def _parse_ring_item(item: str, index: int) -> PayloadKey:
    if not _RING_ITEM.match(item):
        raise PayloadKeyError(
            f"RECLAIM_PAYLOAD_KEY item {index + 1} is not of the form id:BASE64KEY{_HINT}"
        )
    kid, encoded = item.split(":", 1)
    try:
        if not _BASE64.match(encoded):
            raise ValueError("not base64")
        secret = _b64decode(encoded)
    except (binascii.Error, ValueError) as exc:
        raise PayloadKeyError(
            f"RECLAIM_PAYLOAD_KEY item {index + 1} ({kid!r}): key is not valid base64{_HINT}"
        ) from exc
    if len(secret) not in AES_KEY_SIZES:
        raise PayloadKeyError(
            f"RECLAIM_PAYLOAD_KEY item {index + 1} ({kid!r}): key decodes to {len(secret)} "
            f"bytes; AES-GCM needs 16, 24 or 32{_HINT}"
        )
    return PayloadKey(kid=kid, secret=secret)


def _b64decode(encoded: str) -> bytes:
    padded = encoded + "=" * (-len(encoded) % 4)
    if "-" in padded or "_" in padded:
        return base64.urlsafe_b64decode(padded)
    return base64.b64decode(padded, validate=True)


def key_from_passphrase(passphrase: str) -> PayloadKey:
    if len(passphrase) < MIN_PASSPHRASE_LENGTH:
        raise PayloadKeyError(
            f"RECLAIM_PAYLOAD_KEY passphrase is {len(passphrase)} characters; use at least "
            f"{MIN_PASSPHRASE_LENGTH}, or a key ring of the form kid:BASE64KEY"
        )
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=PASSPHRASE_INFO)
    secret = hkdf.derive(passphrase.encode("utf-8"))
    kid = "p-" + hashlib.sha256(secret).hexdigest()[:16]
    return PayloadKey(kid=kid, secret=secret)


def new_key_setting(kid: str) -> str:
    """A fresh random 32-byte key as one `kid:BASE64KEY` key ring item."""
    PayloadKey(kid=kid, secret=bytes(32))  # validates the id before any secret is made
    return f"{kid}:{base64.b64encode(os.urandom(32)).decode('ascii')}"


def encrypt_payload(payload: Payload, *, keyring: KeyRing) -> Payload:
    key = keyring.primary
    nonce = os.urandom(NONCE_SIZE)
    # The key id is authenticated data: a payload relabelled with another id fails to open.
    sealed = AESGCM(key.secret).encrypt(nonce, payload.SerializeToString(), key.kid.encode())
    return Payload(
        metadata={"encoding": ENCODING, KEY_ID_METADATA: key.kid.encode()},
        data=nonce + sealed,
    )


def decrypt_payload(payload: Payload, *, keyring: KeyRing) -> Payload:
    if payload.metadata.get("encoding") != ENCODING:
        # Written before encryption was switched on (or not by us): already clear.
        return payload
    raw_kid = payload.metadata.get(KEY_ID_METADATA)
    if raw_kid is None:
        raise PayloadDecryptionError(f"encrypted payload has no {KEY_ID_METADATA!r} metadata")
    kid = raw_kid.decode("utf-8", errors="replace")
    key = keyring.get(kid)
    if len(payload.data) <= NONCE_SIZE:
        raise PayloadDecryptionError(f"encrypted payload under key {kid!r} is truncated")
    nonce, sealed = payload.data[:NONCE_SIZE], payload.data[NONCE_SIZE:]
    try:
        clear = AESGCM(key.secret).decrypt(nonce, sealed, kid.encode())
    except InvalidTag as exc:
        raise PayloadDecryptionError(
            f"payload under key id {kid!r} failed authentication: wrong key or tampered data"
        ) from exc
    return Payload.FromString(clear)


class EncryptionCodec(PayloadCodec):
    def __init__(self, keyring: KeyRing) -> None:
        super().__init__()
        self.keyring = keyring

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [encrypt_payload(payload, keyring=self.keyring) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [decrypt_payload(payload, keyring=self.keyring) for payload in payloads]


def data_converter(keyring: KeyRing) -> DataConverter:
    """The converter for every Reclaim client and worker: pydantic JSON, then encryption.

    Failure messages and stack traces move into an encoded payload too, because an error
    text can quote a patient's name or member id.
    """
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=EncryptionCodec(keyring),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )
