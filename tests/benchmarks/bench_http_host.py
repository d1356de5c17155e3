"""The host contract over HTTP vs the same host in process.

The SQLite reference host answers ``host_get_patient`` (a qualified patient, its whole
JSON) and ``host_find_patients`` (by birth name, three matches) directly, then through
the HTTP adapter calling the reference LGO side (uvicorn on loopback, the same database).
Rounds of both are interleaved and the best round kept. Prints microseconds per call,
calls per second with 1 and 8 client threads, and the ratio of in-process time to HTTP
time (what share of the in-process speed the HTTP host keeps).

Run: ``uv run python tests/benchmarks/bench_http_host.py [--quick]``
"""

from __future__ import annotations

import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import attrs

from hostspecs.conformance import samples
from hostspecs.http import HttpHost, HttpHostSettings
from hostspecs.http.server import ReferenceLgo
from segur_core.secrets import Secret


def best_rate(call, calls: int, threads: int, rounds: int) -> float:
    """Calls per second, best of ``rounds``."""
    best = 0.0
    for _ in range(rounds):
        started = time.perf_counter()
        if threads == 1:
            for _ in range(calls):
                call()
        else:
            with ThreadPoolExecutor(threads) as pool:
                list(pool.map(lambda _: call(), range(calls)))
        best = max(best, calls / (time.perf_counter() - started))
    return best


def main(quick: bool) -> None:
    calls, rounds = (200, 3) if quick else (2000, 5)
    with tempfile.TemporaryDirectory() as directory:
        lgo = ReferenceLgo(Path(directory), token="bench").start()
        host = HttpHost(HttpHostSettings(lgo.url, token=Secret("bench")))
        try:
            saved = lgo.host.host_save_patient(samples.patient(qualified=True))
            for first in ("BRUNO", "CLARA"):
                lgo.host.host_save_patient(
                    attrs.evolve(samples.patient(first_names=(first,)), id="")
                )
            cases = {
                "get_patient": (
                    lambda: lgo.host.host_get_patient(saved.id),
                    lambda: host.host_get_patient(saved.id),
                ),
                "find_patients": (
                    lambda: lgo.host.host_find_patients("CONFORMITE", None, None, None),
                    lambda: host.host_find_patients("CONFORMITE", None, None, None),
                ),
            }
            print(f"{'call':<15}{'threads':>8}{'in process':>14}{'over HTTP':>14}{'ratio':>8}")
            for name, (local, remote) in cases.items():
                assert local() == remote()
                for threads in (1, 8):
                    fast = best_rate(local, calls, threads, rounds)
                    slow = best_rate(remote, calls, threads, rounds)
                    print(
                        f"{name:<15}{threads:>8}{1e6 / fast:>11.0f} µs{1e6 / slow:>11.0f} µs"
                        f"{slow / fast:>8.3f}"
                    )
            print(f"({calls} calls per round, best of {rounds}; µs per call, one client thread"
                  " at a time; ratio = in-process time / HTTP time)")  # fmt: skip
        finally:
            host.close()
            lgo.close()


if __name__ == "__main__":
    main("--quick" in sys.argv)
