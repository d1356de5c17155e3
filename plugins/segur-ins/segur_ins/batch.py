"""``segur ins qualify --all``: qualify every patient not yet retrieved from INSi.

A pipeline: ``concurrency`` threads only call INSi (one shared client, one keep-alive
connection each; at most ``rate_limit`` calls started per second) and hand each answer to
the calling thread. That thread settles the answers received within 10 ms of each other
together (:meth:`~segur_ins.identification.InsService.settle`: one journal transaction
for their INSi calls and the identity changes they cause, committed before the host
saves anything). Python threads contend for one interpreter lock: keeping the
bookkeeping in one thread, in groups, is what lets the request threads keep the service
busy. For a large batch on a multi-core machine the calls go to worker processes
instead (:mod:`segur_ins.workers`, chosen by :func:`worker_processes`), which give them
interpreters of their own; the calling thread settles their answers the same way.

Progress is appended, one line per finished patient, to
``<data_dir>/ins/qualify-all.progress`` and flushed once the patients are saved, so an
interrupted run (Ctrl-C, crash) resumes where it stopped; the file is removed when a run
completes. Answers already received when a run is interrupted are settled before it
returns.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import attrs

from segur_core.files import private_file
from segur_core.model import Patient
from segur_ins import status
from segur_ins.identification import InsService, Outcome
from segur_ins.lookup import Lookup, RateLimiter
from segur_ins.workers import Run
from segur_ins.workers import supported as workers_supported

__all__ = [
    "PROCESSES_FROM",
    "BatchSummary",
    "Progress",
    "RateLimiter",
    "qualify_all",
    "worker_processes",
]

log = logging.getLogger(__name__)

#: Unless configured, worker processes make the calls of a batch of this many patients.
PROCESSES_FROM = 1000
#: At most this many answers settled together (one journal transaction)...
_GROUP = 64
#: ...gathered for at most this long after the first one arrived (seconds). Settling
#: answers one by one would cost a journal transaction each and hand the interpreter
#: lock back and forth with the request threads for every database statement.
_GROUP_WINDOW = 0.01


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
        private_file(path)  # 0600: it lists patients and their identity status
        self._file = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()

    def mark(self, patient_id: str, result: str) -> None:
        self.mark_many([(patient_id, result)])

    def mark_many(self, results: Iterable[tuple[str, str]]) -> None:
        """Note finished patients: written and flushed before this returns."""
        with self._lock:
            lines = []
            for patient_id, result in results:
                self.done[patient_id] = result
                lines.append(f"{patient_id}\t{result}\n")
            self._file.write("".join(lines))
            self._file.flush()

    def close(self, *, completed: bool) -> None:
        self._file.close()
        if completed:
            self.path.unlink(missing_ok=True)


@attrs.frozen
class BatchSummary:
    """Counts of a batch run by result (see :class:`~segur_ins.identification.Outcome`),
    ``resumed`` patients done by an earlier interrupted run, the duration and the worker
    ``processes`` that made the calls (0: threads of this process)."""

    counts: dict[str, int]
    errors: dict[str, int]
    resumed: int
    seconds: float
    completed: bool
    processes: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _eligible(patient: Patient) -> bool:
    identity = patient.identity
    return not status.is_retrieved(identity.status) and not status.is_blocked(identity)


def _settle_leftovers(answers: list, settle: Callable) -> None:
    """After an interrupted run: settle the INSi answers already received, so that no
    call goes unjournaled. Best effort: a second failure is logged, not raised over the
    first."""
    try:
        if answers:
            settle(answers)
    except Exception as exc:
        log.warning("answers of an interrupted INSi batch not settled: %s", type(exc).__name__)


Answer = tuple[Patient, "Lookup | Exception"]


class _ThreadLookups:
    """The INSi calls of a batch made by ``workers`` threads of this process; same
    contract as :class:`segur_ins.workers.Run`: :meth:`groups` then :meth:`drain`."""

    def __init__(
        self,
        service: InsService,
        patients: list[Patient],
        workers: int,
        limiter: RateLimiter,
        stop: threading.Event,
    ) -> None:
        self._total = len(patients)
        self._stop = stop
        self._quit = threading.Event()  # this run is over (Ctrl-C, an error)
        self._todo: queue.SimpleQueue[Patient] = queue.SimpleQueue()
        for patient in patients:
            self._todo.put(patient)
        # each lookup, or what escaped it: no future and no waiter per patient
        self._done: queue.SimpleQueue[Answer | BaseException] = queue.SimpleQueue()
        self._service = service
        self._limiter = limiter
        self._threads = [
            threading.Thread(target=self._run_thread, name=f"ins-qualify-{index}", daemon=True)
            for index in range(min(workers, self._total))
        ]

    def _run_thread(self) -> None:
        while not (self._stop.is_set() or self._quit.is_set()):
            try:
                patient = self._todo.get_nowait()
            except queue.Empty:
                return
            try:
                self._limiter.acquire()
                self._done.put((patient, self._service.lookup(traits=patient.identity.traits)))
            except Exception as exc:  # one patient's failure never stops the others
                self._done.put((patient, exc))
            except BaseException as exc:  # re-raised by the calling thread
                self._done.put(exc)

    def _take(self, first: Answer | BaseException, waiting: bool) -> list:
        """The answers received with ``first`` (it and up to _GROUP - 1 more); when more
        are ``waiting`` to come, for up to _GROUP_WINDOW."""
        if waiting and not isinstance(first, BaseException):
            time.sleep(_GROUP_WINDOW)
        group = [first]
        while len(group) < _GROUP:
            try:
                group.append(self._done.get_nowait())
            except queue.Empty:
                break
        return group

    def groups(self) -> Iterator[list[Answer]]:
        for thread in self._threads:
            thread.start()
        received = 0
        while received < self._total:
            try:
                first = self._done.get(timeout=0.2)
            except queue.Empty:  # stopped: wait for the patients under way
                stopped = self._stop.is_set() and not any(t.is_alive() for t in self._threads)
                if stopped and self._done.empty():
                    return
                continue
            group = self._take(first, waiting=received + 1 < self._total)
            received += len(group)
            answers = [item for item in group if not isinstance(item, BaseException)]
            if answers:
                yield answers
            for item in group:  # what escaped a request thread, once its group is settled
                if isinstance(item, BaseException):
                    raise item

    def drain(self) -> list[Answer]:
        """Start no new patient; the answers of the lookups under way."""
        self._quit.set()
        for thread in self._threads:
            if thread.ident is not None:  # started
                thread.join()
        answers = []
        while not self._done.empty():
            item = self._done.get_nowait()
            if not isinstance(item, BaseException):
                answers.append(item)
        return answers


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def worker_processes(configured: int | None, concurrency: int, todo: int) -> int:
    """How many worker processes make the calls of a batch of ``todo`` patients:
    ``configured`` when set (0: none), else, on a machine with several cores and for at
    least :data:`PROCESSES_FROM` patients, one per core up to 4 (and up to
    ``concurrency``): starting a worker costs about a second of CPU. None where worker
    processes cannot run (:func:`segur_ins.workers.supported`)."""
    if configured == 0 or not workers_supported():
        return 0
    if configured is not None:
        return min(configured, concurrency)
    cores = _cores()
    if cores < 2 or todo < PROCESSES_FROM:
        return 0
    return min(cores, 4, concurrency)


def progress_path(data_dir: Path) -> Path:
    return Path(data_dir) / "ins" / "qualify-all.progress"


def qualify_all(
    service: InsService,
    *,
    patients: Iterable[Patient] | None = None,
    concurrency: int | None = None,
    rate_limit: float | None = None,
    processes: int | None = None,
    on_start: Callable[[int], None] | None = None,
    on_done: Callable[[Outcome], None] | None = None,
    stop: threading.Event | None = None,
) -> BatchSummary:
    """Qualify every eligible patient; resumable (see the module docstring).

    ``concurrency``, ``rate_limit`` and ``processes`` default to the ``[ins]``
    configuration (see :func:`worker_processes`). ``on_start(total)`` is called with the
    number of patients to do, ``on_done`` after each one; setting ``stop`` ends the run
    early (what Ctrl-C does), keeping progress.
    """
    runtime = service.runtime
    config = service.config
    workers = concurrency or config.concurrency
    rate = config.rate_limit if rate_limit is None else rate_limit
    progress = Progress(progress_path(runtime.data_dir))
    resumed = len(progress.done)
    pool = [p for p in (patients if patients is not None else runtime.host.find_patients())]
    todo = [p for p in pool if p.id not in progress.done and _eligible(p)]
    counts: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    if on_start is not None:
        on_start(len(todo))
    engine = worker_processes(config.processes if processes is None else processes, workers,
                              len(todo))  # fmt: skip
    runtime.journal.record(
        "ins.qualify-all",
        details={"phase": "start", "todo": len(todo), "resumed": resumed, "processes": engine},
    )
    stop = stop or threading.Event()
    started = time.monotonic()

    def settle(group: list[Answer]) -> None:
        if not group:
            return
        lookups = [(p, item) for p, item in group if isinstance(item, Lookup)]
        failed = [(p, item) for p, item in group if not isinstance(item, Lookup)]
        outcomes = service.settle(lookups, interactive=False)
        if failed:
            runtime.journal.record_many([
                dict(action="ins.qualify", outcome="error", service="insi",
                     patient_id=p.id, details={"error": type(exc).__name__})
                for p, exc in failed
            ])  # fmt: skip
            outcomes += [Outcome("error", p, type(exc).__name__) for p, exc in failed]
        finished = []
        for outcome in outcomes:
            counts[outcome.result] += 1
            if outcome.result == "error":  # retried by the next run
                errors[outcome.code or "unknown"] += 1
            else:
                assert outcome.patient is not None
                finished.append((outcome.patient.id, outcome.result))
        progress.mark_many(finished)
        if on_done is not None:
            for outcome in outcomes:
                on_done(outcome)

    completed = False
    try:
        lookups: _ThreadLookups | Run[Patient] | None = None
        try:
            if engine:
                lookups = service.workers(engine, workers, rate).run(todo, _traits, stop)
            else:
                lookups = _ThreadLookups(service, todo, workers, RateLimiter(rate), stop)
            for group in lookups.groups():
                settle(group)
            completed = not stop.is_set()
        finally:  # Ctrl-C or an error: start no new patient, keep what was done
            if lookups is not None:
                _settle_leftovers(lookups.drain(), settle)
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
        processes=engine,
    )


def _traits(patient: Patient):
    return patient.identity.traits
