"""Secrets referenced from ``segur.toml``: ``env:NAME`` or ``file:PATH``, never shown.

A :class:`Secret` holds the resolved value; its ``repr`` and ``str`` are ``***`` so it can
travel through logs, tracebacks and ``segur config show`` without leaking. Call
:meth:`Secret.reveal` at the one place the value is actually used (a password, a key
passphrase).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from segur_core.errors import ConfigError

__all__ = [
    "REDACTED",
    "Secret",
    "is_reference",
    "looks_secret",
    "redact_text",
    "resolve",
    "reveal",
]

REDACTED = "***"

#: Key names whose inline values are redacted in outputs even without ``env:``/``file:``:
#: those containing one of these...
_SECRET_WORDS = ("password", "passwd", "secret", "token", "passphrase", "private_key", "apikey")
#: ...or having one of these as a word (``client_pwd``, ``cps.pin``, ``apiKey``).
_SECRET_NAME_WORDS = frozenset(
    [
        "pwd",
        "pass",
        "pin",
        "pincode",
        "key",
        "secrets",
        "tokens",
        "credential",
        "credentials",
        "otp",
        "authorization",
        "cookie",
        "privkey",
        "psk",
    ]
)
_WORD_BOUNDARY = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")
_URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/@\s?#]+@")
_URL_PARAMETER = re.compile(r"(?P<name>[?&;][A-Za-z0-9_.-]+)=(?P<value>[^&;#\s]*)")


class Secret:
    """A resolved secret value; prints as ``***``.

    ``source`` says where it came from (``env:INSI_PASSWORD``, ``file:/run/key``,
    ``inline``); it names the reference, never the value.
    """

    __slots__ = ("_value", "source")

    def __init__(self, value: str, *, source: str = "inline") -> None:
        self._value = value
        self.source = source

    def reveal(self) -> str:
        """The secret value itself; use it, never log it."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({REDACTED}, source={self.source!r})"

    def __str__(self) -> str:
        return REDACTED

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __bool__(self) -> bool:
        return bool(self._value)


def reveal(value: Secret | str | None) -> str | None:
    """The value of an optional secret setting (a password that may be absent): ``None``
    stays ``None``, a :class:`Secret` is revealed, a plain string is returned as is."""
    if value is None:
        return None
    return value.reveal() if hasattr(value, "reveal") else str(value)


def is_reference(value: object) -> bool:
    """Whether a config value is a secret reference (``env:NAME`` or ``file:PATH``)."""
    return isinstance(value, str) and value.startswith(("env:", "file:"))


def looks_secret(key: str) -> bool:
    """Whether a config key name (or any part of a dotted path) suggests its value is
    confidential: ``client_password``, ``client_pwd``, ``pin``, ``api_key``, ``apiKey``."""
    lowered = key.lower()
    if any(word in lowered for word in _SECRET_WORDS):
        return True
    return any(word.lower() in _SECRET_NAME_WORDS for word in _WORD_BOUNDARY.split(key))


def redact_text(text: str) -> str:
    """``text`` with the credentials URLs may carry masked: ``https://user:pwd@host``
    becomes ``https://***@host``, and ``?token=...`` (any secret-looking parameter) ``?token=***``.
    For messages that show configured values (``segur doctor``, ``segur config show``)."""
    text = _URL_USERINFO.sub(lambda m: f"{m['scheme']}{REDACTED}@", text)
    return _URL_PARAMETER.sub(
        lambda m: f"{m['name']}={REDACTED}" if looks_secret(m["name"][1:]) else m[0], text
    )


def resolve(value: str | Secret, *, key: str | None = None, base_dir: Path | None = None) -> Secret:
    """Resolve ``env:NAME``, ``file:PATH`` (relative to ``base_dir``) or an inline string.

    Raises :class:`ConfigError` naming ``key`` when the variable or file is missing.
    """
    if isinstance(value, Secret):
        return value
    if not isinstance(value, str):
        raise ConfigError(f"expected a secret string, got {type(value).__name__}", key=key)
    if value.startswith("env:"):
        name = value[4:]
        if not name:
            raise ConfigError("empty environment variable name in 'env:'", key=key)
        try:
            return Secret(os.environ[name], source=value)
        except KeyError:
            raise ConfigError(
                f"environment variable {name} is not set", key=key, hint=f"export {name}=..."
            ) from None
    if value.startswith("file:"):
        path = Path(value[5:]).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"cannot read secret file {path} ({exc.strerror or type(exc).__name__})", key=key
            ) from None
        return Secret(text.rstrip("\r\n"), source=value)
    return Secret(value)
