"""Helpers for tests and benchmarks of verify: a synthetic signed archive of many
patients, written with the export's own manifest and signature writers, fast to make
(every patient's archive is the same empty ZIP)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

from segur_core.wire.signing import Signer
from segur_core.wire.xades import sha256_b64, write_manifest_signature
from segur_portability import layout
from segur_portability.manifest import Entry, Manifest, write_manifest
from segur_portability.writer import PURPOSE

__all__ = ["synthetic_archive"]


def synthetic_archive(path: Path, patients: int, signer: Signer) -> None:
    """A signed archive of ``patients`` empty patient archives (and its transverse one)."""
    empty = io.BytesIO()
    zipfile.ZipFile(empty, "w").close()
    inner = empty.getvalue()
    digest = hashlib.sha256(inner).hexdigest()
    names = [layout.patient_archive(n) for n in range(1, patients + 1)] + [layout.TRANSVERSE]

    def entries() -> Iterator[Entry]:
        for name in names:
            kind = "TRANSVERSE" if name == layout.TRANSVERSE else "PATIENT"
            yield Entry(name, kind, len(inner), digest, None if kind == "TRANSVERSE" else name)

    manifest = Manifest(
        export_id="synthetic", export_type="MASSIF", export_status="COMPLETE",
        created_at="2026-12-02T10:00:00Z", software="segur", software_version="0",
        vendor="segur contributors", structure_id="1", structure_name="synthetic",
        statistics={"patients": patients}, entries=(),
    )  # fmt: skip
    out = io.BytesIO()
    write_manifest(out, manifest, entries())
    manifest_bytes = out.getvalue()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as top:
        top.writestr(layout.MANIFEST, manifest_bytes)
        for name in names:
            top.writestr(name, inner)

        def references() -> Iterator[tuple[str, str]]:
            yield layout.MANIFEST, sha256_b64(manifest_bytes)
            for name in names:
                yield name, sha256_b64(inner)

        with top.open(layout.SIGN, "w", force_zip64=True) as sign:
            write_manifest_signature(
                sign, signer, references, purpose=PURPOSE, now=dt.datetime.now(dt.UTC)
            )
