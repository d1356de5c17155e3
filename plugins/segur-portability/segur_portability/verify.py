"""Verifying a portability archive: the signature, the manifest's sizes and hashes,
every data file against its schema, every XDM archive against its metadata; anything
missing, added or altered is reported, one :class:`Problem` each.

Everything read goes through :mod:`segur_core.safezip` and the hardened XML parser: a
hostile archive ends in problems or an :class:`~segur_portability.errors.ArchiveError`,
never in anything else.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs

from segur_core.errors import InputError, SecurityError
from segur_core.safezip import ZipSource, open_zip
from segur_core.wire.xades import SignatureError, check_manifest_signature
from segur_core.xdm import read_xdm
from segur_portability import layout
from segur_portability.errors import ArchiveError
from segur_portability.manifest import Manifest, read_manifest
from segur_portability.patient import SchemaCheck
from segur_portability.writer import PURPOSE

__all__ = ["Problem", "VerifyReport", "verify_archive"]

#: Limits of what is read: members of the top archive, one inner archive, in total.
MAX_MEMBERS = 5_000_000
MAX_INNER_BYTES = 2 * 1024 * 1024 * 1024
MAX_TOTAL_BYTES = 1 << 44
MAX_INNER_MEMBERS = 100_000


@attrs.frozen
class Problem:
    """One finding: ``kind`` is ``missing``, ``added``, ``altered``, ``invalid`` or
    ``signature``; ``path`` the file (``PAT00001.ZIP/DATA/PATIENT.JSN`` inside one)."""

    kind: str
    path: str
    detail: str = ""


@attrs.frozen
class VerifyReport:
    """The outcome of :func:`verify_archive`; ``ok`` when no problem was found."""

    export_id: str | None
    signer: str | None
    patients: int
    problems: tuple[Problem, ...] = attrs.field(converter=tuple)

    @property
    def ok(self) -> bool:
        return not self.problems

    def of_kind(self, kind: str) -> list[str]:
        """The paths of the problems of one kind."""
        return [p.path for p in self.problems if p.kind == kind]

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "export_id": self.export_id,
            "signer": self.signer,
            "patients": self.patients,
            "problems": [attrs.asdict(p) for p in self.problems],
        }


def _hex(b64: str) -> str | None:
    try:
        return base64.b64decode(b64, validate=True).hex()
    except (binascii.Error, ValueError):
        return None


def verify_archive(
    source: ZipSource | Path,
    *,
    ca_pem_file: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> VerifyReport:
    """Verify an archive (a path, bytes or a binary file). With ``ca_pem_file`` the
    signer must chain to one of its CAs; without, the signature is checked against the
    certificate it carries and ``signer`` says whose it is.

    Raises :class:`ArchiveError` when the file is not a readable ZIP archive at all.
    """
    problems: list[Problem] = []
    try:
        top = open_zip(source, max_entries=MAX_MEMBERS, max_total_uncompressed=MAX_TOTAL_BYTES)
    except InputError as exc:
        raise ArchiveError(f"not a readable portability archive: {exc.message}") from None
    with top:
        names = set(top.names())
        found: list[Problem] = []
        manifest, manifest_b64 = _manifest(top, names, found)
        signed = _SignedFiles(manifest)
        signer = _signature(top, names, ca_pem_file, signed, problems)
        problems.extend(found)
        if manifest is None:
            return VerifyReport(None, signer, 0, problems)
        if signer is not None:
            signed.compare(manifest_b64, problems)
        listed = {entry.name for entry in manifest.entries}
        for extra in sorted(names - listed - {layout.MANIFEST, layout.SIGN}):
            problems.append(Problem("added", extra, "not in the manifest"))
        schemas = _schemas(top, manifest, names)
        check = SchemaCheck()
        archives = [e for e in manifest.entries if e.type in ("PATIENT", "TRANSVERSE")]
        done = 0
        for entry in manifest.entries:
            if entry.name not in names:
                problems.append(Problem("missing", entry.name, "listed in the manifest"))
                continue
            try:
                data = top.read(entry.name, max_size=MAX_INNER_BYTES)
            except InputError as exc:
                problems.append(Problem("invalid", entry.name, exc.message))
                continue
            if len(data) != entry.size:
                problems.append(
                    Problem("altered", entry.name, f"size {len(data)}, manifest {entry.size}")
                )
            elif hashlib.sha256(data).hexdigest() != entry.sha256.lower():
                problems.append(Problem("altered", entry.name, "SHA-256 differs from the manifest"))
            if entry.type in ("PATIENT", "TRANSVERSE"):
                _inner(entry.name, data, schemas, check, problems)
                done += 1
                if progress is not None:
                    progress(done, len(archives))
        return VerifyReport(
            manifest.export_id,
            signer,
            sum(1 for e in manifest.entries if e.type == "PATIENT"),
            problems,
        )


def _signature(
    top: Any,
    names: set[str],
    ca_pem_file: str | None,
    signed: _SignedFiles,
    problems: list[Problem],
) -> str | None:
    """Check SIGN.XML, read as a stream, its references compared on the way with the
    manifest's files (``signed``); the signer's name, or None when it does not verify."""
    if layout.SIGN not in names:
        problems.append(Problem("missing", layout.SIGN, "the archive is not signed"))
        return None
    try:
        verified = check_manifest_signature(
            top.iter_chunks(layout.SIGN),
            signed.reference,
            ca_pem_file=ca_pem_file,
            expect_purpose=PURPOSE,
        )
    except (InputError, SecurityError) as exc:
        problems.append(Problem("signature", layout.SIGN, exc.message))
        return None
    return str(verified.certificate.subject.rfc4514_string())


def _manifest(
    top: Any, names: set[str], problems: list[Problem]
) -> tuple[Manifest | None, str | None]:
    if layout.MANIFEST not in names:
        problems.append(Problem("missing", layout.MANIFEST, "nothing can be checked without it"))
        return None, None
    digest = hashlib.sha256()

    def hashed() -> Iterator[bytes]:
        for chunk in top.iter_chunks(layout.MANIFEST):
            digest.update(chunk)
            yield chunk

    try:
        manifest = read_manifest(hashed())
    except InputError as exc:
        problems.append(Problem("invalid", layout.MANIFEST, exc.message))
        return None, None
    return manifest, base64.b64encode(digest.digest()).decode("ascii")


class _SignedFiles:
    """What SIGN.XML says of the manifest's files, gathered a reference at a time: one
    byte per file of the manifest and the few references to something else, never the
    references themselves."""

    _UNSIGNED, _SAME, _DIFFERENT, _UNREADABLE = 0, 1, 2, 3

    def __init__(self, manifest: Manifest | None) -> None:
        self._compared = manifest is not None  # without a manifest, nothing to compare
        self._entries = manifest.entries if manifest is not None else ()
        self._index: dict[str, int] = {}
        for n, entry in enumerate(self._entries):
            if entry.type in ("PATIENT", "TRANSVERSE"):
                self._index.setdefault(entry.name, n)
        self._state = bytearray(len(self._entries))
        self._manifest: str | None = None
        self._elsewhere: set[str] = set()

    def reference(self, uri: str, digest: str) -> None:
        """One reference of SIGN.XML (a file named twice is a signature error)."""
        if not self._compared:
            return
        n = self._index.get(uri)
        if uri == layout.MANIFEST:
            twice = self._manifest is not None
            self._manifest = digest
        elif n is None:
            twice = uri in self._elsewhere
            self._elsewhere.add(uri)
        else:
            twice = self._state[n] != self._UNSIGNED
            signed = _hex(digest)
            if signed is None:  # not a digest: the file counts as not covered
                self._state[n] = self._UNREADABLE
            else:
                same = signed == self._entries[n].sha256.lower()
                self._state[n] = self._SAME if same else self._DIFFERENT
        if twice:
            raise SignatureError("the signature's manifest lists a reference twice")

    def compare(self, manifest_b64: str | None, problems: list[Problem]) -> None:
        """The manifest and its files against the signed references."""
        if self._manifest != manifest_b64:
            problems.append(Problem("altered", layout.MANIFEST, "differs from the signed manifest"))
        for n, entry in enumerate(self._entries):
            if entry.type not in ("PATIENT", "TRANSVERSE"):
                continue
            if self._index[entry.name] != n or self._state[n] in (
                self._UNSIGNED,
                self._UNREADABLE,
            ):
                problems.append(Problem("added", entry.name, "not covered by the signature"))
            elif self._state[n] == self._DIFFERENT:
                problems.append(Problem("altered", entry.name, "hash differs from the signed one"))
        for name in sorted(self._elsewhere):
            problems.append(Problem("missing", name, "signed but not in the manifest"))


def _schemas(top: Any, manifest: Manifest, names: set[str]) -> dict[str, dict[str, Any]]:
    """The schemas shipped in DOCUMENTATION/SCHEMAS (their integrity is the manifest's)."""
    out: dict[str, dict[str, Any]] = {}
    prefix = f"{layout.SCHEMAS}/"
    for entry in manifest.entries:
        if not entry.name.startswith(prefix) or entry.name not in names:
            continue
        try:
            schema = json.loads(top.read(entry.name, max_size=16 * 1024 * 1024))
        except (InputError, ValueError):
            continue
        if isinstance(schema, dict):
            out[entry.name[len(prefix) :]] = schema
    return out


def _inner(
    name: str,
    data: bytes,
    schemas: dict[str, dict[str, Any]],
    check: SchemaCheck,
    problems: list[Problem],
) -> None:
    """One patient's (or the transverse) archive: its data files against their schemas,
    its XDM archive against its metadata, its documents against DOCS.JSN."""
    try:
        inner = open_zip(
            data, max_entries=MAX_INNER_MEMBERS, max_total_uncompressed=MAX_INNER_BYTES
        )
    except InputError as exc:
        problems.append(Problem("invalid", name, exc.message))
        return
    with inner:
        members = set(inner.names())
        documents: list[Any] = []
        for member in sorted(m for m in members if m.startswith(f"{layout.DATA}/")):
            file = member[len(layout.DATA) + 1 :]
            where = f"{name}/{member}"
            try:
                content = inner.read(member)
            except InputError as exc:
                problems.append(Problem("invalid", where, exc.message))
                continue
            schema = schemas.get(file)
            if schema is None:
                problems.append(Problem("invalid", where, "no schema documents this file"))
                continue
            errors = check.errors(schema, content)
            if errors:
                problems.append(Problem("invalid", where, errors[0]))
            elif file == layout.data_name("docs"):
                documents = json.loads(content)
        if any(m.upper().startswith("IHE_XDM/") for m in members):
            try:
                read_xdm(data, max_bytes=MAX_INNER_BYTES)
            except (InputError, SecurityError) as exc:
                problems.append(Problem("invalid", f"{name}/IHE_XDM", exc.message))
        for record in documents:
            path = f"{name}/{record['file']}"
            if record["file"] not in members:
                problems.append(Problem("missing", path, "named by DOCS.JSN"))
                continue
            try:
                content = inner.read(record["file"])
            except InputError as exc:
                problems.append(Problem("invalid", path, exc.message))
                continue
            if hashlib.sha256(content).hexdigest() != record["sha256"]:
                problems.append(Problem("altered", path, "SHA-256 differs from DOCS.JSN"))
