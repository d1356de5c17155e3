"""Cold start of ``segur plugins --json`` vs a process that only imports
``importlib.metadata``, ``pluggy`` and ``click``.

Each measurement is a fresh interpreter (``python -c`` for the baseline, the ``segur``
console script otherwise); runs alternate and the median of each side is kept. Printed
for every installed plugin (the real case) and with plugin autoload disabled (the core
alone), with the ratio to the baseline (goal: <= 1.5); then ``segur --help``, whose
command list comes from static metadata (goal: <= 1.3); followed by the slowest imports
of ``segur plugins --json`` (``python -X importtime``) to show what to defer.

Run: ``uv run python tests/benchmarks/bench_cli_startup.py [--quick]``
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

BASELINE = [sys.executable, "-c", "import importlib.metadata, pluggy, click"]
SEGUR = [sys.executable, "-c", "from segur_core.cli import main; main()", "plugins", "--json"]
HELP = [sys.executable, "-c", "from segur_core.cli import main; main()", "--help"]
HELP_GOAL = 1.3


def once(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def slowest_imports(env: dict[str, str], top: int = 10) -> list[tuple[int, str]]:
    """(cumulative µs, module) of the slowest imports of a ``segur plugins --json`` run."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", *SEGUR[1:]],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    rows = []
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \|(\s*)(\S+)", line)
        if m and len(m.group(2)) <= 2:  # top-level imports only
            rows.append((int(m.group(1)), m.group(3)))
    return sorted(rows, reverse=True)[:top]


def main() -> int:
    runs = 5 if "--quick" in sys.argv else 15
    base_env = {**os.environ}
    base_env.pop("SEGUR_PLUGINS", None)
    cases = {
        "every installed plugin": {**base_env},
        "core only (autoload off)": {**base_env, "SEGUR_DISABLE_PLUGIN_AUTOLOAD": "1"},
    }
    cwd = Path(__file__).resolve().parents[2]
    os.chdir(cwd)
    for env in (base_env, *cases.values()):  # warm the OS file cache once
        once(BASELINE, env)
        once(SEGUR, env)
        once(HELP, env)
    print(f"python {sys.version.split()[0]}, median of {runs} cold runs each")
    baseline_times = []
    results: dict[str, list[float]] = {name: [] for name in cases}
    help_times: list[float] = []
    for _ in range(runs):
        baseline_times.append(once(BASELINE, base_env))
        for name, env in cases.items():
            results[name].append(once(SEGUR, env))
        help_times.append(once(HELP, base_env))
    baseline = statistics.median(baseline_times)
    print(f"{'baseline (importlib.metadata, pluggy, click)':<46} {baseline * 1000:7.1f} ms")
    for name, times in results.items():
        median = statistics.median(times)
        print(
            f"{'segur plugins --json, ' + name:<46} {median * 1000:7.1f} ms"
            f"  ratio {median / baseline:.2f} (goal <= 1.50)"
        )
    median = statistics.median(help_times)
    print(
        f"{'segur --help, every installed plugin':<46} {median * 1000:7.1f} ms"
        f"  ratio {median / baseline:.2f} (goal <= {HELP_GOAL:.2f})"
    )
    print("slowest top-level imports of `segur plugins --json` (cumulative):")
    for micros, module in slowest_imports(base_env):
        print(f"  {micros / 1000:7.1f} ms  {module}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
