"""A validator kept warm in a worker process, for a long-lived service (``segur serve``).

Saxon compiles the official schematrons in 14-17 s and about 1 GB, and holds the GIL
while it does: in a thread of the service it would freeze every call for that long. The
:class:`WarmValidator` owns one worker *process* (spawned, so that nothing of the
service's threads is inherited) that builds a :class:`Validator`, compiles every
schematron the documents of this plugin use, then checks documents one at a time for
the life of the service. :meth:`WarmValidator.warm_up` blocks until the worker is warm;
:meth:`WarmValidator.validate` has the :class:`Validator`'s signature, so the document
service calls either one alike.

:class:`Validators` is the runtime's choice between the warm validator (when the service
made one) and the in-process one.
"""

from __future__ import annotations

import threading
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING, Any

from segur_core.errors import DocumentError

if TYPE_CHECKING:
    from segur_documents.checks.validator import ValidationReport, Validator
    from segur_documents.config import DocumentsConfig

__all__ = ["Validators", "WarmValidator"]

#: The validator of the worker process (one per process).
_worker: Validator | None = None


def _start_worker(config: DocumentsConfig) -> None:
    global _worker
    from segur_documents.checks.validator import validator_for

    _worker = validator_for(config)


def _warm_worker() -> float:
    """Compile every schematron a document can need (the transversal profiles and each
    volet's), then check the kit's example documents once: Saxon builds parts of a
    stylesheet on its first run (the first N1 document took 8 s, the next ones 1 s), which
    the first document after readiness must not pay. The seconds the compilation took."""
    from segur_documents.checks.schematron import PROFILE_SCHEMATRONS, VOLET_SCHEMATRONS

    assert _worker is not None
    runner = _worker.schematrons
    if runner is None or not _worker.use_schematron:
        return 0.0
    runner.warm_up((*PROFILE_SCHEMATRONS, *VOLET_SCHEMATRONS))
    kit = _worker.kit
    if kit is not None:
        for example in sorted((kit.root / "ExemplesCDA").glob("*.xml")):
            _worker.validate(example.read_bytes())
    return runner.compile_seconds


def _validate_in_worker(xml: bytes) -> ValidationReport:
    assert _worker is not None
    return _worker.validate(xml)


class WarmValidator:
    """A :class:`Validator` for ``config`` living in its own worker process."""

    def __init__(self, config: DocumentsConfig) -> None:
        self.config = config
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self.compile_seconds: float | None = None

    def _executor(self) -> ProcessPoolExecutor:
        import multiprocessing

        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start_worker,
                    initargs=(self.config,),
                )
            return self._pool

    def warm_up(self) -> None:
        """Start the worker and compile the schematrons there; returns once warm."""
        self.compile_seconds = self._executor().submit(_warm_worker).result()

    def to_compile(self, documents: Any) -> tuple[str, ...]:
        """Nothing: the worker compiled every schematron when it warmed up."""
        return ()

    def worker_pid(self) -> int:
        """The process id of the worker (started if needed)."""
        import os

        return int(self._executor().submit(os.getpid).result())

    def validate(self, xml: bytes) -> ValidationReport:
        """Check one document's bytes in the worker (waits for the warm-up if it runs)."""
        try:
            return self._executor().submit(_validate_in_worker, bytes(xml)).result()
        except DocumentError:
            raise
        except Exception as exc:  # the worker died (killed, out of memory): start again
            self.close()
            raise DocumentError(
                f"the validation worker failed ({type(exc).__name__})",
                hint="try again: a new worker is started",
            ) from None

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


class Validators:
    """The validators of one runtime: ``warm`` when ``segur serve`` made one for the
    runtime's configuration, else the process's shared in-process one."""

    def __init__(self) -> None:
        self.warm: WarmValidator | None = None

    def for_config(self, config: DocumentsConfig) -> Any:
        """The validator to check documents with under ``config``."""
        warm = self.warm
        if warm is not None and warm.config == config:
            return warm
        from segur_documents.checks.validator import validator_for

        return validator_for(config)

    def close(self) -> None:
        if self.warm is not None:
            self.warm.close()
