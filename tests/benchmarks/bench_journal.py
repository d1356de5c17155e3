"""Journal write throughput with a checkpoint after every commit group vs checkpoints
held back (one per hour: none during the run).

Two loads: one thread whose every record is its own commit (the counter: one record per
act), and 8 threads writing at once (group commit: one transaction, and so one
checkpoint, per group). Rounds of both settings are interleaved and the best round of
each is kept, so that load from other processes affects both alike. Prints records per
second and the ratio every-group / held-back (goal: >= 0.9).

Run: ``uv run python tests/benchmarks/bench_journal.py [--quick]``
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

from segur_core.journal import Journal


def one_thread(path: Path, interval: float, count: int) -> float:
    with Journal(path, pseudonym_key=b"k" * 32, checkpoint_interval=interval) as journal:
        start = time.perf_counter()
        for i in range(count):
            journal.record("patient.read", patient_id=f"p{i % 50}", details={"i": i})
        return count / (time.perf_counter() - start)


def eight_threads(path: Path, interval: float, count: int) -> float:
    with Journal(path, pseudonym_key=b"k" * 32, checkpoint_interval=interval) as journal:
        per_thread = count // 8
        barrier = threading.Barrier(9)

        def write(n: int) -> None:
            barrier.wait()
            for i in range(per_thread):
                journal.record("patient.read", patient_id=f"p{n}", details={"i": i})

        threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        barrier.wait()
        start = time.perf_counter()
        for thread in threads:
            thread.join()
        return per_thread * 8 / (time.perf_counter() - start)


def main() -> None:
    quick = "--quick" in sys.argv
    count, rounds = (400, 2) if quick else (2000, 7)
    for name, load in (("1 thread", one_thread), ("8 threads", eight_threads)):
        best = {0.0: 0.0, 3600.0: 0.0}
        for _ in range(rounds):
            for interval in best:
                with tempfile.TemporaryDirectory() as folder:
                    rate = load(Path(folder) / "journal.sqlite", interval, count)
                best[interval] = max(best[interval], rate)
        print(
            f"{name}: every group {best[0.0]:,.0f} records/s, held back "
            f"{best[3600.0]:,.0f} records/s, ratio {best[0.0] / best[3600.0]:.2f}"
        )


if __name__ == "__main__":
    main()
