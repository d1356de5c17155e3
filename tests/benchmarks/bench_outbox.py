"""Outbox throughput against the same loopback HTTP receiver fed directly.

Baseline: N POSTs, one after the other, with one keep-alive ``httpx.Client``.
Outbox: the same items enqueued (each its own durable commit) then delivered through the
outbox with the same client (claim, send, settle per item) — in the calling thread
(``run_until_idle``: "outbox") and by a background worker thread ("worker").
Prints throughput and the ratio outbox / direct (goal >= 0.7).

Run: ``uv run python tests/benchmarks/bench_outbox.py [N] [CHUNK]`` (default 2000 200)
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reliability"))

from receiver import KEY_HEADER, CountingReceiver

from segur_core.model import DeliveryState
from segur_core.outbox import Outbox

PAYLOAD = b"<ClinicalDocument>" + b"x" * 2000 + b"</ClinicalDocument>"


def sender(client: httpx.Client, url: str) -> Callable:
    def send(item) -> str:
        response = client.post(url, content=item.payload, headers={KEY_HEADER: item.key})
        response.raise_for_status()
        return response.text

    return send


def direct(client: httpx.Client, url: str, n: int, tag: str) -> float:
    start = time.perf_counter()
    for i in range(n):
        response = client.post(url, content=PAYLOAD, headers={KEY_HEADER: f"{tag}-{i}"})
        response.raise_for_status()
    return time.perf_counter() - start


def through_outbox(outbox: Outbox, n: int, tag: str) -> float:
    """Enqueue ``n`` items, then deliver them in this thread."""
    start = time.perf_counter()
    for i in range(n):
        outbox.enqueue("http", f"{tag}-{i}", PAYLOAD)
    assert outbox.run_until_idle(timeout=600)
    return time.perf_counter() - start


def through_worker(outbox: Outbox, n: int, tag: str) -> float:
    """Enqueue ``n`` items, then wait for the background worker to deliver them."""
    start = time.perf_counter()
    before = outbox.counts()[DeliveryState.DELIVERED]
    for i in range(n):
        outbox.enqueue("http", f"{tag}-{i}", PAYLOAD)
    last = f"{tag}-{n - 1}"
    while outbox.find(last).state is not DeliveryState.DELIVERED:  # a cheap indexed look-up
        time.sleep(0.001)
    while outbox.counts()[DeliveryState.DELIVERED] < before + n:
        time.sleep(0.001)
    return time.perf_counter() - start


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    chunk = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    times: dict[str, list[float]] = {"direct": [], "outbox": [], "worker": []}
    with (
        CountingReceiver() as receiver,
        httpx.Client() as client,
        tempfile.TemporaryDirectory() as tmp,
    ):
        url, workdir = receiver.url, Path(tmp)
        send = sender(client, url)
        inline = Outbox(workdir / "inline.sqlite", senders={"http": send})
        background = Outbox(workdir / "worker.sqlite", senders={"http": send})
        background.start_worker(threads=1)
        try:
            direct(client, url, 50, "warmup")
            # Chunks run side by side so that the load of the machine at a given moment
            # hits the baseline and the outbox alike; the ratio is taken per chunk.
            for c in range(max(1, n // chunk)):
                times["direct"].append(direct(client, url, chunk, f"d{c}"))
                times["outbox"].append(through_outbox(inline, chunk, f"o{c}"))
                times["worker"].append(through_worker(background, chunk, f"w{c}"))
        finally:
            inline.close()
            background.close()
        assert all(count == 1 for count in receiver.honoured.values())
        assert len(receiver.honoured) == 50 + 3 * chunk * len(times["direct"])
    total = chunk * len(times["direct"])
    print(f"outbox benchmark: {total} items of {len(PAYLOAD)} bytes, in chunks of {chunk}")
    for name, values in times.items():
        print(f"  {name:<7} {total / sum(values):8.0f} items/s  ({sum(values):.3f}s)")
    for name in ("outbox", "worker"):
        ratios = [d / o for d, o in zip(times["direct"], times[name], strict=True)]
        overall = sum(times["direct"]) / sum(times[name])
        print(
            f"ratio {name}/direct: median per chunk {statistics.median(ratios):.2f}, "
            f"overall {overall:.2f}  (goal >= 0.70)"
        )


if __name__ == "__main__":
    main()
