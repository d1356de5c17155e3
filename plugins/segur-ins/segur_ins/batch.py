"""``segur ins qualify --all``: qualify every patient not yet retrieved from INSi.

At most ``concurrency`` INSi requests are in flight at once (threads share one INSi
client, one keep-alive connection per request slot), at most ``rate_limit`` started per
second; saving and journaling each result happens outside the request slots. Progress
is appended, one line per finished patient, to ``<data_dir>/ins/qualify-all.progress``
and flushed at once, so an interrupted run (Ctrl-C, crash) resumes where it stopped;
the file is removed when a run completes.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

import attrs

from segur_core.model import Patient
from segur_ins import status
from segur_ins.identification import InsService, Outcome

__all__ = ["BatchSummary", "Progress", "RateLimiter", "qualify_all"]

_ATTRIBUTES_BLOCKING = {"douteuse", "fictive"}


class RateLimiter:
    """At most ``rate`` acquisitions per second across threads (0: unlimited)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._next = time.monotonic()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(self._next, now)
            self._next = slot + self.interval
        delay = slot - now
        if delay > 0:
            time.sleep(delay)


class Progress:
    """The resumable progress file of a batch run."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.done: dict[str, str] = {}
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                patient_id, sep, result = line.partition("\t")
                if sep and result:  # a torn last line is ignored
                    self.done[patient_id] = result
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()

    def mark(self, patient_id: str, result: str) -> None:
        with self._lock:
            self.done[patient_id] = result
            self._file.write(f"{patient_id}\t{result}\n")
            self._file.flush()

    def close(self, *, completed: bool) -> None:
        self._file.close()
        if completed:
            self.path.unlink(missing_ok=True)


@attrs.frozen
class BatchSummary:
    """Counts of a batch run by result (see :class:`~segur_ins.identification.Outcome`),
    ``resumed`` patients done by an earlier interrupted run, and the duration."""

    counts: dict[str, int]
    errors: dict[str, int]
    resumed: int
    seconds: float
    completed: bool

    @property
    def total(self) -> int:
        return sum(self.counts.values())


class _Slots:
    """At most ``count`` INSi calls at once, each started under the rate limit.

    The slots are tokens in a :class:`queue.SimpleQueue` (C-implemented: taking and
    returning one costs no Python-level condition variable, unlike a semaphore)."""

    def __init__(self, count: int, limiter: RateLimiter) -> None:
        self._tokens: queue.SimpleQueue[None] = queue.SimpleQueue()
        for _ in range(count):
            self._tokens.put(None)
        self._limiter = limiter

    def __enter__(self) -> None:
        self._tokens.get()
        self._limiter.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self._tokens.put(None)


def _eligible(patient: Patient) -> bool:
    identity = patient.identity
    return not status.is_retrieved(identity.status) and not (
        {str(a) for a in identity.attributes} & _ATTRIBUTES_BLOCKING
    )


def progress_path(data_dir: Path) -> Path:
    return Path(data_dir) / "ins" / "qualify-all.progress"


def qualify_all(
    service: InsService,
    *,
    patients: Iterable[Patient] | None = None,
    concurrency: int | None = None,
    rate_limit: float | None = None,
    on_start: Callable[[int], None] | None = None,
    on_done: Callable[[Outcome], None] | None = None,
    stop: threading.Event | None = None,
) -> BatchSummary:
    """Qualify every eligible patient; resumable (see the module docstring).

    ``on_start(total)`` is called with the number of patients to do, ``on_done`` after
    each one; setting ``stop`` ends the run early (what Ctrl-C does), keeping progress.
    """
    runtime = service.runtime
    config = service.config
    workers = concurrency or config.concurrency
    limiter = RateLimiter(config.rate_limit if rate_limit is None else rate_limit)
    progress = Progress(progress_path(runtime.data_dir))
    resumed = len(progress.done)
    pool = [p for p in (patients if patients is not None else runtime.host.find_patients())]
    todo = [p for p in pool if p.id not in progress.done and _eligible(p)]
    counts: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    if on_start is not None:
        on_start(len(todo))
    runtime.journal.record(
        "ins.qualify-all", details={"phase": "start", "todo": len(todo), "resumed": resumed}
    )
    stop = stop or threading.Event()
    started = time.monotonic()

    slots = _Slots(workers, limiter)

    def work(patient: Patient) -> Outcome:
        try:
            return service.qualify(patient, interactive=False, slot=slots)
        except Exception as exc:  # one patient's failure never stops the others
            code = type(exc).__name__
            runtime.journal.record(
                "ins.qualify", outcome="error", service="insi", patient_id=patient.id,
                details={"error": code},
            )  # fmt: skip
            return Outcome("error", patient, code)

    def count(outcome: Outcome) -> None:
        counts[outcome.result] += 1
        if outcome.result == "error":
            errors[outcome.code or "unknown"] += 1
        else:  # errors are retried by the next run
            progress.mark(outcome.patient.id, outcome.result)
        if on_done is not None:
            on_done(outcome)

    # Twice as many threads as INSi slots: while some threads save and journal a
    # result, ``workers`` requests stay in flight. The threads take patients from one
    # queue and hand each outcome (or exception) to this thread through another: no
    # future and no waiter per patient.
    todo_queue: queue.SimpleQueue[Patient] = queue.SimpleQueue()
    for patient in todo:
        todo_queue.put(patient)
    done: queue.SimpleQueue[Outcome | BaseException] = queue.SimpleQueue()
    quit_ = threading.Event()  # this run is over (Ctrl-C, an error): start no patient

    def run_thread() -> None:
        while not (stop.is_set() or quit_.is_set()):
            try:
                patient = todo_queue.get_nowait()
            except queue.Empty:
                return
            try:
                done.put(work(patient))
            except BaseException as exc:  # re-raised by the calling thread
                done.put(exc)

    threads = [
        threading.Thread(target=run_thread, name=f"ins-qualify-{index}", daemon=True)
        for index in range(min(workers * 2, len(todo)))
    ]
    completed = False
    try:
        try:
            for thread in threads:
                thread.start()
            received = 0
            while received < len(todo):
                try:
                    item = done.get(timeout=0.2)
                except queue.Empty:  # stopped: wait for the patients under way
                    stopped = stop.is_set() and not any(t.is_alive() for t in threads)
                    if stopped and done.empty():
                        break
                    continue
                received += 1
                if isinstance(item, BaseException):
                    raise item
                count(item)
            completed = not stop.is_set()
        finally:  # Ctrl-C or an error: start no new patient, keep the progress
            quit_.set()
            for thread in threads:
                thread.join()
    finally:
        progress.close(completed=completed and not errors)
        runtime.journal.record(
            "ins.qualify-all",
            outcome="ok" if completed else "interrupted",
            details={"phase": "end", "counts": dict(counts), "errors": dict(errors)},
        )
    return BatchSummary(
        counts=dict(counts),
        errors=dict(errors),
        resumed=resumed,
        seconds=time.monotonic() - started,
        completed=completed,
    )
