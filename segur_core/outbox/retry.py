"""Retry policy of the outbox: which failures are worth retrying, and when.

Transient failures (a timeout, a reset, a 5xx, ``TransientDeliveryError``) are retried
with exponential backoff and jitter (tenacity's wait strategies) until the attempt
budget is spent; anything else (a server certificate that does not verify included) is
permanent and the item goes to the dead letters.
"""

from __future__ import annotations

import random
import smtplib
from typing import Any, NamedTuple

import attrs
import httpx
import tenacity

from segur_core.errors import RemoteServiceError
from segur_core.wire.errors import certificate_failure

__all__ = ["Backoff", "Failure", "classify"]

#: HTTP statuses that may succeed later.
_RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class Failure(NamedTuple):
    """A classified delivery failure: whether to retry, and a message for the operator."""

    transient: bool
    message: str


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def classify(exc: Exception) -> Failure:
    """Tell a failure worth retrying from a permanent one."""
    if isinstance(exc, RemoteServiceError):
        return Failure(exc.transient, str(exc))
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        return Failure(status in _RETRYABLE_STATUS, f"HTTP {status} from {exc.request.url}")
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return Failure(False, _describe(exc))
    if isinstance(exc, smtplib.SMTPResponseException):  # an OSError, but a 5xx is final
        return Failure(exc.smtp_code < 500, _describe(exc))
    if certificate_failure(exc) is not None:  # an untrusted server: fix the CA bundle
        return Failure(False, _describe(exc))
    if isinstance(exc, httpx.TransportError | TimeoutError | OSError):
        return Failure(True, _describe(exc))
    return Failure(False, _describe(exc))


class _Attempt:
    """The one attribute tenacity's wait strategies read."""

    __slots__ = ("attempt_number",)

    def __init__(self, number: int) -> None:
        self.attempt_number = number


@attrs.frozen
class Backoff:
    """Delay before the next attempt: ``base * 2**(n-1)`` plus up to ``base`` of random
    jitter, capped at ``maximum`` seconds. At the cap the jitter spreads over the last
    tenth below it, so that items that failed together (a whole outage) do not keep
    retrying in step."""

    base: float = 1.0
    maximum: float = 300.0
    _wait: Any = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        wait = tenacity.wait_exponential(multiplier=self.base, max=self.maximum) + (
            tenacity.wait_random(0, self.base)
        )
        object.__setattr__(self, "_wait", wait)

    def delay(self, attempts: int) -> float:
        """Seconds to wait after ``attempts`` failed attempts."""
        wait = float(self._wait(_Attempt(max(1, attempts))))
        if wait <= self.maximum:
            return wait
        return self.maximum - random.uniform(0, self.maximum / 10)
