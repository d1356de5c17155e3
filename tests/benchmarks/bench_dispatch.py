"""Event dispatch through the runtime facade vs a raw pluggy hook call.

Both sides call equivalent ``on_card_read`` implementations (1, 5 and 20 plugins, each
doing a little work). The facade adds failure containment and per-plugin call counts.
Rounds of raw and facade calls are interleaved and the best round of each is kept, so
that load from other processes affects both sides alike. Prints microseconds per call
and the ratio facade / raw (goal: <= 1.3 at 5 implementations).

Run: ``uv run python tests/benchmarks/bench_dispatch.py [--quick]``
"""

from __future__ import annotations

import sys
import tempfile
import time
from importlib.metadata import version

import pluggy

from segur_core import hookimpl, hookspecs
from segur_core.model import BirthDate, CardReading, IdentityTraits
from segur_core.runtime import create_runtime


class Listener:
    """A plugin doing what a light event handler does: look at the event, count it."""

    def __init__(self) -> None:
        self.count = 0
        self.last_source = None

    @hookimpl
    def on_card_read(self, reading, runtime):
        self.count += 1
        self.last_source = reading.source


class NoHost:
    """No host hooks: dispatch does not touch the host."""


def round_time(fn, number: int) -> float:
    """Microseconds per call over one round of ``number`` calls."""
    clock = time.perf_counter
    start = clock()
    for _ in range(number):
        fn()
    return (clock() - start) / number * 1e6


def measure(n: int, number: int, rounds: int) -> tuple[float, float]:
    reading = CardReading(
        source="manual",
        traits=IdentityTraits(
            birth_name="BENCH", first_names=("MARK",), sex="M", birth_date=BirthDate(1990, 1, 1)
        ),
    )
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for i in range(n):
        pm.register(Listener(), name=f"raw{i}")

    def raw() -> None:
        pm.hook.on_card_read(reading=reading, runtime=None)

    with tempfile.TemporaryDirectory() as tmp:
        runtime = create_runtime(
            data_dir=tmp,
            host=NoHost(),
            autoload=False,
            trace=False,
            extra_plugins=[(f"p{i}", Listener()) for i in range(n)],
        )
        with runtime:

            def facade() -> None:
                runtime.card_read(reading)

            raw_times, facade_times = [], []
            for _ in range(rounds):
                raw_times.append(round_time(raw, number))
                facade_times.append(round_time(facade, number))
            assert runtime.plugins["p0"].stats.calls == rounds * number
    return min(raw_times), min(facade_times)


def main() -> int:
    quick = "--quick" in sys.argv
    rounds = 5 if quick else 15
    print(f"python {sys.version.split()[0]}, pluggy {version('pluggy')}, best of {rounds} rounds")
    print(f"{'impls':>5} {'raw µs':>9} {'facade µs':>10} {'ratio':>6}")
    ratios = {}
    for n in (1, 5, 20):
        number = (1_000 if quick else 5_000) * 5 // (n + 4)
        raw_t, facade_t = measure(n, number, rounds)
        ratios[n] = facade_t / raw_t
        print(f"{n:>5} {raw_t:>9.3f} {facade_t:>10.3f} {ratios[n]:>6.2f}")
    print(f"ratio at 5 implementations: {ratios[5]:.2f} (goal <= 1.30)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
