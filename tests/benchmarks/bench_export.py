"""segur-portability benchmark: a massive export of the reference host.

Setup (not measured): a reference host with N patients (qualified INS) and D documents
each: a note de vaccination built once by segur-documents, its ids and INS rewritten per
document, plus one dispensation and one consent per patient; rows are written with
plain SQL in the reference host's own format (its ``host_store_document`` is made for
one document at a time). Each document has the PDF rendering its validation keeps in
the data directory (the template's, rendered once and hard-linked under each name).

Measured, each in its own child process (wall time, peak resident memory of the whole
process from ``VmHWM``, interpreter included):

- **export**: ``export_archive`` of every patient (the runtime with the portability
  plugin on that host): read, XDM metadata from each kept entry (``--cold``: from each
  CDA header), PDF renderings, every
  section checked against its schema, manifest, XAdES signature, temporary name;
- **baseline**: the same bytes written with ``zipfile`` alone: every member of every
  ``PATnnnnn.ZIP`` of the export (read beforehand, reading not timed) written again in a
  new inner archive (same compression) stored in a new top archive. With ``--workers W``
  the baseline uses as many processes as the export (the project's rule: if segur uses
  worker processes, the baseline may too): each compresses inner archives, read a
  chunk of patients at a time (reading not timed, the pool started before the clock),
  and the top archive is written in order.

Prints the time, the peak memory (goal <= 300 MB), the ratio baseline / export (goal >=
0.5: the export at least half as fast as zipfile writing the same bytes), the same ratio
in CPU seconds (every process's user + system time: steadier than wall time on a shared
machine) and the load average around the run.

Run: ``uv run python tests/benchmarks/bench_export.py [--patients N] [--documents D]
[--workers W] [--cold]`` (default 100000 patients, 3 documents each, 1 process;
``--quick``: 2000 patients)
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

MEMORY_GOAL_MB = 300
RATIO_GOAL = 0.5
DEFLATED = zipfile.ZIP_DEFLATED
_OID = "1.2.250.1.213.1.4.10"
_INS = b"279035121518989"


def _usage(start: float) -> dict[str, float]:
    return {"seconds": time.perf_counter() - start, "maxrss_mb": _peak_mb()}


def _peak_mb() -> float:
    """This process's peak resident memory: ``VmHWM`` where Linux gives it (``ru_maxrss``
    of a child counts its parent's peak too: Linux keeps it across the fork and exec)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _nir(n: int) -> str:
    body = f"2{(n % 90) + 10:02d}0{(n % 9) + 1}75{n:06d}"[:13]
    return body + f"{97 - int(body) % 97:02d}"


def build_host(data_dir: Path, patients: int, documents: int, *, entries: bool = True) -> None:
    """The reference host's database with the generated data (plain SQL, its format),
    each document's rendering and (``entries``) its XDS entry kept as its validation
    keeps them."""
    import attrs
    from segur_documents.builders import build_vaccination
    from segur_documents.demo import demo_contents
    from segur_documents.testing import sample_context, sample_patient

    from hostspecs.reference.host import ReferenceHost
    from segur_core import convert
    from segur_core.model import INS, Consent, Dispensation

    template = build_vaccination(
        demo_contents(dt.date(2024, 10, 2))["vaccination"], sample_context()
    ).document
    doc_id = template.id.split("^")[-1].encode()
    keep_rendering = _renderings(data_dir, template.content)
    keep_entry = _entries(data_dir) if entries else lambda content: None
    meta = convert.unstructure(template)
    del meta["content"]
    base = sample_patient(True)
    ReferenceHost(data_dir / "host.sqlite").close()  # the schema
    db = sqlite3.connect(data_dir / "host.sqlite")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("BEGIN")
    seq = 0
    for n in range(1, patients + 1):
        pid = f"P{n:06d}"
        nir = _nir(n)
        patient = attrs.evolve(
            base,
            id=pid,
            identity=attrs.evolve(base.identity, ins=INS(nir, _OID)),
        )
        traits = patient.identity.traits
        db.execute(
            "INSERT INTO patient VALUES (?, ?, ?, ?, ?, ?)",
            (pid, traits.birth_name, traits.first_name, str(traits.birth_date), nir,
             convert.dumps(patient)),
        )  # fmt: skip
        for d in range(documents):
            seq += 1
            unique = f"{n:07d}{d:02d}".encode()
            content = template.content.replace(_INS, nir.encode()).replace(doc_id, unique)
            keep_rendering(content)
            keep_entry(content)
            new_id = meta["id"].replace(doc_id.decode(), unique.decode())
            row_meta = dict(meta, patient_id=pid, id=new_id)
            db.execute(
                "INSERT INTO document VALUES (?, ?, ?, ?, ?, ?)",
                (row_meta["id"], pid, row_meta["created_at"], seq, json.dumps(row_meta), content),
            )
        when = dt.datetime(2024, 10, 2, 10, tzinfo=dt.UTC)
        disp = Dispensation(pid, when, "3400932857241", "VACCIN TETANIQUE PASTEUR")
        db.execute(
            "INSERT INTO dispensation (patient_id, dispensed_at, data) VALUES (?, ?, ?)",
            (pid, when.isoformat(), convert.dumps(disp)),
        )
        consent = Consent(pid, "dmp-access", True, recorded_at=when)
        db.execute(
            "INSERT INTO consent (patient_id, purpose, data) VALUES (?, ?, ?)",
            (pid, "dmp-access", convert.dumps(consent)),
        )
    db.execute("UPDATE patient_sequence SET n = ?", (patients,))
    db.execute("COMMIT")
    db.close()


def _renderings(data_dir: Path, template: bytes):
    """Keeps, for each document, the rendering its validation would have kept: the
    template's, rendered once and linked under each document's name (one file on disk)."""
    import errno
    import os
    import shutil

    from segur_documents.display import Renderer
    from segur_documents.renderings import FOLDER, RenderingStore

    store = RenderingStore(data_dir / FOLDER)
    first = store.put(template, Renderer.find().pdf(template))

    def keep(content: bytes) -> None:
        nonlocal first
        path = store.path(content)
        path.parent.mkdir(mode=0o700, exist_ok=True)
        try:
            os.link(first, path)
        except OSError as exc:  # a file has at most 65,000 links (ext4): a new copy
            if exc.errno != errno.EMLINK:
                raise
            shutil.copyfile(first, path)
            first = path

    return keep


def _entries(data_dir: Path):
    """Keeps, for each document, the XDS entry its validation would have kept (derived
    from the document by ``entry_from_cda``, as ``keep_entry`` does; written without
    waiting for the disk: this is the benchmark's setup, not a validation)."""
    import hashlib

    from segur_portability.entries import FOLDER, EntryStore

    from segur_core.xds import entry_from_cda

    store = EntryStore(data_dir / FOLDER)

    def keep(content: bytes) -> None:
        path = store.path(hashlib.sha256(content).hexdigest())
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(store.encode(entry_from_cda(content, patient_id="")))

    return keep


def child_export(data_dir: Path, out: Path, workers: int) -> dict:
    import segur_portability.plugin as plugin
    from segur_portability.signing import signer_for
    from segur_portability.writer import export_archive

    from segur_core.runtime import create_runtime

    runtime = create_runtime(
        {"segur": {"mode": "test"}}, data_dir=data_dir, extra_plugins=[plugin], autoload=False
    )
    signer = signer_for(runtime)  # the test PKI is made outside the measure
    cpu = time.process_time()
    start = time.perf_counter()
    result = export_archive(runtime, out, signer=signer, source_id="1.2.3.999", workers=workers)
    usage = _usage(start)
    workers_usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = time.process_time() - cpu + workers_usage.ru_utime + workers_usage.ru_stime
    runtime.close()
    return {**usage, "path": str(result.path), "size": result.size, "cpu": cpu,
            "worker_mb": workers_usage.ru_maxrss / 1024,
            "patients": result.patients, "documents": result.documents}  # fmt: skip


def _inner_archive(members: list[tuple[str, bytes]]) -> tuple[bytes, float]:
    """A new inner archive of ``members`` and the CPU seconds it took (in a worker)."""
    from segur_portability.patient import COMPRESS_LEVEL

    cpu = time.process_time()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as new:
        for member, data in members:
            new.writestr(member, data)
    return buffer.getvalue(), time.process_time() - cpu


def _patients(src: zipfile.ZipFile) -> Iterator[tuple[str, list[tuple[str, bytes]]]]:
    """Each ``PATnnnnn.ZIP`` of the export and its members, read."""
    for name in src.namelist():
        if name.startswith("PAT"):
            with zipfile.ZipFile(src.open(name)) as inner:
                yield name, [(info.filename, inner.read(info)) for info in inner.infolist()]


def child_baseline(archive: Path, out: Path, workers: int) -> dict:
    from segur_portability.patient import COMPRESS_LEVEL

    writing = cpu = 0.0
    start = time.perf_counter()
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(out, "w", allowZip64=True) as dst:
        if workers > 1:
            return _baseline_with_workers(src, dst, out, workers, start)
        for name, members in _patients(src):
            began, began_cpu = time.perf_counter(), time.process_time()
            with (
                dst.open(name, "w", force_zip64=True) as target,
                zipfile.ZipFile(
                    target, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL
                ) as new,
            ):
                for member, data in members:
                    new.writestr(member, data)
            writing += time.perf_counter() - began
            cpu += time.process_time() - began_cpu
    usage = _usage(start)
    return {**usage, "seconds": writing, "cpu": cpu, "size": out.stat().st_size}


def _baseline_with_workers(
    src: zipfile.ZipFile, dst: zipfile.ZipFile, out: Path, workers: int, start: float
) -> dict:
    """The baseline with ``workers`` processes compressing inner archives, a chunk of
    patients at a time (read before the clock runs), written in order by this one."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    writing = cpu = 0.0
    patients = _patients(src)
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(_inner_archive, [[]] * workers))  # started before the clock
        while chunk := [p for _, p in zip(range(16 * workers), patients, strict=False)]:
            began, began_cpu = time.perf_counter(), time.process_time()
            built = pool.map(_inner_archive, [members for _, members in chunk])
            for (name, _), (data, worker_cpu) in zip(chunk, built, strict=True):
                with dst.open(name, "w", force_zip64=True) as target:
                    target.write(data)
                cpu += worker_cpu
            writing += time.perf_counter() - began
            cpu += time.process_time() - began_cpu
    dst.close()
    usage = _usage(start)
    return {**usage, "seconds": writing, "cpu": cpu, "size": out.stat().st_size}


def _run_child(*args: str) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr[-4000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--documents", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1, help="export worker processes")
    parser.add_argument("--quick", action="store_true", help="2000 patients")
    parser.add_argument(
        "--cold", action="store_true", help="no XDS entry kept: the export derives each"
    )
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, first, second, workers = args.child
        if kind == "export":
            print(json.dumps(child_export(Path(first), Path(second), int(workers))))
        else:
            print(json.dumps(child_baseline(Path(first), Path(second), int(workers))))
        return
    patients = 2000 if args.quick else args.patients
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        base = Path(tmp)
        data_dir = base / "data"
        data_dir.mkdir()
        began = time.perf_counter()
        build_host(data_dir, patients, args.documents, entries=not args.cold)
        setup_mb = _peak_mb()
        print(f"setup: {patients} patients, {patients * args.documents} documents "
              f"({'no entry kept' if args.cold else 'their XDS entries kept'}) "
              f"in {time.perf_counter() - began:.0f} s, peak memory {setup_mb:.0f} MB, "
              f"load average {_load()}")  # fmt: skip
        export = _run_child(
            "--child", "export", str(data_dir), str(base / "out"), str(args.workers)
        )
        baseline = _run_child(
            "--child", "baseline", export["path"], str(base / "base.zip"), str(args.workers)
        )
    load_after = os.getloadavg()
    ratio = baseline["seconds"] / export["seconds"]
    print(f"export:   {export['patients']} patients, {export['documents']} documents, "
          f"{export['size'] / 1e6:.0f} MB in {export['seconds']:.1f} s, "
          f"peak memory {export['maxrss_mb']:.0f} MB (goal <= {MEMORY_GOAL_MB} MB)"
          + (f", each of {args.workers} workers <= {export['worker_mb']:.0f} MB"
             if args.workers > 1 else ""))  # fmt: skip
    processes = f", {args.workers} worker processes as the export" if args.workers > 1 else ""
    print(f"baseline: zipfile alone writing the same bytes: {baseline['seconds']:.1f} s "
          f"({baseline['size'] / 1e6:.0f} MB{processes})")  # fmt: skip
    print(f"ratio baseline / export: {ratio:.2f} (goal >= {RATIO_GOAL})")
    print(f"CPU seconds: export {export['cpu']:.1f}, baseline {baseline['cpu']:.1f}, "
          f"ratio {baseline['cpu'] / export['cpu']:.2f}")  # fmt: skip
    print("load average (1, 5, 15 min): before "
          + " ".join(f"{v:.1f}" for v in load_before) + ", after "
          + " ".join(f"{v:.1f}" for v in load_after))  # fmt: skip


if __name__ == "__main__":
    main()
