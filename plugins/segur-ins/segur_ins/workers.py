"""Worker processes that make the INSi calls of a large ``segur ins qualify --all``.

Python threads share one interpreter lock. With a fast service, a batch spends its CPU
preparing requests, in TLS and HTTP, parsing answers, and the bookkeeping of each
qualification (journal, status machine, host save, hooks) competes with the request
threads for that lock. :class:`LookupWorkers` moves the calls to ``processes`` worker
processes, each with ``threads`` request threads and its own INSi client built from a
:class:`~segur_ins.connection.ClientRecipe`. The calling process keeps everything that
touches the journal, the host and the hooks: it gives work and settles the answers.

A worker is a new ``python`` running :func:`_serve` (never a fork of the caller, which
has threads; never a re-import of the host program's main module, as multiprocessing's
spawn would do), in its own session so that a terminal's Ctrl-C reaches the caller
only. Wire: a private socket pair per worker, carrying pickled messages
(:class:`multiprocessing.connection.Connection`). The caller first sends the client
recipe and the worker's thread count and rate; the worker says whether its client could
be built (``ready`` or the error). The caller sends lists of ``(key, traits)`` to look up
(a few per request thread ahead, so the threads never wait for work) and ``None`` to
stop; the worker sends back lists of ``(key, Lookup)``, the answers received within
5 ms of each other. Failures are values: :class:`~segur_ins.insi.InsiError` and
:class:`~segur_core.errors.IdentityError` travel inside the
:class:`~segur_ins.lookup.Lookup`; anything else becomes a :class:`WorkerError`.

A worker ignores SIGINT: Ctrl-C is the caller's to handle. Interrupted, the caller stops
giving work and collects the answers of the calls under way (:meth:`Run.drain`), so that
every answer received is journaled. A worker that dies (killed, out of memory) takes the
answers of its calls under way with it: each of those patients gets a
:class:`WorkerLost` error (the call may have been made; an INSi search changes nothing
on the service's side, and the next run does them again) and the run goes on with the
other workers.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pickle
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection, wait
from typing import Any, Generic, TypeVar

import attrs

from segur_core.errors import SegurError
from segur_core.model import IdentityTraits
from segur_ins.connection import ClientRecipe
from segur_ins.lookup import Lookup, RateLimiter, lookup

__all__ = ["LookupWorkers", "Run", "WorkerError", "WorkerLost", "supported"]

T = TypeVar("T")

#: Answers received within this many seconds of each other go back in one message.
_WINDOW = 0.005
#: Answers from the workers within this many seconds of the first are settled together.
_GATHER = 0.01
#: Lookups given to a worker ahead of its free threads, per thread.
_AHEAD = 2
#: Seconds a worker has to start (import, load its certificates) and say so.
_START_TIMEOUT = 60.0


class WorkerLost(SegurError):
    """A worker process ended before answering: the INSi call may have been made."""


class WorkerError(SegurError):
    """An unexpected error in a worker process; ``kind`` is its type name."""

    def __init__(self, message: str, *, kind: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind


# -- the worker process ----------------------------------------------------------------------


def _portable(exc: Exception) -> Exception:
    """``exc`` if it survives pickling, else a :class:`WorkerError` saying what it was."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return WorkerError(f"unexpected {type(exc).__name__} in an INSi worker",
                           kind=type(exc).__name__)  # fmt: skip
    return exc


def supported() -> bool:
    """Whether worker processes can run here: a POSIX system (the socket is passed to
    the worker) and ``sys.executable`` a Python interpreter (not a frozen application)."""
    return os.name == "posix" and not getattr(sys, "frozen", False)


def _worker_main(conn: Connection) -> None:
    """Body of a worker process (see the module docstring)."""
    try:
        recipe, threads, rate = conn.recv()
    except (EOFError, OSError):
        return
    try:
        client = attrs.evolve(recipe, max_connections=threads).build()
    except Exception as exc:
        conn.send(("failed", _portable(exc)))
        return
    conn.send(("ready", None))
    limiter = RateLimiter(rate)
    todo: queue.SimpleQueue = queue.SimpleQueue()
    answers: queue.SimpleQueue = queue.SimpleQueue()

    def request_thread() -> None:
        while (item := todo.get()) is not None:
            key, traits = item
            limiter.acquire()
            try:
                answers.put((key, lookup(client, traits=traits)))
            except Exception as exc:  # one patient's failure never stops the others
                answers.put((key, _portable(exc)))

    def send_answers() -> None:
        while (first := answers.get()) is not None:
            time.sleep(_WINDOW)
            group, last = [first], False
            while not last:
                try:
                    item = answers.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    last = True
                else:
                    group.append(item)
            try:
                conn.send(group)
            except OSError:  # the caller is gone: nobody to answer
                return
            if last:
                return

    workers = [threading.Thread(target=request_thread, daemon=True) for _ in range(threads)]
    sender = threading.Thread(target=send_answers, daemon=True)
    for thread in (*workers, sender):
        thread.start()
    try:
        while (items := conn.recv()) is not None:
            for item in items:
                todo.put(item)
    except (EOFError, OSError):  # the caller is gone: make no call for nobody
        with contextlib.suppress(queue.Empty):
            while True:
                todo.get_nowait()
    for _ in workers:
        todo.put(None)
    for thread in workers:
        thread.join()
    answers.put(None)
    sender.join()
    client.close()


# -- the caller's side -------------------------------------------------------------------------


class _Worker:
    def __init__(self, process: subprocess.Popen, conn: Connection, threads: int) -> None:
        self.process = process
        self.conn = conn
        self.threads = threads
        self.pending: dict[int, Any] = {}  # key -> item, the calls given and not answered


#: What a worker process runs. It ignores SIGINT; httpx's command line (rich, click,
#: pygments: a third of the start-up) is kept from loading, a worker never uses it.
_BOOT = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
    "sys.modules['httpx._main'] = None; "
    "from segur_ins.workers import _serve; _serve(int(sys.argv[1]))"
)


def _serve(fd: int) -> None:
    _worker_main(Connection(fd))


def _spawn(threads: int) -> _Worker:
    ours, theirs = socket.socketpair()
    try:
        process = subprocess.Popen(
            [sys.executable, "-c", _BOOT, str(theirs.fileno())],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C in a terminal is the caller's
        )
    except BaseException:
        ours.close()
        raise
    finally:
        theirs.close()
    return _Worker(process, Connection(ours.detach()), threads)


class LookupWorkers:
    """``processes`` worker processes sharing ``concurrency`` request threads (as evenly
    as they go), calling INSi with clients built from ``recipe``; at most
    ``rate_limit`` calls started per second in all (0: no limit). Started on first use,
    kept until :meth:`close`."""

    def __init__(
        self,
        recipe: ClientRecipe,
        *,
        processes: int,
        concurrency: int,
        rate_limit: float = 0.0,
    ) -> None:
        if not 1 <= processes <= concurrency:
            raise ValueError("from one worker process to one per request thread")
        self.recipe = recipe
        self.processes = processes
        self.concurrency = concurrency
        self.rate_limit = rate_limit
        self._workers: list[_Worker] = []  # empty: not started
        self._lock = threading.Lock()
        self._keys = itertools.count(1)  # unique across runs: a late answer is never
        # taken for another item's

    @property
    def shape(self) -> tuple[int, int, float]:
        return self.processes, self.concurrency, self.rate_limit

    def pids(self) -> list[int]:
        """The process ids of the live workers (for monitoring and tests)."""
        return [w.process.pid for w in self._workers if w.process.poll() is None]

    def start(self) -> None:
        """Start the workers and wait until each has built its client; raises what kept
        one from doing so (a :class:`~segur_core.errors.TLSConfigError`...), then none
        is left running."""
        with self._lock:
            if self._workers:
                return
            base, extra = divmod(self.concurrency, self.processes)
            rate = self.rate_limit / self.processes
            try:
                for index in range(self.processes):
                    self._workers.append(_spawn(base + (index < extra)))
                for worker in self._workers:
                    worker.conn.send((self.recipe, worker.threads, rate))
                for worker in self._workers:
                    if not worker.conn.poll(_START_TIMEOUT):
                        raise WorkerLost("an INSi worker process did not start in time")
                    status, error = worker.conn.recv()
                    if status != "ready":
                        raise error
            except BaseException as exc:
                self._stop_all()
                if isinstance(exc, (EOFError, OSError)):
                    raise WorkerLost("an INSi worker process ended while starting") from exc
                raise

    def run(
        self,
        items: Iterable[T],
        traits_of: Callable[[T], IdentityTraits],
        stop: threading.Event | None = None,
    ) -> Run[T]:
        """Look up ``items`` (``traits_of(item)`` gives the traits); see :class:`Run`.
        Workers that died since the last run are replaced first."""
        if any(w.process.poll() is not None for w in self._workers):
            self.close()
        self.start()
        return Run(list(self._workers), iter(items), traits_of, stop or threading.Event(),
                   self._keys)  # fmt: skip

    def close(self) -> None:
        """Stop the workers: each finishes its calls under way first."""
        with self._lock:
            self._stop_all()

    def _stop_all(self) -> None:
        for worker in self._workers:
            with contextlib.suppress(OSError):
                worker.conn.send(None)
        for worker in self._workers:
            try:
                worker.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait()
            worker.conn.close()
        self._workers = []

    def __enter__(self) -> LookupWorkers:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class Run(Generic[T]):
    """One pass of :class:`LookupWorkers` over some items.

    :meth:`groups` gives the answers as they come, in groups of ``(item, Lookup)`` (or
    ``(item, exception)``: :class:`WorkerLost`, :class:`WorkerError`); setting ``stop``
    ends the giving of work and the groups end once the calls under way are answered.
    They raise :class:`WorkerLost` when every worker died with items left to do. After
    an interruption, :meth:`drain` waits for the answers still under way.
    """

    def __init__(
        self,
        workers: list[_Worker],
        items: Iterator[T],
        traits_of: Callable[[T], IdentityTraits],
        stop: threading.Event,
        keys: Iterator[int],
    ) -> None:
        self._workers = workers
        self._items = items
        self._traits_of = traits_of
        self._stop = stop
        self._quit = threading.Event()  # drained: give nothing more
        self._keys = keys

    def _give(self, worker: _Worker, count: int) -> None:
        batch = []
        if not (self._stop.is_set() or self._quit.is_set()):
            for item in self._items:
                key = next(self._keys)
                worker.pending[key] = item
                batch.append((key, self._traits_of(item)))
                if len(batch) >= count:
                    break
        if batch:
            with contextlib.suppress(OSError):  # a dead worker is found reading its answers
                worker.conn.send(batch)

    def _receive(self, worker: _Worker) -> list[tuple[T, Lookup | Exception]]:
        """The answers ``worker`` sent, or its calls under way as lost if it died."""
        try:
            answers = worker.conn.recv()
        except (EOFError, OSError):
            lost: list[tuple[T, Lookup | Exception]] = [
                (item, WorkerLost("an INSi worker process ended before answering"))
                for item in worker.pending.values()
            ]
            worker.pending.clear()
            self._workers.remove(worker)
            return lost
        # an answer to an earlier run's call given up by its drain() is dropped
        return [(worker.pending.pop(key), answer) for key, answer in answers
                if key in worker.pending]  # fmt: skip

    def _ready(self, timeout: float) -> list[_Worker]:
        """The busy workers with something to read, waiting up to ``timeout``."""
        busy = {w.conn: w for w in self._workers if w.pending}
        return [busy[conn] for conn in wait(list(busy), timeout=timeout)]  # type: ignore[index]

    def groups(self) -> Iterator[list[tuple[T, Lookup | Exception]]]:
        for worker in list(self._workers):
            self._give(worker, worker.threads * (1 + _AHEAD))
        while any(w.pending for w in self._workers):
            ready = self._ready(timeout=1.0)
            group: list[tuple[T, Lookup | Exception]] = []
            deadline = time.monotonic() + _GATHER
            while ready:  # what every worker sends within _GATHER: settled together
                for worker in ready:
                    answers = self._receive(worker)
                    if worker in self._workers:
                        self._give(worker, len(answers))
                    group += answers
                left = deadline - time.monotonic()
                if left <= 0 or not any(w.pending for w in self._workers):
                    break
                ready = self._ready(timeout=left)
            if group:
                yield group
        end = object()
        if not self._workers and not self._stop.is_set() and next(self._items, end) is not end:
            raise WorkerLost("every INSi worker process ended")

    def drain(self, timeout: float = 60.0) -> list[tuple[T, Lookup | Exception]]:
        """Give no more work; wait up to ``timeout`` seconds for the answers of the calls
        under way and return them (those of a worker still silent then are lost)."""
        self._quit.set()
        answers: list[tuple[T, Lookup | Exception]] = []
        deadline = time.monotonic() + timeout
        while any(w.pending for w in self._workers):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            for worker in self._ready(timeout=left):
                answers += self._receive(worker)
        for worker in self._workers:
            answers += [(item, WorkerLost("an INSi worker process did not answer in time"))
                        for item in worker.pending.values()]  # fmt: skip
            worker.pending.clear()
        return answers
