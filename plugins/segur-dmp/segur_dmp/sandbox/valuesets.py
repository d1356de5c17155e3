"""Value sets (JDV) of the ANS CDA test kit, read from its IHE SVS files when present."""

from __future__ import annotations

import logging
from pathlib import Path

from segur_core.safexml import parse_xml
from segur_dmp.mtom import MAX_XML_BYTES

__all__ = ["KIT_VALUE_SETS", "ValueSets", "default_kit_dir"]

log = logging.getLogger(__name__)
SVS = "urn:ihe:iti:svs:2008"
#: metadata → kit file (JDV_J0x): the CI-SIS sets the sandbox checks.
KIT_VALUE_SETS = {
    "authorSpecialty": "JDV_J01_XdsAuthorSpecialty_CISIS.xml",
    "healthcareFacilityTypeCode": "JDV_J02_XdsHealthcareFacilityTypeCode_CISIS.xml",
    "practiceSettingCode": "JDV_J04_XdsPracticeSettingCode_CISIS.xml",
    "typeCode": "JDV_J07_XdsTypeCode_CISIS.xml",
    "confidentialityCode": "JDV_J08_XdsConfidentialityCode_CISIS.xml",
}


def default_kit_dir() -> Path | None:
    """The kit's ``jeuxDeValeurs`` folder, found as segur finds the CI-SIS kit
    (:func:`segur_core.reference.find_reference`: ``$SEGUR_CISIS_KIT``, a data package,
    ``../shared/cisis`` beside a checkout), or ``None``."""
    from segur_core.reference import CISIS_KIT, find_reference

    kit = find_reference(CISIS_KIT)
    return kit / "jeuxDeValeurs" if kit is not None else None


class ValueSets:
    """``{metadata: {(code, codeSystem)}}`` loaded from the kit; a set whose file is
    absent is not checked (``checked`` lists those that are)."""

    def __init__(self, directory: Path | None = None) -> None:
        self.sets: dict[str, set[tuple[str, str]]] = {}
        directory = directory or default_kit_dir()
        for name, filename in KIT_VALUE_SETS.items():
            if directory is None:
                break
            path = directory / filename
            if not path.is_file():
                continue
            root = parse_xml(path.read_bytes(), max_bytes=MAX_XML_BYTES)
            codes = {
                (c.get("code", ""), c.get("codeSystem", "")) for c in root.iter(f"{{{SVS}}}Concept")
            }
            if codes:
                self.sets[name] = codes
        if not self.sets:
            log.warning("no kit value set found in %s: metadata codes are not checked", directory)

    @property
    def checked(self) -> tuple[str, ...]:
        return tuple(sorted(self.sets))

    def allows(self, name: str, code: str, system: str) -> bool:
        values = self.sets.get(name)
        return values is None or (code, system) in values
