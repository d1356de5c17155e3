"""INS OIDs and the matricule + OID pair.

The INS is a matricule (NIR or NIA) *and* the OID of its assigning authority; the OID
tells a NIR from a NIA and a real patient from a test or demonstration one:

- ``1.2.250.1.213.1.4.8``  INS-NIR (production)
- ``1.2.250.1.213.1.4.9``  INS-NIA (production)
- ``1.2.250.1.213.1.4.10`` INS-NIR of fictitious *test* patients (CNDA, ANS examples)
- ``1.2.250.1.213.1.4.11`` INS-NIR of fictitious *demonstration* patients (not "test NIA")
"""

from __future__ import annotations

import enum
import re

from segur_core.errors import IdentityError
from segur_core.model import INS
from segur_ins.nir import Nir

__all__ = [
    "INS_NIA_OID",
    "INS_NIR_DEMO_OID",
    "INS_NIR_OID",
    "INS_NIR_TEST_OID",
    "INS_OIDS",
    "INS_OID_PREFIX",
    "MatriculeKind",
    "environment_of",
    "format_cx",
    "ins_from",
    "kind_of",
    "oid_for_environment",
    "parse_cx",
    "split_matricule",
]

INS_OID_PREFIX = "1.2.250.1.213.1.4"
INS_NIR_OID = "1.2.250.1.213.1.4.8"
INS_NIA_OID = "1.2.250.1.213.1.4.9"
INS_NIR_TEST_OID = "1.2.250.1.213.1.4.10"
INS_NIR_DEMO_OID = "1.2.250.1.213.1.4.11"


class MatriculeKind(enum.StrEnum):
    NIR = "NIR"
    NIA = "NIA"  # numéro identifiant d'attente


#: OID -> (kind, environment)
INS_OIDS: dict[str, tuple[MatriculeKind, str]] = {
    INS_NIR_OID: (MatriculeKind.NIR, "production"),
    INS_NIA_OID: (MatriculeKind.NIA, "production"),
    INS_NIR_TEST_OID: (MatriculeKind.NIR, "test"),
    INS_NIR_DEMO_OID: (MatriculeKind.NIR, "demo"),
}

_MODES = ("production", "test", "demo")


def _known(oid: str) -> tuple[MatriculeKind, str]:
    try:
        return INS_OIDS[oid]
    except (KeyError, TypeError):
        raise IdentityError(
            "the OID is not an INS OID",
            hint=f"expected one of {', '.join(INS_OIDS)}",
        ) from None


def kind_of(oid: str) -> MatriculeKind:
    """NIR or NIA, as told by the INS OID (never by the matricule's first digit)."""
    return _known(oid)[0]


def environment_of(oid: str) -> str:
    """``production``, ``test`` or ``demo``: whose patients this OID designates."""
    return _known(oid)[1]


def oid_for_environment(mode: str, kind: MatriculeKind | str = MatriculeKind.NIR) -> str:
    """The INS OID to use for a matricule of ``kind`` in a segur ``mode``.

    NIA has a single OID (the CNDA test NIA person uses ``.9`` too), so a NIA gets
    ``.9`` whatever the mode; a NIR gets ``.8`` in production, ``.10`` in test and
    ``.11`` in demo.
    """
    if mode not in _MODES:
        raise IdentityError(f"unknown mode {mode!r}", hint=f"use one of {', '.join(_MODES)}")
    try:
        kind = MatriculeKind(kind)
    except ValueError:
        raise IdentityError(f"unknown matricule kind {kind!r}", hint="use NIR or NIA") from None
    if kind is MatriculeKind.NIA:
        return INS_NIA_OID
    return {"production": INS_NIR_OID, "test": INS_NIR_TEST_OID, "demo": INS_NIR_DEMO_OID}[mode]


def ins_from(matricule: str, oid: str, *, verify_key: bool = True) -> INS:
    """Build an :class:`INS` from a matricule and an OID, checking both.

    The matricule is compacted (spaces removed); ``verify_key=False`` accepts a key
    that does not check (to report, not reject, what a server returned).
    """
    _known(oid)
    nir = Nir.parse(matricule, verify_key=verify_key)
    return INS(matricule=str(nir), oid=oid)


def split_matricule(ins: INS) -> tuple[str, str]:
    """The 13-character ``NumIdentifiant`` and 2-digit ``Cle`` as INSi messages carry them."""
    return ins.matricule[:13], ins.matricule[13:]


_CX = re.compile(r"^([0-9AB]{15})\^\^\^&([0-9.]+)&ISO\^NH$")


def format_cx(ins: INS) -> str:
    """The HL7 CX form used by XDS and VIHF: ``matricule^^^&OID&ISO^NH``."""
    _known(ins.oid)
    return f"{ins.matricule}^^^&{ins.oid}&ISO^NH"


def parse_cx(text: str) -> INS:
    """Parse the HL7 CX form of an INS (inverse of :func:`format_cx`)."""
    match = _CX.match(text.strip()) if isinstance(text, str) else None
    if not match:
        raise IdentityError("not an INS in HL7 CX form", hint="expected matricule^^^&OID&ISO^NH")
    return ins_from(match.group(1), match.group(2))
