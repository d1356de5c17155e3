"""Writing a portability archive ``PA<timestamp>.ZIP``, streamed.

One patient at a time: patients are listed a page at a time
(:meth:`segur_core.host.Host.iter_patients`), their sections and documents read, their
``PATnnnnn.ZIP`` built in memory and appended to the top archive, then dropped; each
archive's name, size and hash wait in a temporary file (:mod:`segur_portability.spool`)
until the manifest and the signature read them back, and so do the top archive's
central directory entries. Memory stays flat as the number of patients grows.

The archive is written under a temporary name (``.PA<timestamp>.ZIP.part``) and renamed
once complete, signed and synced: an interrupted export leaves no archive that looks
complete (and removes its partial file when it can).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import itertools
import json
import multiprocessing
import os
import time
import uuid
import zipfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import attrs

from segur_core.model import HealthDocument
from segur_core.safexml import shared_parses
from segur_core.wire.signing import Signer
from segur_core.wire.xades import write_manifest_signature
from segur_core.xdm import Issuer
from segur_portability import layout
from segur_portability.dictionary import dictionary_html
from segur_portability.entries import ExportEntries
from segur_portability.errors import ExportError
from segur_portability.manifest import Entry, Manifest, write_manifest
from segur_portability.patient import (
    PatientArchive,
    SchemaCheck,
    SectionFiles,
    build_archive,
    materialize,
)
from segur_portability.renderings import ExportRenderings
from segur_portability.spool import Spool, spooled_zip

__all__ = ["PURPOSE", "ExportResult", "export_archive"]

#: Purpose of the signature of SIGN.XML (ASTM E1762: author's signature, "Source").
PURPOSE = "1.2.840.10065.1.12.1.14"

#: ``(done, total)``; ``total`` is ``None`` for a massive export (every patient, read page
#: after page: not counted beforehand).
Progress = Callable[[int, int | None], None]


@attrs.frozen
class ExportResult:
    """A finished export: the archive's path and what it holds."""

    path: Path
    export_id: str
    export_type: str
    export_status: str
    patients: int
    documents: int
    size: int
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {**attrs.asdict(self), "path": str(self.path)}


class _Hashing:
    """A writable stream that hashes what goes through it."""

    def __init__(self, out: IO[bytes]) -> None:
        self._out = out
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        self.size += len(data)
        return self._out.write(data)

    def flush(self) -> None:
        self._out.flush()


def _member(name: str, moment: dt.datetime, *, compress: bool) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=moment.timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    info.external_attr = 0o600 << 16
    return info


def _export_type(patient_ids: Sequence[str] | None, since: dt.datetime | None) -> str:
    if patient_ids is not None and len(patient_ids) == 1:
        return "UNITAIRE"
    if patient_ids is not None or since is not None:
        return "CIBLE"
    return "MASSIF"


def _selected(host: Any, patient_ids: Sequence[str] | None) -> Iterable[str]:
    """The ids to export: those asked for, or every patient's, read page after page."""
    if patient_ids is None:
        return (patient.id for patient in host.iter_patients())
    unknown = sum(1 for pid in patient_ids if host.get_patient(pid) is None)
    if unknown:
        raise ExportError(
            f"{unknown} of the patients asked for are unknown to the host",
            hint="check the local identifiers (segur patients list)",
        )
    return list(dict.fromkeys(patient_ids))


def export_archive(
    runtime: Any,
    out_dir: Path,
    *,
    signer: Signer,
    source_id: str,
    patient_ids: Sequence[str] | None = None,
    since: dt.datetime | None = None,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
    workers: int = 1,
) -> ExportResult:
    """Export the Ségur-perimeter data of ``patient_ids`` (every patient when ``None``),
    dated at or after ``since`` when given, to ``out_dir/PA<timestamp>.ZIP``. With
    ``workers`` > 1, patients' archives are built by that many processes (a few patients
    in flight, written in order); the host is read here.

    Raises :class:`ExportError` (the output folder is unusable, a patient is unknown, a
    section does not follow its schema); nothing that looks complete is left behind.
    """
    started = time.monotonic()
    now = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=dt.UTC)
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create the output folder: {exc.strerror}") from None
    final = out_dir / layout.archive_name(now)
    if final.exists():
        raise ExportError(f"{final.name} already exists", hint="export again in a second")
    partial = out_dir / f".{final.name}.part"
    host = runtime.host
    ids = _selected(host, patient_ids)
    structure = host.structure()
    from segur_core import __version__

    issuer = Issuer(
        struct_id=structure.idnst,
        struct_name=structure.name,
        software="segur",
        software_version=__version__,
    )
    export_type = _export_type(patient_ids, since)
    status = "PARTIAL" if since is not None else "COMPLETE"
    total = len(ids) if isinstance(ids, list) else None
    check = SchemaCheck()
    renderings = ExportRenderings(runtime)
    kept_entries = ExportEntries(runtime)
    schemas: dict[str, dict[str, Any]] = {}
    documents = 0
    patients = 0
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise ExportError(f"cannot write in the output folder: {exc.strerror}") from None
    try:
        with (
            os.fdopen(fd, "wb") as raw,
            spooled_zip(raw, out_dir) as top,
            _builders(workers) as pool,
            Spool[Entry](out_dir) as entries,
        ):

            def add(name: str, data: bytes, kind: str, patient_id: str | None = None) -> None:
                with top.open(_member(name, now, compress=False), "w", force_zip64=True) as out:
                    out.write(data)
                entries.append(
                    Entry(name, kind, len(data), hashlib.sha256(data).hexdigest(), patient_id)
                )

            def sections_of(
                patient_id: str | None, docs: Sequence[HealthDocument] | None = None
            ) -> list[SectionFiles]:
                found = runtime.export_sections(patient_id, since, docs)
                for section in found:
                    if section.schema is not None:
                        schemas.setdefault(section.name, section.schema)
                return [materialize(section, check) for section in found]

            pending: deque[tuple[int, str, Future[PatientArchive]]] = deque()

            def drain(keep: int) -> None:
                """Write the built archives, in order, until ``keep`` are in flight."""
                nonlocal documents, patients
                while len(pending) > keep:
                    number, patient_id, future = pending.popleft()
                    built = future.result()
                    documents += built.documents
                    patients = number
                    add(layout.patient_archive(number), built.data, "PATIENT", patient_id)
                    if progress is not None:
                        progress(number, total)

            for number, patient_id in enumerate(ids, start=1):
                docs = [
                    d
                    for d in host.list_documents(patient_id)
                    if since is None or _aware(d.created_at) >= since
                ]
                digests = [hashlib.sha256(d.content).hexdigest() for d in docs]
                with shared_parses():  # a section and the header read: one parse
                    future = pool.submit(
                        build_archive,
                        docs,
                        sections_of(patient_id, docs),
                        issuer=issuer,
                        source_id=source_id,
                        title=f"Patient {number:05d}",
                        now=now,
                        renderings=renderings.of(docs, digests),
                        entries=kept_entries.of(docs, digests),
                        digests=digests,
                    )
                pending.append((number, patient_id, future))
                drain(2 * workers)
            drain(0)
            transverse = build_archive(
                [],
                sections_of(None),
                issuer=issuer,
                source_id=source_id,
                title="Transverse",
                now=now,
            )
            add(layout.TRANSVERSE, transverse.data, "TRANSVERSE")
            from segur_portability import schemas as own

            schemas.setdefault("docs", own.DOCUMENTS)
            signed = len(entries)  # the patients' archives and the transverse part
            readme = layout.readme(
                structure=f"{structure.name} ({structure.idnst})",
                software="segur",
                version=__version__,
                patients=patients,
            )
            top.writestr(_member(layout.README, now, compress=True), readme)
            for name, data in _documentation(schemas):
                top.writestr(_member(name, now, compress=True), data)
                entries.append(
                    Entry(name, "DOCUMENTATION", len(data), hashlib.sha256(data).hexdigest())
                )
            entries.append(
                Entry(
                    layout.README, "DOCUMENTATION", len(readme), hashlib.sha256(readme).hexdigest()
                )
            )
            manifest = Manifest(
                export_id=str(uuid.uuid4()),
                export_type=export_type,
                export_status=status,
                created_at=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                software="segur",
                software_version=__version__,
                vendor="segur contributors",
                structure_id=structure.idnst,
                structure_name=structure.name,
                statistics={
                    "patients": patients,
                    "documents": documents,
                    "archives": patients + 1,
                },
                entries=(),
                since=since.isoformat() if since is not None else None,
            )
            with top.open(_member(layout.MANIFEST, now, compress=True), "w", force_zip64=True) as m:
                hashing = _Hashing(m)
                write_manifest(hashing, manifest, entries)  # type: ignore[arg-type]
            manifest_digest = _b64(hashing.sha256.digest())

            def references() -> Iterator[tuple[str, str]]:
                yield layout.MANIFEST, manifest_digest
                for e in itertools.islice(entries, signed):
                    yield e.name, _b64(bytes.fromhex(e.sha256))

            with top.open(_member(layout.SIGN, now, compress=True), "w", force_zip64=True) as sig:
                write_manifest_signature(sig, signer, references, purpose=PURPOSE, now=now)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, final)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    runtime.journal.record(
        "portability.export",
        details={
            "export_id": manifest.export_id,
            "type": export_type,
            "patients": patients,
            **renderings.counts(),
            **kept_entries.counts(),
        },
    )
    return ExportResult(
        path=final,
        export_id=manifest.export_id,
        export_type=export_type,
        export_status=status,
        patients=patients,
        documents=documents,
        size=final.stat().st_size,
        seconds=round(time.monotonic() - started, 3),
    )


class _Inline:
    """Builds in this process, as an executor would (one worker)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:
            future.set_exception(exc)
        return future


@contextmanager
def _builders(workers: int) -> Iterator[Any]:
    """Where patients' archives are built: here, or ``workers`` processes (spawned: the
    runtime's threads and databases are not forked into them)."""
    if workers <= 1:
        yield _Inline()
        return
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _documentation(schemas: dict[str, dict[str, Any]]) -> list[tuple[str, bytes]]:
    """DOCUMENTATION/: the dictionary in French and English and each section's schema."""
    ordered = sorted(schemas.items())
    files = [(layout.data_name(name), schema) for name, schema in ordered]
    out = [
        (f"{layout.DOCUMENTATION}/DICO_FR.HTM", dictionary_html(files, "fr")),
        (f"{layout.DOCUMENTATION}/DICO_EN.HTM", dictionary_html(files, "en")),
    ]
    for file, schema in files:
        text = json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        out.append((f"{layout.SCHEMAS}/{file}", text.encode()))
    return out
