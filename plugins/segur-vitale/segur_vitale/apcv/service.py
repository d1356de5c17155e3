"""Wiring the ApCV adapter to a runtime: build it from the config, dispatch its reading."""

from __future__ import annotations

from typing import TYPE_CHECKING

from segur_core import connection
from segur_core.errors import SegurError
from segur_core.model import CardReading, Option, Question
from segur_vitale.apcv.adapter import ApcvAdapter, ApcvRequest
from segur_vitale.apcv.client import HttpApcvAdapter
from segur_vitale.config import VitaleConfig

if TYPE_CHECKING:
    from segur_core.runtime import Runtime

__all__ = ["CHOOSE_APCV_BENEFICIARY", "apcv_adapter", "identify_and_dispatch"]

CHOOSE_APCV_BENEFICIARY = "vitale.choose-apcv-beneficiary"


def apcv_adapter(runtime: Runtime, config: VitaleConfig | None = None) -> HttpApcvAdapter:
    """The HTTPS adapter for the configured endpoint (``"sandbox"``: the local sandbox).

    Outside production, missing certificates default to the runtime's test PKI
    (structure certificate and CA bundle).
    """
    config = config or runtime.plugin_config("vitale") or VitaleConfig()
    endpoint = connection.resolve_endpoint(
        config.apcv_endpoint, runtime, sandbox="apcv", key="vitale.apcv_endpoint",
        service="ApCV", hint="set the URL of the ApCV service",
    )  # fmt: skip
    context = connection.client_tls(
        config.apcv_tls, runtime, key="vitale.apcv_tls",
        default_credential=lambda pki: pki.client("structure"),
    )  # fmt: skip
    return HttpApcvAdapter(endpoint, context, timeout=config.apcv_timeout)


def identify_and_dispatch(runtime: Runtime, adapter: ApcvAdapter,
                          request: ApcvRequest) -> CardReading:
    """Resolve ``request``, let the pharmacist pick the beneficiary when several, journal
    the call and fire ``on_card_read``. A failure is journaled and re-raised."""
    try:
        readings = adapter.identify(request)
    except SegurError as error:
        runtime.journal.record("vitale.apcv-identify", outcome="error", service="apcv",
                               details={"mode": request.mode.value,
                                        "error": type(error).__name__})
        raise
    reading = readings[0]
    if len(readings) > 1:
        question = Question(
            kind=CHOOSE_APCV_BENEFICIARY,
            prompt="L'appli carte Vitale porte plusieurs bénéficiaires : lequel est au comptoir ?",
            options=tuple(Option(str(r.beneficiary_rank),
                                 f"{r.traits.birth_name} {r.traits.first_name} "
                                 f"({r.traits.birth_date})") for r in readings),
            default=str(readings[0].beneficiary_rank),
        )
        key = runtime.host.decide(question).key
        reading = next(r for r in readings if str(r.beneficiary_rank) == key)
    runtime.journal.record("vitale.apcv-identify", service="apcv",
                           details={"mode": request.mode.value, "rank": reading.beneficiary_rank,
                                    "beneficiaries": len(readings)})
    runtime.card_read(reading)
    return reading
