"""The journal records of one call of ``segur serve``: the handler's (an INSi search)
and ``api.call``, in two commits (each written when made) or in one (the search's
record waiting for ``api.call``: ``record_later`` in a ``deferring`` scope, as the
service does).

One thread and 8 threads (group commit); rounds of both ways interleaved, the best
round of each kept, so that load from other processes affects both alike. Prints calls
per second and the process's CPU per call.

Run: ``uv run python tests/benchmarks/bench_journal_call.py [--quick]``
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from pathlib import Path

from segur_core.journal import Journal
from segur_core.journal.deferral import deferring

SEARCH = {"action": "insi.search", "service": "insi",
          "details": {"operation": "traits", "cr": "00", "message_id": "0c9f2a6e"}}  # fmt: skip
CALL = {"action": "api.call", "service": "api", "actor": "token",
        "details": {"operation": "insSearch", "status": 200}}  # fmt: skip


def two_commits(journal: Journal) -> None:
    journal.record_many([SEARCH])
    journal.record_many([CALL])


def one_commit(journal: Journal) -> None:
    with deferring():
        journal.record_later([SEARCH])
        journal.record_many([CALL])


def run(path: Path, call, threads: int, count: int) -> tuple[float, float]:
    """Calls per second and CPU milliseconds per call."""
    with Journal(path, pseudonym_key=b"k" * 32) as journal:
        per_thread = count // threads
        barrier = threading.Barrier(threads + 1)

        def write() -> None:
            barrier.wait()
            for _ in range(per_thread):
                call(journal)

        workers = [threading.Thread(target=write) for _ in range(threads)]
        for worker in workers:
            worker.start()
        cpu = time.process_time()
        start = time.perf_counter()
        barrier.wait()
        for worker in workers:
            worker.join()
        elapsed = time.perf_counter() - start
        done = per_thread * threads
        return done / elapsed, (time.process_time() - cpu) * 1000 / done


def main() -> None:
    quick = "--quick" in sys.argv
    count, rounds = (800, 2) if quick else (4000, 4)
    ways = {"two commits": two_commits, "one commit": one_commit}
    with tempfile.TemporaryDirectory(prefix="bench-journal-call-") as tmp:
        for threads in (1, 8):
            best: dict[str, tuple[float, float]] = {}
            for round_ in range(rounds):
                for name, call in ways.items():
                    path = Path(tmp) / f"{threads}-{round_}-{name.replace(' ', '-')}.sqlite"
                    rate, cpu = run(path, call, threads, count)
                    if name not in best or rate > best[name][0]:
                        best[name] = (rate, cpu)
            two, one = best["two commits"], best["one commit"]
            print(
                f"{threads} thread(s): two commits {two[0]:.0f} calls/s ({two[1]:.3f} ms CPU),"
                f" one commit {one[0]:.0f} calls/s ({one[1]:.3f} ms CPU),"
                f" ratio {one[0] / two[0]:.2f}"
            )
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
