"""Outbox throughput against the same loopback HTTP receiver fed directly.

Baseline: N POSTs, one after the other, with one keep-alive ``httpx.Client``.
Outbox: the same items enqueued (each its own durable commit) then delivered through the
outbox with the same client (claim, send, settle per item) — in the calling thread
(``run_until_idle``: "outbox") and by a background worker thread ("worker").
Prints throughput, CPU per item (process time) and the ratio outbox / direct (goals:
>= 0.8 on a quiet machine, >= 0.7 under load). ``--load P`` runs P busy processes of
its own in the background for the whole run (``--load 2`` on a 2-core machine: "under
load", reproducible), whatever else the machine is doing; the load average is printed.

The receiver runs in a process of its own, as a national service does
(``--receiver thread``: in a thread of the benchmark's process, as before 2026-12-02;
it then shares the GIL with the client, and every GIL release of the outbox between an
answer and the next request, its commit, lets the receiver finish that answer and
go to sleep, to be woken again by the next request: a thread hand-off per item that a
service on another machine does not cost).

``--retention N``: N deliveries of a 4 KB payload (no HTTP: a sender that accepts),
then the file size before and after ``purge --payloads`` (payloads dropped, space given
back), the records all kept.

``--payload BYTES``: items of that size instead of 2,037 bytes (24,037: a note de
vaccination as ``bench_dmp.py`` sends it).

Run: ``uv run python tests/benchmarks/bench_outbox.py [N] [CHUNK] [--load P]
[--receiver thread] [--payload BYTES]``
(default 2000 200), ``uv run python tests/benchmarks/bench_outbox.py --retention 100000``

``--store postgresql [N]`` (default 2000; ``--load`` applies too): a PostgreSQL server
from the Debian packages is started for the run (``synchronous_commit=off``: like the
SQLite outbox's
``synchronous=NORMAL``, a commit survives a process crash, a power cut may lose the
last ones). N items are queued, then drained by 1, 2 and 4 worker processes from one
PostgreSQL outbox, and by one process from a SQLite outbox, in the same run; throughput
counts from the moment the ready workers are told to go until the last one is done.
Then 4 processes append to one pharmacy's journal at once, on each store. Prints items
(records) per second and the ratios to the SQLite figures.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
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


def payload_of(size: int) -> bytes:
    """A payload of ``size`` bytes (at least the element's tags)."""
    return b"<ClinicalDocument>" + b"x" * max(0, size - 37) + b"</ClinicalDocument>"


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


def _spin(stop) -> None:
    """A background load: burn CPU until ``stop`` is set."""
    while not stop.is_set():
        sum(range(10_000))


class BackgroundLoad:
    """``processes`` busy processes for the duration of a ``with`` block."""

    def __init__(self, processes: int) -> None:
        context = multiprocessing.get_context("spawn")
        self._stop = context.Event()
        self._workers = [context.Process(target=_spin, args=(self._stop,), daemon=True)
                         for _ in range(processes)]  # fmt: skip

    def __enter__(self) -> BackgroundLoad:
        for worker in self._workers:
            worker.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(10)


def _serve(pipe) -> None:
    """The receiver of :class:`ReceiverProcess`: its URL, then its counts when asked."""
    with CountingReceiver() as receiver:
        pipe.send(receiver.url)
        pipe.recv()
        pipe.send(dict(receiver.honoured))


class ReceiverProcess:
    """A :class:`CountingReceiver` in a process of its own for a ``with`` block; its
    ``honoured`` counts are read once, which stops it."""

    def __enter__(self) -> ReceiverProcess:
        context = multiprocessing.get_context("spawn")
        self._pipe, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child,), daemon=True)
        self._process.start()
        self.url: str = self._pipe.recv()
        self._honoured: dict[str, int] | None = None
        return self

    @property
    def honoured(self) -> dict[str, int]:
        if self._honoured is None:
            self._pipe.send("counts")
            self._honoured = self._pipe.recv()
        return self._honoured

    def __exit__(self, *exc_info) -> None:
        _ = self.honoured
        self._process.join(10)


def _file_bytes(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def retention(count: int) -> None:
    """``count`` deliveries, then their payloads dropped and the space given back."""
    payload = b"<ClinicalDocument>" + b"x" * 4000 + b"</ClinicalDocument>"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "outbox.sqlite"
        with Outbox(path, senders={"http": lambda item: "stored"}) as outbox:
            start = time.perf_counter()
            for done in range(0, count, 1000):
                for i in range(done, min(count, done + 1000)):
                    outbox.enqueue("http", f"item-{i}", payload)
                assert outbox.run_until_idle(timeout=600)
            seconds = time.perf_counter() - start
            before = _file_bytes(path)
            start = time.perf_counter()
            dropped = outbox.drop_payloads(0)
            outbox.compact()
            purge = time.perf_counter() - start
            after = _file_bytes(path)
            kept = outbox.counts()[DeliveryState.DELIVERED]
    print(f"retention: {count} deliveries of {len(payload)} bytes in {seconds:.1f} s")
    print(f"  file before purge: {before / 1e6:8.1f} MB")
    print(f"  file after purge : {after / 1e6:8.1f} MB  ({dropped} payloads dropped in "
          f"{purge:.1f} s, {kept} delivered records kept)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=2000)
    parser.add_argument("chunk", nargs="?", type=int, default=200)
    parser.add_argument("--load", type=int, default=0, metavar="P",
                        help="busy background processes during the run (0: none)")  # fmt: skip
    parser.add_argument("--receiver", choices=("process", "thread"), default="process",
                        help="where the receiver runs (thread: in this process)")  # fmt: skip
    parser.add_argument("--retention", type=int, metavar="N",
                        help="N deliveries, then the file size around a purge")  # fmt: skip
    parser.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite",
                        help="postgresql: worker processes on PostgreSQL vs SQLite")  # fmt: skip
    parser.add_argument("--payload", type=int, metavar="BYTES",
                        help="the size of each item (default 2037)")  # fmt: skip
    args = parser.parse_args()
    if args.payload is not None:
        global PAYLOAD
        PAYLOAD = payload_of(args.payload)
    if args.store == "postgresql":
        with BackgroundLoad(args.load):
            postgresql(args.n)
        return
    if args.retention:
        retention(args.retention)
        return
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores, "
          f"background load: {args.load} busy processes, "
          f"receiver in a {args.receiver}")  # fmt: skip
    with BackgroundLoad(args.load):
        run(args.n, args.chunk, args.receiver)
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


def run(n: int, chunk: int, receiver_in: str = "process") -> None:
    times: dict[str, list[float]] = {"direct": [], "outbox": [], "worker": []}
    cpu = dict.fromkeys(times, 0.0)

    def timed(name: str, seconds_of, *args) -> None:
        start = time.process_time()
        times[name].append(seconds_of(*args))
        cpu[name] += time.process_time() - start

    with (
        ReceiverProcess() if receiver_in == "process" else CountingReceiver() as receiver,
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
                timed("direct", direct, client, url, chunk, f"d{c}")
                timed("outbox", through_outbox, inline, chunk, f"o{c}")
                timed("worker", through_worker, background, chunk, f"w{c}")
        finally:
            inline.close()
            background.close()
        assert all(count == 1 for count in receiver.honoured.values())
        assert len(receiver.honoured) == 50 + 3 * chunk * len(times["direct"])
    total = chunk * len(times["direct"])
    included = "receiver included" if receiver_in == "thread" else "not the receiver's"
    print(f"outbox benchmark: {total} items of {len(PAYLOAD)} bytes, in chunks of {chunk}")
    for name, values in times.items():
        print(f"  {name:<7} {total / sum(values):8.0f} items/s  ({sum(values):.3f}s)  "
              f"CPU per item {cpu[name] / total * 1e6:.0f} us "
              f"(this process, {included})")  # fmt: skip
    for name in ("outbox", "worker"):
        ratios = [d / o for d, o in zip(times["direct"], times[name], strict=True)]
        overall = sum(times["direct"]) / sum(times[name])
        print(
            f"ratio {name}/direct: median per chunk {statistics.median(ratios):.2f}, "
            f"overall {overall:.2f}  (goal >= 0.8 quiet, >= 0.7 under load)"
        )


WORKER = Path(__file__).with_name("store_worker.py")


def _processes(argvs: list[list[str]]) -> float:
    """Start the workers, wait until each is ready, say go; seconds until all are done."""
    import subprocess

    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), *argv],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for argv in argvs
    ]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    start = time.perf_counter()
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in procs:
        assert proc.wait(600) == 0
    elapsed = time.perf_counter() - start
    for proc in procs:
        proc.stdin.close()  # type: ignore[union-attr]
        proc.stdout.close()  # type: ignore[union-attr]
    return elapsed


def _fill(location: Path | str, tenant: str | None, n: int, tag: str) -> None:
    with Outbox(location, tenant=tenant) as outbox:
        for i in range(n):
            outbox.enqueue("http", f"{tag}-{i}", PAYLOAD)


def postgresql(n: int) -> None:
    """The ``--store postgresql`` run (see the module docstring)."""
    from segur_core.journal.postgres import PostgresJournal
    from segur_core.testing.postgres import PostgresServer

    tenant = "999990013"
    records = max(400, n // 2)
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with (
        PostgresServer(settings=("synchronous_commit=off", "shared_buffers=128MB")) as server,
        CountingReceiver() as receiver,
        tempfile.TemporaryDirectory() as tmp,
    ):
        database = server.create_database()
        Outbox(database.owner_url, tenant=tenant).close()  # the tables, by their owner
        PostgresJournal(database.owner_url, tenant=tenant, pseudonym_key=b"k" * 32).close()
        url = database.app_url
        sqlite_file = Path(tmp) / "outbox.sqlite"
        _fill(sqlite_file, None, n, "s")
        rates = {
            "sqlite, 1 process": n / _processes([["outbox", str(sqlite_file), "-", receiver.url]])
        }
        for workers in (1, 2, 4):
            _fill(url, tenant, n, f"p{workers}")
            argv = ["outbox", url, tenant, receiver.url]
            rates[f"postgresql, {workers} processes"] = n / _processes([argv] * workers)
        assert len(receiver.honoured) == 4 * n
        assert all(count == 1 for count in receiver.honoured.values())
        share = records // 4
        journal_file = Path(tmp) / "journal.sqlite"
        sqlite_journal = (
            4 * share / _processes([["journal", str(journal_file), "-", str(share)]] * 4)
        )
        pg_journal = 4 * share / _processes([["journal", url, tenant, str(share)]] * 4)
        with PostgresJournal(url, tenant=tenant, pseudonym_key=b"k" * 32) as check:
            report = check.verify()
            assert report.ok and report.count == 4 * share, report
    base = rates["sqlite, 1 process"]
    print(f"outbox on PostgreSQL: {n} items of {len(PAYLOAD)} bytes drained by worker processes")
    for name, rate in rates.items():
        print(f"  {name:<24} {rate:8.0f} items/s  ratio to SQLite {rate / base:.2f}")
    print(f"journal, 4 writer processes, {4 * share} records (one chain):")
    print(f"  sqlite                   {sqlite_journal:8.0f} records/s")
    print(
        f"  postgresql               {pg_journal:8.0f} records/s"
        f"  ratio to SQLite {pg_journal / sqlite_journal:.2f}"
    )
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
