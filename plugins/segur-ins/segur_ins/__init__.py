"""segur-ins: the Identifiant National de Santé for segur.

NIR/NIA checks (:mod:`segur_ins.nir`), INS OIDs (:mod:`segur_ins.oids`), RNIV traits
(:mod:`segur_ins.traits`) and identity statuses (:mod:`segur_ins.status`), the INS
datamatrix (:mod:`segur_ins.datamatrix`), the INSi client (:mod:`segur_ins.insi`) and
its sandbox (:mod:`segur_ins.sandbox`), qualification (:class:`InsService`) and the
verification at each act (:func:`verify`).

Names are imported on first use, so that loading the plugin (``segur plugins``) does
not import httpx, lxml or cryptography.
"""

from __future__ import annotations

from segur_core.lazy import lazy_exports

_EXPORTS = {
    "InsConfig": "segur_ins.config",
    "InsService": "segur_ins.identification",
    "Outcome": "segur_ins.identification",
    "InsiClient": "segur_ins.insi",
    "InsiError": "segur_ins.insi",
    "InsiIdentity": "segur_ins.insi",
    "InsiResult": "segur_ins.insi",
    "SoftwareContext": "segur_ins.insi",
    "parse_response": "segur_ins.insi",
    "Nir": "segur_ins.nir",
    "NirError": "segur_ins.nir",
    "compute_key": "segur_ins.nir",
    "is_valid": "segur_ins.nir",
    "INS_NIA_OID": "segur_ins.oids",
    "INS_NIR_DEMO_OID": "segur_ins.oids",
    "INS_NIR_OID": "segur_ins.oids",
    "INS_NIR_TEST_OID": "segur_ins.oids",
    "ins_from": "segur_ins.oids",
    "oid_for_environment": "segur_ins.oids",
    "apply": "segur_ins.status",
    "shareable_ins": "segur_ins.status",
    "compare_traits": "segur_ins.traits",
    "first_name_candidates": "segur_ins.traits",
    "normalise_traits": "segur_ins.traits",
    "Verification": "segur_ins.verification",
    "verify": "segur_ins.verification",
    "MatriculeKind": "segur_ins.oids",
    "format_cx": "segur_ins.oids",
    "parse_cx": "segur_ins.oids",
    "StrictTrait": "segur_ins.traits",
    "TraitError": "segur_ins.traits",
    "DocumentChecked": "segur_ins.status",
    "HighTrustDocument": "segur_ins.status",
    "InsMismatch": "segur_ins.status",
    "InsiRetrieved": "segur_ins.status",
    "TraitsModified": "segur_ins.status",
    "Transition": "segur_ins.status",
    "DatamatrixError": "segur_ins.datamatrix",
    "build_payload": "segur_ins.datamatrix",
    "parse_payload": "segur_ins.datamatrix",
    "payload_for": "segur_ins.datamatrix",
    "render_png": "segur_ins.datamatrix",
    "render_svg": "segur_ins.datamatrix",
    "InsiSandbox": "segur_ins.sandbox",
    "qualify_all": "segur_ins.batch",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
