"""The structure's signing certificate for ``SIGN.XML``: the configured one, else (outside
production) a structure certificate of the runtime's test PKI."""

from __future__ import annotations

from typing import Any

from segur_core.errors import ConfigError
from segur_core.wire.signing import KeySigner

__all__ = ["signer_for", "trust_for"]


def _test_credential(runtime: Any) -> Any:
    return runtime.test_pki().structure_credential(runtime.host.structure(), use="portability")


def signer_for(runtime: Any) -> KeySigner:
    """The signer of this runtime's exports (``[portability] signing_cert``/``signing_key``)."""
    config = runtime.plugin_config("portability")
    if config.signing_cert is not None and config.signing_key is not None:
        return KeySigner.from_pem_files(config.signing_key, config.signing_cert)
    if runtime.config.mode == "production":
        raise ConfigError(
            "the archive signing certificate is required in production",
            key="portability.signing_cert",
        )
    credential = _test_credential(runtime)
    return KeySigner.from_pem_files(credential.key_path, credential.cert_path)


def trust_for(runtime: Any) -> str | None:
    """The CA bundle ``verify`` checks signers against by default: the configured one,
    else (outside production) the test PKI's."""
    config = runtime.plugin_config("portability")
    if config.ca_bundle is not None:
        return str(config.ca_bundle)
    if runtime.config.mode == "production":
        return None
    return str(runtime.test_pki().ca_bundle)
