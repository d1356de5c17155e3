"""segur-eprescription: the ordonnance numérique, from its QR code to the dispensation.

Scan (the prescription id from a QR payload or the number typed from the paper), read
the prescription (eP-MED-DM CDA) into frozen models, and, behind an adapter boundary,
fetch it from the e-prescription service and report the dispensation. See
``vitale-eprescription-dp.md`` §5 and §8 in the project reference for the facts it
follows, and the README for what is assumed where the specifications are not public.

Names are imported on first use: ``segur plugins`` imports
:mod:`segur_eprescription.plugin` without paying for lxml.
"""

from __future__ import annotations

from segur_core.lazy import lazy_exports

_EXPORTS = {
    "AlreadyDispensed": "errors",
    "DispensationError": "errors",
    "EPrescription": "models",
    "EPrescriptionServiceError": "errors",
    "PRESCRIPTION_ID_OID": "ids",
    "PrescribedPatient": "models",
    "Prescriber": "models",
    "PrescriptionFormatError": "errors",
    "PrescriptionLine": "models",
    "PrescriptionNotFound": "errors",
    "Product": "models",
    "ProductKind": "models",
    "Quantity": "models",
    "ScanError": "errors",
    "check_prescription_id": "ids",
    "read_prescription": "epmeddm",
    "scan": "ids",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(
    __name__,
    {name: f"segur_eprescription.{module}" for name, module in _EXPORTS.items()},
    globals(),
)
