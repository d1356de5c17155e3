"""The typed errors every segur package raises.

One small hierarchy so that a host can catch ``SegurError`` and show ``str(error)``
to a pharmacist or an integrator: each message says what went wrong and what to do.
Subclasses carry structured details as attributes; none of them ever holds a patient
identifier in its message (messages end up in ordinary logs).
"""

from __future__ import annotations

__all__ = [
    "CardError",
    "ConfigError",
    "ConformanceError",
    "DocumentError",
    "DurabilityError",
    "IdentityError",
    "InputError",
    "MetadataError",
    "PermanentDeliveryError",
    "PluginError",
    "PluginLoadError",
    "RemoteServiceError",
    "RuntimeClosedError",
    "SecurityError",
    "SegurError",
    "TLSConfigError",
    "TransientDeliveryError",
    "UnsafeXMLError",
    "UnsafeZipError",
    "ValidationIssue",
    "XDMError",
]


class SegurError(Exception):
    """Base of every error raised by segur.

    ``hint`` is an optional sentence telling the reader what to do next.
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message

    def __reduce__(self):
        # Pickled as its attributes, not by calling __init__ again with ``args``: the
        # subclasses' keyword-only arguments would be lost or required (an error
        # crossing to or from a worker process must come back the same).
        return _rebuild, (type(self), self.args, self.__dict__)


def _rebuild(cls: type[SegurError], args: tuple, state: dict) -> SegurError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


# -- configuration and plugins -------------------------------------------------------------


class ConfigError(SegurError):
    """The configuration is wrong; ``key`` names the offending key (``ins.endpoint``)."""

    def __init__(self, message: str, *, key: str | None = None, hint: str | None = None):
        super().__init__(f"{key}: {message}" if key else message, hint=hint)
        self.key = key


class PluginError(SegurError):
    """A plugin misbehaved (bad hook implementation, incompatible core version...)."""

    def __init__(self, message: str, *, plugin: str | None = None, hint: str | None = None):
        super().__init__(f"plugin {plugin!r}: {message}" if plugin else message, hint=hint)
        self.plugin = plugin


class PluginLoadError(PluginError):
    """A plugin could not be imported or is not compatible with this core."""


class RuntimeClosedError(SegurError):
    """The runtime was closed: its plugin services are gone and none can be created."""


class ConformanceError(SegurError):
    """A host implementation does not honour the host contract."""


# -- durability ----------------------------------------------------------------------------


class DurabilityError(SegurError):
    """A record could not be made durable (disk full, read-only or damaged file): what it
    stood for is not queued or not journaled, and nothing claims it was. ``path`` names
    the file. Events re-raise it to the host after the other plugins ran (see
    :class:`~segur_core.runtime.Runtime`), so that the host knows the work is not on its way.
    """

    def __init__(self, message: str, *, path: object = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.path = path


# -- inputs --------------------------------------------------------------------------------


class InputError(SegurError, ValueError):
    """Input from outside (a file, a card, a QR code, a peer) is malformed or hostile."""


class UnsafeXMLError(InputError):
    """XML refused by the hardened parser (entities, DTD, too large, too deep, malformed)."""


class UnsafeZipError(InputError):
    """An archive refused by the safe ZIP reader (traversal, links, bombs, too many entries)."""


class IdentityError(InputError):
    """An identifier or identity trait is invalid (NIR key, OID, RNIV lexical rule...)."""


class CardError(InputError):
    """A smart card or reader problem (unknown card, removed, malformed answer)."""


class DocumentError(InputError):
    """A health document is malformed or fails its checks; ``issues`` lists why."""

    def __init__(
        self,
        message: str,
        *,
        issues: tuple[ValidationIssue, ...] = (),
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.issues = tuple(issues)


class MetadataError(InputError):
    """XDS metadata (ebRIM) lack a mandatory element or repeat one."""


class XDMError(InputError):
    """An ``IHE_XDM.ZIP`` archive is malformed: missing or unreadable ``METADATA.XML``,
    a document it names is absent, or its hash or size does not match."""


class ValidationIssue:
    """One problem found by a check: where (XPath or key), what, and how serious."""

    __slots__ = ("location", "message", "rule", "severity", "source")

    def __init__(
        self,
        message: str,
        *,
        location: str = "",
        severity: str = "error",
        source: str = "",
        rule: str = "",
    ) -> None:
        self.message = message
        self.location = location
        self.severity = severity
        self.source = source
        self.rule = rule

    def as_dict(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in self.__slots__}

    def __repr__(self) -> str:
        return f"ValidationIssue({self.severity}: {self.message!r} at {self.location!r})"


# -- security ------------------------------------------------------------------------------


class SecurityError(SegurError):
    """A security rule refused the operation (access not authorised, bad signature...)."""


class TLSConfigError(SecurityError):
    """A certificate, key or CA bundle cannot be loaded or is not usable (expired...)."""


# -- talking to national services ----------------------------------------------------------


class RemoteServiceError(SegurError):
    """A national service answered with an error.

    ``service`` names the service (``insi``, ``dmp``...), ``code`` its own error code.
    ``transient`` says whether retrying later may succeed.
    """

    transient: bool = False

    def __init__(
        self,
        message: str,
        *,
        service: str,
        code: str | None = None,
        transient: bool | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(f"{service}: {message}" + (f" [{code}]" if code else ""), hint=hint)
        self.service = service
        self.code = code
        if transient is not None:
            self.transient = transient


class TransientDeliveryError(RemoteServiceError):
    """A delivery failed in a way that may succeed later (timeout, 5xx, reset)."""

    transient = True


class PermanentDeliveryError(RemoteServiceError):
    """A delivery was refused for good (invalid content, duplicate, not authorised)."""

    transient = False
