"""Memory and time of ``segur export verify`` on a large archive.

Run: uv run python tests/benchmarks/bench_verify.py [--patients 100000]

Writes a synthetic signed archive of that many patients (``segur_portability.testing``:
the export's own manifest and signature writers, every patient's archive the same
empty ZIP, so what is measured is what verify holds per file and reference), then
verifies it in a child process and prints the child's peak resident memory (``VmHWM``,
interpreter included), its time and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _child(archive: str) -> None:
    from segur_portability.verify import verify_archive

    start = time.perf_counter()
    report = verify_archive(Path(archive))
    elapsed = time.perf_counter() - start
    status = Path("/proc/self/status").read_text().splitlines()
    peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    print(json.dumps({"ok": report.ok, "seconds": elapsed, "peak_mb": peak / 1024}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    args = parser.parse_args()
    from segur_portability.testing import synthetic_archive

    from segur_core.sandbox.pki import TestPKI
    from segur_core.wire.signing import KeySigner

    with tempfile.TemporaryDirectory() as tmp:
        credential = TestPKI.create(Path(tmp) / "pki").issue_client("ARCHIVES")
        signer = KeySigner.from_pem_files(credential.key_path, credential.cert_path)
        archive = Path(tmp) / "PA.ZIP"
        start = time.perf_counter()
        synthetic_archive(archive, args.patients, signer)
        print(f"archive of {args.patients} patients written in {time.perf_counter() - start:.1f} s")
        done = subprocess.run(
            [sys.executable, __file__, "--child", str(archive)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["ok"]
    print(
        f"verify: {result['seconds']:.1f} s, peak resident memory {result['peak_mb']:.0f} MB"
        f" (load average {os.getloadavg()[0]:.1f})"
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        _child(sys.argv[2])
    else:
        main()
