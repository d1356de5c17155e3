"""The fixed parts of an ``IHE_XDM.ZIP`` archive: its paths, ``README.TXT`` and
``INDEX.HTM`` (IHE ITI TF-2b ITI-32; ANS ``struct-readme.md``, ``struct-index.md``).

README.TXT is written in 7-bit ASCII with CRLF line ends, as IHE asks (accented letters
are transliterated); INDEX.HTM is XHTML naming the issuing organisation and linking to
README.TXT.
"""

from __future__ import annotations

import html
import unicodedata

import attrs

from segur_core.model import hidden

__all__ = [
    "ARCHIVE_NAME",
    "DOCUMENT_NAME",
    "INDEX",
    "METADATA",
    "README",
    "ROOT",
    "SUBSET",
    "Issuer",
    "index_htm",
    "readme_txt",
]

ARCHIVE_NAME = "IHE_XDM.ZIP"
README = "README.TXT"
INDEX = "INDEX.HTM"
ROOT = "IHE_XDM"
#: The subset folder we write (free per IHE XDM; the ANS examples use this one).
SUBSET = "SUBSET01"
METADATA = "METADATA.XML"
#: Document file names within a subset: ``DOC0001.XML``...
DOCUMENT_NAME = "DOC{:04d}.XML"


@attrs.frozen
class Issuer:
    """Who made the archive, as README.TXT and INDEX.HTM must say: the organisation
    (``struct_id`` is its national id, ``StructIdNat``), a contact and the software."""

    struct_id: str
    struct_name: str
    contact: str = attrs.field(default="", repr=hidden)  # a person's name
    address: str = ""
    phone: str = attrs.field(default="", repr=hidden)
    software: str = "segur"
    software_version: str = ""
    vendor: str = "segur contributors"


def _ascii(text: str) -> str:
    """7-bit ASCII: accents dropped (``é`` → ``e``), anything else replaced by ``?``."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(
        ch if ord(ch) < 128 else "?" for ch in decomposed if not unicodedata.combining(ch)
    )


def readme_txt(issuer: Issuer, documents: list[str]) -> bytes:
    """README.TXT: issuer, software, instructions and the archive's tree (ASCII, CRLF)."""
    lines = [
        "Emetteur :",
        "==========",
        f"    . Organisme : {issuer.struct_name} ({issuer.struct_id})",
    ]
    if issuer.contact:
        lines.append(f"    . Contact : {issuer.contact}")
    if issuer.address:
        lines.append(f"    . Adresse : {issuer.address}")
    if issuer.phone:
        lines.append(f"    . Telephone : {issuer.phone}")
    lines += [
        "",
        "Application de l'emetteur :",
        "===========================",
        f"    . Nom : {issuer.software}",
        f"    . Version : {issuer.software_version}",
        f"    . Editeur : {issuer.vendor}",
        "",
        "Instructions :",
        "==============",
        ". Consultez les fichiers recus par messagerie securisee de sante dans votre",
        "  logiciel de professionnel de sante, ou ouvrez INDEX.HTM dans un navigateur.",
        "",
        "Arborescence :",
        "==============",
        f"     {README}",
        f"     {INDEX}",
        f"     + {ROOT}",
        f"           + {SUBSET}",
        f"                {METADATA}",
        *(f"                {name}" for name in documents),
        "",
    ]
    return "\r\n".join(_ascii(line) for line in lines).encode("ascii")


def index_htm(issuer: Issuer, documents: list[tuple[str, str]]) -> bytes:
    """INDEX.HTM: the issuing organisation (StructIdNat and name), a confidentiality
    warning, a link to README.TXT and one to each ``(file, title)`` document."""
    e = html.escape
    items = "\n".join(
        f'      <li><a href="{ROOT}/{SUBSET}/{e(name)}">{e(title or name)}</a></li>'
        for name, title in documents
    )
    page = f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN"
  "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="fr" lang="fr">
  <head>
    <meta http-equiv="Content-Type" content="text/html; charset=UTF-8"/>
    <title>IHE XDM</title>
  </head>
  <body>
    <p>Emetteur : <span class="StructNom">{e(issuer.struct_name)}</span>
      (<span class="StructIdNat">{e(issuer.struct_id)}</span>)</p>
    <p>Ces documents contiennent des donnees de sante a caractere personnel, couvertes
      par le secret medical.</p>
    <ul>
{items}
    </ul>
    <p><a href="{README}">{README}</a></p>
  </body>
</html>
"""
    return page.encode("utf-8")
