"""The export's memory does not grow with the data: a massive export of a few hundred
patients and of three times more peaks the same (Python allocations, ``tracemalloc``,
each in its own process, after a first export of one patient), and the transverse part
reads a large journal as a stream.

Patients are written with plain SQL in the reference host's format (as the benchmark
``tests/benchmarks/bench_export.py`` does, which measures the whole process at 100,000
patients), without documents: what is measured is what the export keeps per patient.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

#: What the export may grow by per additional patient, at most (bytes, Python heap; the
#: interpreter's free lists of small objects fill up meanwhile, about 0.2 kB): every
#: patient listed at once is several times more (about 1.8 kB).
PER_PATIENT = 400
SMALL, LARGE = 300, 900
#: Patients per page of the host: both sizes span several pages.
PAGE = 50


def _child(data_dir: Path, patients: int, journal: int) -> dict[str, int]:
    """The peaks of Python allocations while exporting ``patients`` patients (up to the
    last patient written, and in all), or while producing the transverse part over a
    journal of ``journal`` records about patients."""
    import sqlite3
    import tracemalloc

    import attrs
    import segur_portability.plugin as plugin
    from segur_documents.testing import sample_patient
    from segur_portability.patient import SchemaCheck, materialize
    from segur_portability.sections import transverse_sections
    from segur_portability.signing import signer_for
    from segur_portability.writer import export_archive

    from hostspecs.reference.host import ReferenceHost
    from segur_core import convert
    from segur_core.host import paging
    from segur_core.runtime import create_runtime

    paging.DEFAULT_PAGE_SIZE = PAGE

    ReferenceHost(data_dir / "host.sqlite").close()  # the schema
    base = sample_patient(True)
    with sqlite3.connect(data_dir / "host.sqlite") as db:
        for n in range(1, patients + 1):
            patient = attrs.evolve(base, id=f"P{n:06d}")
            traits = patient.identity.traits
            db.execute(
                "INSERT INTO patient VALUES (?, ?, ?, ?, ?, ?)",
                (patient.id, traits.birth_name, traits.first_name, str(traits.birth_date),
                 None, convert.dumps(patient)),
            )  # fmt: skip
    runtime = create_runtime(
        {"segur": {"mode": "test"}}, data_dir=data_dir, extra_plugins=[plugin], autoload=False
    )
    with runtime:
        signer = signer_for(runtime)
        if journal:
            runtime.journal.record_many(
                [{"action": "test.read", "patient_id": f"P{n:06d}"} for n in range(journal)]
            )
            runtime.journal.record("test.about-no-patient")
        steps: list[int] = []  # the peak up to each patient written, since the one before

        def step(done: int, total: int | None) -> None:
            steps.append(tracemalloc.get_traced_memory()[1])
            tracemalloc.reset_peak()

        # a first export of one patient: what is imported or compiled once is not measured
        export_archive(
            runtime, data_dir / "one", signer=signer, source_id="1.2.3", patient_ids=["P000001"]
        )
        tracemalloc.start()
        if journal:
            sections = transverse_sections(runtime, None)
            files = [materialize(s, SchemaCheck()) for s in sections]
            assert any(b"test.about-no-patient" in d for f in files for _, d in f.items)
        else:
            result = export_archive(
                runtime, data_dir / "out", signer=signer, source_id="1.2.3", progress=step
            )
            assert result.patients == patients
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return {"patients": max(steps, default=0), "peak": max([peak, *steps])}


def _peaks(tmp_path: Path, patients: int, journal: int = 0) -> dict[str, int]:
    data_dir = tmp_path / f"p{patients}-j{journal}"
    data_dir.mkdir()
    done = subprocess.run(
        [sys.executable, __file__, str(data_dir), str(patients), str(journal)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_export_memory_does_not_grow_with_the_patients(tmp_path: Path) -> None:
    small, large = _peaks(tmp_path, SMALL), _peaks(tmp_path, LARGE)
    for phase in ("patients", "peak"):  # up to the last patient written, and in all
        per_patient = (large[phase] - small[phase]) / (LARGE - SMALL)
        assert per_patient < PER_PATIENT, (
            f"the export ({phase}) grows by {per_patient:.0f} bytes per patient"
            f" ({small[phase] / 1e6:.2f} MB at {SMALL} patients,"
            f" {large[phase] / 1e6:.2f} MB at {LARGE})"
        )


def test_the_transverse_part_reads_the_journal_as_a_stream(tmp_path: Path) -> None:
    small, large = _peaks(tmp_path, 1, 300)["peak"], _peaks(tmp_path, 1, 3300)["peak"]
    assert large - small < 200_000, (
        f"the transverse part held {(large - small) / 3000:.0f} bytes per journal record"
        f" about a patient ({small / 1e6:.1f} MB, then {large / 1e6:.1f} MB)"
    )


if __name__ == "__main__":
    directory, count, records = sys.argv[1:]
    print(json.dumps(_child(Path(directory), int(count), int(records))))
