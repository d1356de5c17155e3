"""The fixed parts of a portability archive (ANS PDLGC layout, reference
``portability.md``): its file names, ``README.TXT`` and the 8.3 names of its members.

::

    PA<AAAAMMJJThhmmss>.ZIP
        README.TXT  MANIFEST.XML  SIGN.XML
        DOCUMENTATION/DICO_FR.HTM  DOCUMENTATION/DICO_EN.HTM  DOCUMENTATION/SCHEMAS/<NAME>.JSN
        TRANSVERSE.ZIP              what is about no single patient (DATA/*.JSN, INDEX.HTM)
        PAT00001.ZIP ...            one IHE XDM archive per patient, plus PDF/ and DATA/
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from segur_core.exportdata import data_name

__all__ = [
    "DATA",
    "DOCUMENTATION",
    "MANIFEST",
    "OTHER",
    "PDF",
    "README",
    "SCHEMAS",
    "SIGN",
    "TRANSVERSE",
    "archive_name",
    "ascii_text",
    "data_name",
    "patient_archive",
]

README = "README.TXT"
MANIFEST = "MANIFEST.XML"
SIGN = "SIGN.XML"
DOCUMENTATION = "DOCUMENTATION"
SCHEMAS = f"{DOCUMENTATION}/SCHEMAS"
TRANSVERSE = "TRANSVERSE.ZIP"
#: Inside a patient's archive: structured data, PDF renderings, documents outside XDM.
DATA = "DATA"
PDF = "PDF"
OTHER = "OTHER"

_ARCHIVE = re.compile(r"^PA\d{8}T\d{6}\.ZIP$")


def archive_name(moment: dt.datetime) -> str:
    """``PA<AAAAMMJJThhmmss>.ZIP`` for the export started at ``moment`` (UTC)."""
    return f"PA{moment.astimezone(dt.UTC):%Y%m%dT%H%M%S}.ZIP"


def is_archive_name(name: str) -> bool:
    """Whether ``name`` is a complete archive's name (a partial one has another)."""
    return bool(_ARCHIVE.match(name))


def patient_archive(number: int) -> str:
    """``PATnnnnn.ZIP``: the ``number``-th patient's archive (from 1)."""
    return f"PAT{number:05d}.ZIP"


def ascii_text(lines: list[str]) -> bytes:
    """7-bit ASCII with CRLF line ends (accents dropped), as a README.TXT is written."""
    out = []
    for line in lines:
        decomposed = unicodedata.normalize("NFKD", line)
        out.append(
            "".join(c if ord(c) < 128 else "?" for c in decomposed if not unicodedata.combining(c))
        )
    return "\r\n".join(out).encode("ascii")


def readme(*, structure: str, software: str, version: str, patients: int) -> bytes:
    """README.TXT of the top archive: who exported, what it holds, how to check it."""
    return ascii_text(
        [
            "Archive de portabilite des donnees de sante (perimetre Segur)",
            "=============================================================",
            f"    . Structure : {structure}",
            f"    . Logiciel : {software} {version}",
            f"    . Patients : {patients}",
            "",
            "Contenu :",
            f"    {README}          ce fichier",
            f"    {MANIFEST}        identifiant, type, statistiques, chaque archive "
            "(taille, SHA-256)",
            f"    {SIGN}            signature XAdES du manifeste et des archives",
            f"    {DOCUMENTATION}/    dictionnaire des donnees (DICO_FR.HTM, DICO_EN.HTM) "
            "et schemas JSON",
            f"    {TRANSVERSE}      donnees qui ne concernent pas un seul patient",
            "    PATnnnnn.ZIP      un patient : archive IHE XDM (INDEX.HTM, README.TXT,",
            "                      IHE_XDM/SUBSET01/...), PDF/ (rendus) et DATA/ (donnees)",
            "",
            "Verification : segur export verify <archive>",
            "Import : segur import <archive>",
            "",
        ]
    )
