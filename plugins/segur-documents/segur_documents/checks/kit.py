"""The ANS CDA test kit (TestContenuCDA): locating it and preparing a working copy.

The kit is reference data and is never modified. Its schematrons are compiled in a
*working copy* under a cache folder keyed by the hash of the kit's content, where the
kit's known gaps are fixed first:

* ``schematrons/profils/structurationMinimale/include/voc-1.2.250.1.213.1.1.5.471-DYNAMIC.xml``
  (JDV_J07 typeCode, never committed upstream) is generated from
  ``jeuxDeValeurs/JDV_J07_XdsTypeCode_CISIS.xml``;
* ``schematrons/include/entrees/E_directiveAnticipee_int.sch`` (included by ``IHE.sch``
  with that case) is added as a copy of ``E_directiveanticipee_int.sch``.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import os
import shutil
import tempfile
import threading
from pathlib import Path

from lxml import etree

from segur_core.errors import ConfigError
from segur_core.reference import CISIS_KIT, find_reference

__all__ = ["KIT_ENV", "Kit", "default_cache_dir", "find_kit"]

KIT_ENV = CISIS_KIT.env
_KIT_DIRS = ("schematrons", "jeuxDeValeurs", "infrastructure")
_SVS = "urn:ihe:iti:svs:2008"
_J07 = "1.2.250.1.213.1.1.5.471"
_VOC_J07 = f"schematrons/profils/structurationMinimale/include/voc-{_J07}-DYNAMIC.xml"
_DIRECTIVE = "schematrons/include/entrees/E_directiveanticipee_int.sch"
_DIRECTIVE_FIXED = "schematrons/include/entrees/E_directiveAnticipee_int.sch"
_lock = threading.Lock()
_hashes: dict[Path, str] = {}


def default_cache_dir() -> Path:
    """Where compiled schematrons are kept between runs (``$XDG_CACHE_HOME/segur``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "segur" / "cisis"


def find_kit(configured: str | os.PathLike | None = None) -> Path | None:
    """The kit folder: the configured path (``documents.kit_path``), else
    ``$SEGUR_CISIS_KIT``, else an installed data package, else ``../shared/cisis`` beside
    a source checkout, else ``None`` (:func:`segur_core.reference.find_reference`)."""
    return find_reference(CISIS_KIT, configured, key="documents.kit_path")


def _content_hash(kit: Path) -> str:
    with _lock:
        if kit in _hashes:
            return _hashes[kit]
    digest = hashlib.sha256()
    for top in _KIT_DIRS:
        for path in sorted((kit / top).rglob("*")):
            if path.is_file():
                digest.update(path.relative_to(kit).as_posix().encode())
                digest.update(b"\0")
                digest.update(path.read_bytes())
    value = digest.hexdigest()[:20]
    with _lock:
        _hashes[kit] = value
    return value


class Kit:
    """A located kit and its prepared working copy."""

    def __init__(self, root: Path, cache_dir: Path | None = None) -> None:
        self.root = Path(root)
        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()

    @functools.cached_property
    def hash(self) -> str:
        """The hash of the kit's content, computed on first use (reading the whole kit
        takes ~0.3 s): only the schematrons' working copy needs it, not the XSD check."""
        return _content_hash(self.root)

    @property
    def work(self) -> Path:
        return self.cache_dir / self.hash / "kit"

    @property
    def xsd(self) -> Path:
        return self.root / "infrastructure" / "cda" / "CDA_extended.xsd"

    @property
    def schematrons(self) -> Path:
        return self.work / "schematrons"

    def prepare(self) -> Path:
        """Create the fixed working copy once (safe across threads and processes)."""
        if (self.work / ".ready").exists():
            return self.work
        self.work.parent.mkdir(parents=True, exist_ok=True)
        with _lock, _file_lock(self.work.parent / ".lock"):
            if (self.work / ".ready").exists():
                return self.work
            tmp = Path(tempfile.mkdtemp(prefix="kit-", dir=self.work.parent))
            for top in ("schematrons", "jeuxDeValeurs"):
                shutil.copytree(self.root / top, tmp / top)
            for path in tmp.rglob("*"):
                if path.is_file():
                    path.chmod(0o644)
                elif path.is_dir():
                    path.chmod(0o755)
            fix_kit(tmp)
            (tmp / ".ready").write_text(self.hash)
            if self.work.exists():
                shutil.rmtree(self.work)
            tmp.rename(self.work)
        return self.work


@contextlib.contextmanager
def _file_lock(path: Path):
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def fix_kit(work: Path) -> None:
    """Apply the known fixes to a writable copy of the kit (see the module docstring)."""
    source = etree.parse(str(work / "jeuxDeValeurs" / "JDV_J07_XdsTypeCode_CISIS.xml"))
    # no namespace anywhere: the schematron looks up unprefixed valueSet/conceptList/concept
    root = etree.Element("valueSets")
    value_set = etree.SubElement(
        root,
        "valueSet",
        id=_J07,
        name="JDV_J07_XdsTypeCode_CISIS",
        displayName="JDV_J07_XdsTypeCode_CISIS",
        statusCode="final",
    )
    concepts = etree.SubElement(value_set, "conceptList")
    for concept in source.iterfind(f".//{{{_SVS}}}ValueSet[@id='{_J07}']//{{{_SVS}}}Concept"):
        etree.SubElement(
            concepts,
            "concept",
            code=concept.get("code", ""),
            codeSystem=concept.get("codeSystem", ""),
            displayName=concept.get("displayName", ""),
            level="0",
            type="L",
        )
    if not len(concepts):
        raise ConfigError("the kit's JDV_J07 value set has no concept", key="documents.kit_path")
    (work / _VOC_J07).write_bytes(
        etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    )
    fixed = work / _DIRECTIVE_FIXED
    if not fixed.exists() and (work / _DIRECTIVE).exists():
        shutil.copyfile(work / _DIRECTIVE, fixed)
