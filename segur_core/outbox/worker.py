"""Background delivery threads of the outbox."""

from __future__ import annotations

import logging
import threading
import time
from typing import Protocol

__all__ = ["Deliverer", "WorkerPool"]

log = logging.getLogger("segur.outbox")


class Deliverer(Protocol):
    """What a worker thread needs of the outbox (:class:`~segur_core.outbox.Outbox`)."""

    worker_id: str
    lease: float
    batch_size: int
    poll_interval: float

    def deliver_batch(self, limit: int, owner: str) -> int: ...

    def announce_lost_settlements(self) -> None: ...

    def wait_for_work(self, stop: threading.Event) -> None: ...

    def wake(self) -> None: ...


class WorkerPool:
    """``threads`` daemon threads, each claiming and delivering batches until stopped.

    A thread that meets an unexpected error logs it and goes on after a pause: the
    items it held are taken over when their lease expires. The first thread also
    announces, every lease period, settlements another process left unannounced.
    """

    def __init__(self, outbox: Deliverer, threads: int = 1) -> None:
        if threads < 1:
            raise ValueError("a worker pool needs at least one thread")
        self._outbox = outbox
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, name=f"segur-outbox-{n}", daemon=True)
            for n in range(threads)
        ]

    @property
    def alive(self) -> bool:
        return not self._stop.is_set() and any(t.is_alive() for t in self._threads)

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._outbox.wake()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout)

    def _run(self) -> None:
        outbox = self._outbox
        current = threading.current_thread()
        owner = f"{outbox.worker_id}-{current.name}"
        sweeper = current is self._threads[0]  # one thread per process looks for lost events
        next_sweep = time.monotonic() + outbox.lease
        while not self._stop.is_set():
            try:
                attempted = outbox.deliver_batch(outbox.batch_size, owner)
                if sweeper and attempted == 0 and time.monotonic() >= next_sweep:
                    outbox.announce_lost_settlements()
                    next_sweep = time.monotonic() + outbox.lease
            except Exception:
                log.exception("outbox worker error; items in flight will be taken over")
                self._stop.wait(outbox.poll_interval)
                continue
            if attempted == 0:
                outbox.wait_for_work(self._stop)
