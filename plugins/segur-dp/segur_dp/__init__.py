"""segur-dp: the Dossier Pharmaceutique (CNOP) for pharmacy software.

The DP protocol is **not public** (the CNOP approves connections against an unpublished
specification): this plugin defines the adapter boundary a pharmacy needs
(:class:`DPAdapter`: history with consent, DP creation, dispensations, DP-Alertes and
DP-Rappels), the history depth per product category with its legal windows
(:mod:`segur_dp.depth`), and an HTTPS sandbox with its adapter. See §6 and §8.2 of
``vitale-eprescription-dp.md`` in the project reference.

Names are imported on first use.
"""

from __future__ import annotations

from segur_core.lazy import lazy_exports

_EXPORTS = {
    "Alert": "model",
    "AlertKind": "model",
    "AlertOutcome": "service",
    "AlertsPending": "errors",
    "Category": "depth",
    "ConsentRequired": "errors",
    "DPAdapter": "adapter",
    "DPAnswerError": "errors",
    "DPConfig": "config",
    "DPPatient": "model",
    "DPRefused": "errors",
    "DPService": "service",
    "DPUnavailable": "errors",
    "Depth": "depth",
    "DispensationRecord": "model",
    "Dossier": "model",
    "HistoryLine": "model",
    "HttpsAdapter": "https",
    "LEGAL_MONTHS": "depth",
    "NDP_OID": "model",
    "NoDossier": "errors",
    "PatientKeyError": "errors",
    "service_for": "service",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(
    __name__, {name: f"segur_dp.{module}" for name, module in _EXPORTS.items()}, globals()
)
