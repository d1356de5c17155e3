"""How long and how often the outbox retries, per sender: the ``[segur.outbox]`` table.

National services go down for hours (maintenance windows), so an item is retried until
a **time horizon** has passed since it was queued (72 hours by default), with capped
exponential backoff and jitter, not for a number of attempts. Each kind of delivery may
have its own policy::

    [segur.outbox]
    horizon_hours = 72      # retry transient failures this long after queueing
    base_delay = 1.0        # first retry delay in seconds (doubles each time, plus jitter)
    max_delay = 300.0       # longest retry delay in seconds
    lease = 60.0            # seconds a worker holds an item (renewed while it sends)
    payload_retention_days = 3.0  # a delivered item's payload is dropped this long after

    [segur.outbox.senders."dmp.iti41"]
    horizon_hours = 120     # what a sender does not set comes from [segur.outbox]

``max_attempts`` (unset by default) also bounds the attempts of a policy. Every number
must be finite and positive; a wrong one is a :class:`~segur_core.errors.ConfigError`
naming its key. ``payload_retention_days`` keeps the bytes of a delivered item for
that long after its delivery (to show or compare them); then they are dropped, and its
record (kind, key, attempts, outcome, dates) stays for ``segur outbox list`` and the
journal, so that the file does not grow without bound.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import attrs

from segur_core.errors import ConfigError
from segur_core.limits import check_number

__all__ = ["DEFAULT_HORIZON_HOURS", "DEFAULT_RETENTION_DAYS", "OutboxSettings", "RetryPolicy"]

#: Hours a transient failure is retried for when nothing else is configured.
DEFAULT_HORIZON_HOURS = 72.0
#: Days a delivered item's payload is kept when nothing else is configured.
DEFAULT_RETENTION_DAYS = 3.0

_POLICY_KEYS = ("horizon_hours", "base_delay", "max_delay", "max_attempts")
_TABLE_KEYS = (*_POLICY_KEYS, "lease", "payload_retention_days", "senders")


@attrs.frozen
class RetryPolicy:
    """When a delivery of one kind is retried, and when it is given up (dead).

    ``horizon``: seconds after queueing (or after an operator's retry) during which
    transient failures are retried. ``max_attempts``: an optional bound on attempts too.
    """

    horizon: float = DEFAULT_HORIZON_HOURS * 3600
    base_delay: float = 1.0
    max_delay: float = 300.0
    max_attempts: int | None = None

    def __attrs_post_init__(self) -> None:
        for name in ("horizon", "base_delay", "max_delay"):
            value = getattr(self, name)
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"{name} must be a finite positive number, got {value!r}")
        if self.max_delay < self.base_delay:
            raise ValueError("max_delay must not be shorter than base_delay")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def gives_up(self, attempts: int, queued_at: float, now: float) -> bool:
        """Whether an item that failed ``attempts`` times is now out of retries."""
        if self.max_attempts is not None and attempts >= self.max_attempts:
            return True
        return now >= queued_at + self.horizon

    def describe(self) -> str:
        """The policy in words, for dead-letter messages and ``segur doctor``."""
        hours = self.horizon / 3600
        text = f"{hours:g} h horizon" if hours >= 1 else f"{self.horizon:g} s horizon"
        if self.max_attempts is not None:
            text += f", at most {self.max_attempts} attempts"
        return text


@attrs.frozen
class OutboxSettings:
    """The ``[segur.outbox]`` table: a default policy, per-kind overrides, the lease and
    how long a delivered payload is kept (``payload_retention``, seconds)."""

    default: RetryPolicy = attrs.Factory(RetryPolicy)
    senders: Mapping[str, RetryPolicy] = attrs.field(factory=dict, hash=False)
    lease: float = 60.0
    payload_retention: float = DEFAULT_RETENTION_DAYS * 86400

    def policy(self, kind: str) -> RetryPolicy:
        """The policy of deliveries of ``kind``."""
        return self.senders.get(kind, self.default)

    def as_table(self) -> dict[str, Any]:
        """The settings as a ``[segur.outbox]`` table would write them (``config show``)."""
        table = {
            **_policy_table(self.default),
            "lease": self.lease,
            "payload_retention_days": self.payload_retention / 86400,
        }
        if self.senders:
            table["senders"] = {kind: _policy_table(p) for kind, p in self.senders.items()}
        return table

    @classmethod
    def from_table(cls, table: Any, key: str = "segur.outbox") -> OutboxSettings:
        """Read a ``[segur.outbox]`` table; :class:`ConfigError` names the wrong key."""
        table = _table(table, key)
        _known(table, _TABLE_KEYS, key)
        default = _policy(table, RetryPolicy(), key)
        lease = _number(table, "lease", key, 60.0)
        retention = _number(table, "payload_retention_days", key, DEFAULT_RETENTION_DAYS) * 86400
        senders: dict[str, RetryPolicy] = {}
        raw = _table(table.get("senders", {}), f"{key}.senders")
        for kind, sub in raw.items():
            sub_key = f'{key}.senders."{kind}"'
            sub = _table(sub, sub_key)
            _known(sub, _POLICY_KEYS, sub_key)
            senders[kind] = _policy(sub, default, sub_key)
        return cls(default=default, senders=senders, lease=lease, payload_retention=retention)


def _policy_table(policy: RetryPolicy) -> dict[str, Any]:
    table: dict[str, Any] = {
        "horizon_hours": policy.horizon / 3600,
        "base_delay": policy.base_delay,
        "max_delay": policy.max_delay,
    }
    if policy.max_attempts is not None:
        table["max_attempts"] = policy.max_attempts
    return table


def _table(value: Any, key: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"expected a table, got {type(value).__name__}", key=key)
    return value


def _known(table: Mapping[str, Any], known: tuple[str, ...], key: str) -> None:
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise ConfigError("unknown key", key=f"{key}.{unknown[0]}", hint=f"known keys: {known}")


def _number(table: Mapping[str, Any], name: str, key: str, default: float) -> float:
    value = float(check_number(table.get(name, default), f"{key}.{name}"))
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(
            f"expected a finite number greater than 0, got {value!r}", key=f"{key}.{name}"
        )
    return value


def _policy(table: Mapping[str, Any], parent: RetryPolicy, key: str) -> RetryPolicy:
    horizon = _number(table, "horizon_hours", key, parent.horizon / 3600) * 3600
    base = _number(table, "base_delay", key, parent.base_delay)
    maximum = _number(table, "max_delay", key, max(parent.max_delay, base))
    if maximum < base:
        raise ConfigError(
            f"must not be shorter than base_delay ({base:g} s)", key=f"{key}.max_delay"
        )
    attempts = table.get("max_attempts", parent.max_attempts)
    if isinstance(attempts, int) and not isinstance(attempts, bool):
        check_number(attempts, f"{key}.max_attempts", integer=True)
    if attempts is not None and (
        isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1
    ):
        raise ConfigError(
            f"expected an integer of at least 1, got {attempts!r}", key=f"{key}.max_attempts"
        )
    try:
        return RetryPolicy(horizon, base, maximum, attempts)
    except ValueError as exc:  # a horizon that overflows to inf, for one
        raise ConfigError(str(exc), key=key) from None
