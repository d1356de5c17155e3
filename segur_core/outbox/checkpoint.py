"""Checkpoints of the outbox's WAL in a thread of their own.

A commit in WAL mode appends the pages it changed to the ``-wal`` file; a checkpoint
copies them back into the database, with an ``fsync`` of the WAL before and of the
database after (``synchronous=NORMAL``). SQLite runs it in the committing thread every
1,000 pages, about every hundred outbox items: that caller waits for both ``fsync``
calls, a quarter of an item's time on an ordinary disk. Here the writers count their
commits and every :data:`EVERY` commits a thread of the store runs a passive checkpoint
(it never blocks a reader or a writer; the GIL is released while it waits for the disk).

The WAL only starts again from its beginning when a writer finds it fully copied, which a
steady stream of commits prevents: once it holds :data:`RESTART_AT` pages, the thread
copies the rest holding the store's write lock, so the next commit starts it again. When
the disk is slower than the writers (an ``fsync`` may take seconds while the system
flushes other files), a writer due to ask for a checkpoint while the last one still runs
waits for it: the WAL stays bounded, as it does when SQLite checkpoints in the writers.

Nothing about durability changes: a commit is in the WAL when the call returns, with or
without a checkpoint, and a checkpoint interrupted by a crash is completed by the next
connection. The writers keep SQLite's automatic checkpoint as a backstop, at
:data:`BACKSTOP` pages, should the thread fail.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from segur_core import storage

__all__ = ["BACKSTOP", "EVERY", "RESTART_AT", "RETRIES", "RETRY_AFTER", "Checkpointer"]

log = logging.getLogger("segur.outbox")

#: Commits between two checkpoints: about SQLite's 1,000 pages at three to six a commit.
EVERY = 200
#: WAL pages after which the thread copies the rest under the write lock, so that the WAL
#: starts again from its beginning (SQLite's default checkpoint point is 1,000 pages).
RESTART_AT = 3000
#: Further attempts, :data:`RETRY_AFTER` seconds apart, of a checkpoint that could not
#: copy everything (a reader still needed the pages).
RETRIES = 3
RETRY_AFTER = 0.02
#: WAL pages at which a writer checkpoints by itself (SQLite's ``wal_autocheckpoint``).
BACKSTOP = 4000


class Checkpointer:
    """Checkpoints ``path`` on a connection of its own (``connect``) in a daemon thread,
    started by the first checkpoint due and stopped by :meth:`close`. ``write_lock`` is
    the store's: every write of the process holds it. A failed checkpoint is logged and
    tried again at the next one due (the backstop still bounds the WAL).

    Locks are taken in one order, the write lock first, then :attr:`_running` (held by
    whoever checkpoints), so that a writer waiting for a checkpoint never waits for a
    checkpoint waiting for it."""

    def __init__(
        self,
        path: Path,
        connect: Callable[[], sqlite3.Connection],
        write_lock: threading.Lock,
        every: int = EVERY,
    ) -> None:
        self._path = path
        self._connect = connect
        self._write_lock = write_lock
        self._every = every
        self._commits = 0  # since the last checkpoint asked for (counted under the write lock)
        self._due = threading.Event()
        self._lock = threading.Lock()
        self._running = threading.Lock()
        self._done = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False
        #: Checkpoints the thread has run (whatever they could copy).
        self.completed = 0

    def committed(self) -> None:
        """Count one commit; ask for a checkpoint every ``every`` commits, first waiting
        for the last one asked for if it still runs (the disk is behind the writers).
        Called with the store's write lock held, so that the count needs no lock."""
        self._commits += 1
        if self._commits >= self._every:
            self._commits = 0
            if self._running.locked():
                with self._running:
                    pass
            self._request()

    def wait(self, count: int, timeout: float) -> bool:
        """Wait until the thread has run ``count`` checkpoints; whether it has."""
        with self._done:
            return self._done.wait_for(lambda: self.completed >= count, timeout)

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """No checkpoint of this store's thread runs inside the block (one under way is
        waited for): SQLite refuses a second checkpointer at once, without waiting."""
        with self._running:
            yield

    def _request(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._closed:
                    return
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="segur-outbox-checkpoint", daemon=True
                    )
                    self._thread.start()
        self._due.set()

    def close(self) -> None:
        """Stop the thread, letting a checkpoint under way finish."""
        with self._lock:
            self._closed = True
            thread, self._thread = self._thread, None
        self._due.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while True:
                self._due.wait()
                self._due.clear()
                if self._closed:
                    return
                try:
                    if conn is None:
                        conn = self._connect()
                    self._checkpoint(conn)
                except sqlite3.Error as exc:  # a full disk: the next one will try again
                    cause = storage.cause(self._path, exc, "outbox")
                    log.warning("checkpoint of %s failed: %s", self._path, cause or exc)
                with self._done:
                    self.completed += 1
                    self._done.notify_all()
        finally:
            if conn is not None:
                conn.close()

    def _checkpoint(self, conn: sqlite3.Connection) -> None:
        """Copy what the WAL holds; try again shortly what a reader or a checkpoint of
        another process held back, a few times, then leave it to the next request."""
        for attempt in range(RETRIES + 1):
            if attempt:
                time.sleep(RETRY_AFTER)
            with self._running:
                frames, left = _passive(conn)
            if frames >= RESTART_AT:  # copy the rest with no commit in between
                with self._write_lock, self._running:
                    frames, left = _passive(conn)
            if not left or self._closed:
                return


def _passive(conn: sqlite3.Connection) -> tuple[int, int]:
    """A passive checkpoint: the pages the WAL holds, and how many it could not copy."""
    busy, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    if busy or frames < 0:  # another process's checkpoint was under way
        return 0, 1
    return frames, frames - copied
