"""``verify`` reads SIGN.XML as a stream: the signature of an archive of a few thousand
patients costs no more memory per patient than the ZIP directory and the manifest's
entries, which verify keeps (Python allocations, ``tracemalloc``, and the process's peak
resident memory, which counts lxml's trees too; each size in its own process, after a
first verify of a small archive).

The archives are synthetic, written with the export's own manifest and signature
writers: every patient's archive is the same empty ZIP, so what is measured is what
verify keeps per file of the manifest and reference of the signature.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

#: What verify may grow by per additional patient, at most (bytes). It keeps the ZIP
#: directory (zipfile's and the safe reader's entries, about 0.7 kB) and the manifest's
#: entries (about 0.4 kB): 1.2 kB of Python objects, 1.1 kB resident. Reading SIGN.XML
#: and MANIFEST.XML whole cost 1.6 kB of Python objects and 8.6 kB resident.
PER_PATIENT = {"python": 1_500, "resident": 2_500}
SMALL, LARGE = 1_000, 6_000


def _status(key: str) -> int:
    """A memory figure of this process from ``/proc/self/status`` (bytes)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) * 1024
    raise LookupError(key)


def _child(small: Path, large: Path) -> dict[str, int]:
    """What verifying ``large`` adds at its peak, after a first verify of ``small``: to
    the resident memory (the peak reset just before, Linux's ``clear_refs``), then, in
    a second verify, to Python's allocations."""
    import gc
    import tracemalloc

    from segur_portability.verify import verify_archive

    assert verify_archive(small).ok
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
    before = _status("VmRSS")
    report = verify_archive(large)
    resident = _status("VmHWM") - before
    assert report.ok, report.problems[:3]
    patients = report.patients
    del report
    gc.collect()
    tracemalloc.start()
    verify_archive(large)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"python": peak, "resident": resident, "patients": patients}


def _peaks(archives: dict[int, Path], patients: int) -> dict[str, int]:
    done = subprocess.run(
        [sys.executable, __file__, str(archives[10]), str(archives[patients])],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    peaks = json.loads(done.stdout.strip().splitlines()[-1])
    assert peaks["patients"] == patients
    return peaks


def test_verify_memory_does_not_grow_with_the_signature(tmp_path: Path) -> None:
    if not Path("/proc/self/clear_refs").exists():
        pytest.skip("the peak resident memory is reset through Linux's /proc/self/clear_refs")
    from segur_portability.testing import synthetic_archive

    from segur_core.sandbox.pki import TestPKI
    from segur_core.wire.signing import KeySigner

    credential = TestPKI.create(tmp_path / "pki").issue_client("ARCHIVES")
    signer = KeySigner.from_pem_files(credential.key_path, credential.cert_path)
    archives = {n: tmp_path / f"PA{n}.ZIP" for n in (10, SMALL, LARGE)}
    for n, path in archives.items():
        synthetic_archive(path, n, signer)
    small, large = _peaks(archives, SMALL), _peaks(archives, LARGE)
    for kind, limit in PER_PATIENT.items():
        per_patient = (large[kind] - small[kind]) / (LARGE - SMALL)
        assert per_patient < limit, (
            f"verify ({kind}) grows by {per_patient:.0f} bytes per patient"
            f" ({small[kind] / 1e6:.1f} MB at {SMALL} patients,"
            f" {large[kind] / 1e6:.1f} MB at {LARGE})"
        )


if __name__ == "__main__":
    print(json.dumps(_child(Path(sys.argv[1]), Path(sys.argv[2]))))
