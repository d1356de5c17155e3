"""segur-ins: the Identifiant National de Santé for segur.

NIR/NIA checks (:mod:`segur_ins.nir`), INS OIDs (:mod:`segur_ins.oids`), RNIV traits
(:mod:`segur_ins.traits`) and identity statuses (:mod:`segur_ins.status`), the INS
datamatrix (:mod:`segur_ins.datamatrix`), the INSi client (:mod:`segur_ins.insi`) and
its sandbox (:mod:`segur_ins.sandbox`), qualification (:class:`InsService`) and the
verification at each act (:func:`verify`).
"""

from segur_ins.config import InsConfig
from segur_ins.identification import InsService, Outcome
from segur_ins.insi import (
    InsiClient,
    InsiError,
    InsiIdentity,
    InsiResult,
    SoftwareContext,
    parse_response,
)
from segur_ins.nir import Nir, NirError, compute_key, is_valid
from segur_ins.oids import (
    INS_NIA_OID,
    INS_NIR_DEMO_OID,
    INS_NIR_OID,
    INS_NIR_TEST_OID,
    ins_from,
    oid_for_environment,
)
from segur_ins.status import apply, shareable_ins
from segur_ins.traits import compare_traits, first_name_candidates, normalise_traits
from segur_ins.verification import Verification, verify

__all__ = [
    "INS_NIA_OID",
    "INS_NIR_DEMO_OID",
    "INS_NIR_OID",
    "INS_NIR_TEST_OID",
    "InsConfig",
    "InsService",
    "InsiClient",
    "InsiError",
    "InsiIdentity",
    "InsiResult",
    "Nir",
    "NirError",
    "Outcome",
    "SoftwareContext",
    "Verification",
    "apply",
    "compare_traits",
    "compute_key",
    "first_name_candidates",
    "ins_from",
    "is_valid",
    "normalise_traits",
    "oid_for_environment",
    "parse_response",
    "shareable_ins",
    "verify",
]
