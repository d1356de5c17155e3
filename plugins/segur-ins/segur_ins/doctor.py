"""``segur doctor`` checks of segur-ins: INSi configuration and certificates."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from segur_core.errors import SegurError
from segur_core.i18n import N_
from segur_core.plugin import DoctorCheck, DoctorResult
from segur_ins.config import SANDBOX, InsConfig
from segur_ins.i18n import _, ngettext

if TYPE_CHECKING:
    from segur_core.runtime import Runtime

__all__ = ["doctor_checks"]


def _config_check(runtime: Runtime, config: InsConfig) -> tuple[DoctorResult, str]:
    if config.endpoint == SANDBOX and runtime.config.mode != "production":
        return DoctorResult.OK, _("INSi: the local sandbox (demo/test mode)")
    try:
        from segur_ins.connection import build_client

        build_client(config, runtime).close()
    except SegurError as exc:
        return DoctorResult.ERROR, _("INSi client cannot be built: {error}").format(error=exc)
    mode = _("mutual TLS") if config.auth_mode == "mtls" else _("CPS assertion")
    return DoctorResult.OK, _("INSi: {url} ({mode}, software id set)").format(
        url=config.endpoint, mode=mode
    )


def _certificate_check(config: InsConfig) -> tuple[DoctorResult, str]:
    from segur_core.tls import certificate_warnings

    def secret(value: Any) -> str | None:
        return value.reveal() if value is not None else None

    sources: list[Any] = []
    if config.tls.client_pkcs12 is not None:
        sources.append((config.tls.client_pkcs12, secret(config.tls.client_password)))
    if config.tls.client_cert is not None:
        sources.append(config.tls.client_cert)
    if config.cps_pkcs12 is not None:
        sources.append((config.cps_pkcs12, secret(config.cps_password)))
    if not sources:
        return DoctorResult.SKIPPED, _("no INSi certificate configured (test PKI in use)")
    warnings = certificate_warnings(sources)
    if not warnings:
        return DoctorResult.OK, ngettext(
            "{n} INSi certificate valid for 30 days or more",
            "{n} INSi certificates valid for 30 days or more",
            len(sources),
        ).format(n=len(sources))
    worst = DoctorResult.ERROR if any(w.kind != "expires-soon" for w in warnings) else (
        DoctorResult.WARNING)  # fmt: skip
    return worst, "; ".join(str(w) for w in warnings)


def doctor_checks(runtime: Runtime) -> list[DoctorCheck]:
    config: InsConfig = runtime.plugin_config("ins") or InsConfig()
    return [
        DoctorCheck(N_("ins: INSi configuration"), lambda: _config_check(runtime, config)),
        DoctorCheck(N_("ins: INSi certificates"), lambda: _certificate_check(config)),
    ]
