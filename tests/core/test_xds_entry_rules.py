"""``ENTRY_RULES`` names what :func:`entry_from_cda` derives: segur-portability keeps each
document's entry under that number and derives again any kept under another. A change to
what the function returns, on the official CDA documents of ../shared, without raising the
number would let exports carry entries derived by the former rules: this test fails then.

When it fails on purpose (the derivation changed), raise ``ENTRY_RULES`` in
``segur_core/xds/metadata.py`` and record the new fingerprint it prints.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from segur_core import convert, safezip
from segur_core.errors import InputError
from segur_core.xds import ENTRY_RULES, entry_from_cda

SHARED = Path(__file__).resolve().parents[2].parent / "shared"

#: ENTRY_RULES → the fingerprint of the entries derived from the official documents.
FINGERPRINTS = {
    1: "131ba4cfb969ec3a80b5ced6609a2d08645b6163db4cfea602309a63f3e09217",
}


def _documents() -> list[tuple[str, bytes]]:
    """Every official CDA document: the kit's XML files, and each official XDM archive's."""
    found = []
    for path in sorted((SHARED / "cisis").rglob("*.xml")):
        data = path.read_bytes()
        if b"ClinicalDocument" in data[:4096]:
            found.append((str(path.relative_to(SHARED)), data))
    for path in sorted((SHARED / "xdm").glob("*.zip")):
        with safezip.open_zip(path) as archive:
            for name in sorted(archive.names()):
                if name.upper().endswith(".XML") and not name.upper().endswith("METADATA.XML"):
                    data = archive.read(name)
                    if b"ClinicalDocument" in data[:4096]:
                        found.append((f"{path.relative_to(SHARED)}!{name}", data))
    return found


def _derived(data: bytes) -> object:
    try:
        entry = convert.unstructure(entry_from_cda(data, patient_id=""))
    except InputError as error:
        return {"refused": type(error).__name__, "issues": sorted(
            i.location or "" for i in getattr(error, "issues", ()))}  # fmt: skip
    del entry["entry_uuid"]
    return entry


def test_the_entries_of_the_official_documents_are_those_of_the_current_rules():
    if not (SHARED / "cisis").is_dir():
        pytest.skip(f"the ANS CDA kit is not in {SHARED / 'cisis'}")
    documents = _documents()
    assert len(documents) >= 20
    digest = hashlib.sha256()
    derived = 0
    for name, data in documents:
        result = _derived(data)
        derived += "refused" not in result  # type: ignore[operator]
        digest.update(json.dumps([name, result], sort_keys=True).encode())
    assert derived >= 5
    fingerprint = digest.hexdigest()
    assert FINGERPRINTS.get(ENTRY_RULES) == fingerprint, (
        f"entry_from_cda derives other entries than rules {ENTRY_RULES} did: raise "
        f"ENTRY_RULES and record {fingerprint!r} for it"
    )
