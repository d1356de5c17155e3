"""The INSi client: posts SOAP 1.2 envelopes over mutual TLS and reads the answers.

Two credentials, as the service has them: mutual TLS alone (a structure certificate
with CN ``INSI-AUTO``/``INSI-MANU``, given as the ``ssl_context``), or mutual TLS plus a
signed PS assertion (CPS mode, ``cps=CpsCredentials(...)``). Only transient failures
(timeouts, resets, 5xx, ``insi_102``) are retried, with a short exponential backoff: both
operations are read-only searches, so a repeated request is harmless. An untrusted
server certificate is :class:`InsiCertificateError`, never retried.

Requests go through the core's :class:`~segur_core.wire.HttpCaller` (connection pool,
TLS, HTTP/1.1, no cookie jar, redirects or auth flows a SOAP endpoint has no use for):
``timeout`` is the total deadline of one request, connect to last byte, and an answer
larger than the XML parser's limit is refused while it streams. The caller is
thread-safe: one client serves the batch's worker threads.
"""

from __future__ import annotations

import functools
import ssl
import time
from collections.abc import Sequence

import attrs
from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from segur_core import __version__ as segur_version
from segur_core.model import CardReading, IdentityTraits, ReadingSource, Sex
from segur_core.safexml import DEFAULT_MAX_BYTES
from segur_core.wire.errors import (
    AnswerTooLarge,
    CallTimeout,
    ServerCertificateError,
    ServiceUnreachable,
)
from segur_core.wire.http import CallLimits, HttpCaller
from segur_core.wire.signing import Signer
from segur_ins.insi.assertion import PSAssertionData, build_ps_assertion
from segur_ins.insi.envelope import (
    Envelope,
    SoftwareContext,
    TraitsQuery,
    VitaleQuery,
    build_envelope,
)
from segur_ins.insi.errors import (
    InsiCertificateError,
    InsiError,
    InsiProtocolError,
    InsiUnavailable,
)
from segur_ins.insi.namespaces import SOAP_CONTENT_TYPE
from segur_ins.insi.response import CR_OK, InsiResult, parse_response

__all__ = [
    "CpsCredentials",
    "InsiClient",
    "first_name_attempts",
    "traits_query",
    "vitale_query",
]


@attrs.frozen
class CpsCredentials:
    """CPS mode: who signs the PS assertion and what it states."""

    signer: Signer
    assertion: PSAssertionData


@functools.lru_cache(maxsize=1024)
def _normalise(traits: IdentityTraits) -> IdentityTraits:
    """The traits under the RNIV lexical rules (``segur_ins.traits``); cached, as one
    lookup needs them for every first-name attempt."""
    from segur_ins import traits as rniv

    return rniv.normalise_traits(traits)


def first_name_attempts(first_names: Sequence[str]) -> list[tuple[str, ...]]:
    """The first-name strategy: each birth first name alone, in order, then the whole
    list; the caller stops at the first identity found (``CR 00``)."""
    from segur_ins.traits import first_name_candidates

    return [tuple(candidate) for candidate in first_name_candidates(tuple(first_names))]


def traits_query(traits: IdentityTraits, first_names: Sequence[str] | None = None) -> TraitsQuery:
    """The traits search for ``traits`` (normalised), with ``first_names`` as ``Prenom``."""
    normal = _normalise(traits)
    names = tuple(first_names) if first_names is not None else normal.first_names
    return TraitsQuery(
        birth_name=normal.birth_name,
        first_names=names,
        sex=normal.sex.value if normal.sex is not Sex.UNKNOWN else None,
        birth_date=str(normal.birth_date),
        birth_place=normal.birth_place,
    )


def vitale_query(reading: CardReading) -> VitaleQuery:
    """The carte Vitale search for a card reading (the beneficiary's NIR when present)."""
    normal = _normalise(reading.traits)
    return VitaleQuery(
        birth_name=normal.birth_name,
        birth_date=str(normal.birth_date),
        nir=reading.nir,
        insured_nir=reading.insured_nir,
    )


_USER_AGENT = f"segur-ins/{segur_version}"


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, InsiError) and exc.transient


def uses_vitale_operation(reading: CardReading) -> bool:
    """Whether INSi is asked with ``rechercherInsAvecCarteVitale``: only for a NIR read
    from a carte Vitale or the appli carte Vitale, never for traits typed by hand."""
    return bool(reading.nir) and reading.source in (
        ReadingSource.VITALE_CARD,
        ReadingSource.APCV,
    )


class InsiClient:
    """A client of the INSi téléservice at ``endpoint``."""

    def __init__(
        self,
        endpoint: str,
        software: SoftwareContext,
        *,
        ssl_context: ssl.SSLContext | None = None,
        cps: CpsCredentials | None = None,
        timeout: float = 10.0,
        connect_timeout: float = 5.0,
        retries: int = 2,
        backoff: float = 0.2,
        max_connections: int = 10,
    ) -> None:
        if not endpoint.startswith("https://"):
            raise InsiError("INSi endpoint must be an https:// URL", code="config")
        self.endpoint = endpoint
        self.software = software
        self.cps = cps
        self.retries = retries
        self.backoff = backoff
        limits = CallLimits(timeout, max_bytes=DEFAULT_MAX_BYTES, connect_timeout=connect_timeout)
        self._http = HttpCaller(service="insi", ssl_context=ssl_context, limits=limits,
                                max_connections=max_connections, tls_table="ins.tls")  # fmt: skip
        self._url = endpoint

    # -- plumbing ------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> InsiClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def envelope(self, query: TraitsQuery | VitaleQuery) -> Envelope:
        """Build the request for ``query`` with this client's credentials."""
        assertions = ()
        if self.cps is not None:
            assertions = (build_ps_assertion(self.cps.assertion, self.cps.signer),)
        return build_envelope(query, self.software, assertions=assertions)

    def _post_once(self, envelope: Envelope) -> InsiResult:
        headers = {
            "Content-Type": SOAP_CONTENT_TYPE.format(action=envelope.action),
            "User-Agent": _USER_AGENT,
        }
        try:
            answer = self._http.post(self._url, envelope.content, headers)
        except CallTimeout as exc:
            raise InsiUnavailable("INSi did not answer in time", code="timeout") from exc
        except ServerCertificateError as exc:
            raise InsiCertificateError(
                "INSi server certificate not trusted", code="tls", hint=exc.hint
            ) from exc
        except AnswerTooLarge as exc:
            raise InsiProtocolError(f"INSi answer refused: {exc.message}", code=exc.code) from exc
        except ServiceUnreachable as exc:
            cause = type(exc.__cause__).__name__
            raise InsiUnavailable(f"cannot reach INSi: {cause}", code="transport") from exc
        return parse_response(
            answer.content, status_code=answer.status, operation=envelope.operation
        )

    def send(self, envelope: Envelope) -> InsiResult:
        """Post ``envelope``; retry transient failures; return the parsed answer."""
        try:
            result = self._post_once(envelope)
        except InsiError as exc:
            if not exc.transient or self.retries <= 0:
                raise
            retrying = Retrying(  # the remaining attempts, after a first backoff
                stop=stop_after_attempt(self.retries),
                wait=wait_exponential(multiplier=self.backoff, max=2.0),
                retry=retry_if_exception(_transient),
                before=lambda _state: time.sleep(self.backoff),
                reraise=True,
            )
            result = retrying(self._post_once, envelope)
        if result.message_id == envelope.message_id:
            return result
        if result.message_id:
            raise InsiProtocolError("INSi answered another request (wsa:RelatesTo differs)")
        return attrs.evolve(result, message_id=envelope.message_id)

    # -- operations ----------------------------------------------------------------------

    def search_traits(self, query: TraitsQuery) -> InsiResult:
        """``rechercherInsAvecTraitsIdentite`` with exactly ``query``."""
        return self.send(self.envelope(query))

    def search_vitale(self, query: VitaleQuery) -> InsiResult:
        """``rechercherInsAvecCarteVitale`` with exactly ``query``."""
        return self.send(self.envelope(query))

    def lookup_traits(self, traits: IdentityTraits) -> InsiResult:
        """Search by traits with the first-name strategy; the first ``CR 00`` wins, else
        the last answer (``01`` or ``02``) is returned, with the number of requests made
        in ``attempts``."""
        result: InsiResult | None = None
        attempts = 0
        for names in first_name_attempts(_normalise(traits).first_names):
            result = self.search_traits(traits_query(traits, names))
            attempts += 1
            if result.code == CR_OK:
                break
        assert result is not None
        return result if attempts == 1 else attrs.evolve(result, attempts=attempts)

    def lookup_reading(self, reading: CardReading) -> InsiResult:
        """Search for a card reading: the Vitale operation when a card (physical or the
        appli carte Vitale) gives the beneficiary's NIR, else the traits search. A NIR
        typed by hand is not card data: it never selects the Vitale operation."""
        if uses_vitale_operation(reading):
            return self.search_vitale(vitale_query(reading))
        return self.lookup_traits(reading.traits)
