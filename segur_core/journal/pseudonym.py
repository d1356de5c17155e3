"""Pseudonyms for patient identifiers written to ordinary logs.

A pseudonym is an HMAC-SHA256 of the identifier under a per-installation key: stable
for one installation (logs can be correlated), useless to anyone without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from segur_core.errors import ConfigError
from segur_core.files import restrict

__all__ = ["KEY_FILE", "KEY_SIZE", "Pseudonymiser", "load_or_create_key"]

KEY_FILE = "pseudonym.key"
KEY_SIZE = 32


def load_or_create_key(path: Path) -> bytes:
    """Read the installation key at ``path``, creating it (mode 0600) when absent."""
    try:
        key = path.read_bytes()
        restrict(path)  # a key from an older version, or copied back, may be 0644
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(KEY_SIZE)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first: use theirs
            return load_or_create_key(path)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)
            handle.flush()
            os.fsync(handle.fileno())
        return key
    if len(key) < 16:
        raise ConfigError(
            f"the pseudonymisation key {path} is too short ({len(key)} bytes)",
            hint="restore it from a backup; a new key changes every pseudonym",
        )
    return key


class Pseudonymiser:
    """Turns patient identifiers into stable, keyed pseudonyms (``p-`` + 16 hex digits)."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ConfigError("a pseudonymisation key needs at least 16 bytes")
        self._key = bytes(key)

    def __call__(self, patient_id: str | None) -> str | None:
        if patient_id is None:
            return None
        digest = hmac.new(self._key, patient_id.encode("utf-8"), hashlib.sha256).hexdigest()
        return f"p-{digest[:16]}"

    def __repr__(self) -> str:
        return "Pseudonymiser(<key>)"
