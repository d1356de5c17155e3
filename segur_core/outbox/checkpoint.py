"""Checkpoints of the outbox's WAL in a thread of their own.

A commit in WAL mode appends the pages it changed to the ``-wal`` file; a checkpoint
copies them back into the database, with an ``fsync`` of the WAL before and of the
database after (``synchronous=NORMAL``). SQLite runs it in the committing thread every
1,000 pages, about every hundred outbox items: that caller waits for both ``fsync``
calls, a quarter of an item's time on an ordinary disk. Here the writers count their
commits and every :data:`EVERY` commits a thread of the store runs a passive checkpoint
(it never blocks a reader or a writer; the GIL is released while it waits for the disk).

Nothing about durability changes: a commit is in the WAL when the call returns, with or
without a checkpoint, and a checkpoint interrupted by a crash is completed by the next
connection. The writers keep SQLite's automatic checkpoint as a backstop, at
:data:`BACKSTOP` pages: the WAL only starts again from its beginning when a writer finds
it fully copied, which a steady stream of commits may prevent.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

from segur_core import storage

__all__ = ["BACKSTOP", "EVERY", "Checkpointer"]

log = logging.getLogger("segur.outbox")

#: Commits between two checkpoints: about SQLite's 1,000 pages at three to six a commit.
EVERY = 200
#: WAL pages at which a writer checkpoints by itself (SQLite's ``wal_autocheckpoint``).
BACKSTOP = 4000


class Checkpointer:
    """Runs ``PRAGMA wal_checkpoint(PASSIVE)`` of ``path`` on a connection of its own
    (``connect``) in a daemon thread, started by the first checkpoint due and stopped by
    :meth:`close`. A failed checkpoint is logged and tried again at the next one due (the
    backstop still bounds the WAL)."""

    def __init__(
        self, path: Path, connect: Callable[[], sqlite3.Connection], every: int = EVERY
    ) -> None:
        self._path = path
        self._connect = connect
        self._every = every
        self._commits = 0  # since the last checkpoint asked for (counted under the write lock)
        self._due = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    def committed(self) -> None:
        """Count one commit; ask for a checkpoint every ``every`` commits. Called with
        the store's write lock held, so that the count needs no lock of its own."""
        self._commits += 1
        if self._commits >= self._every:
            self._commits = 0
            self._request()

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
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as exc:  # a full disk: the next one will try again
                    cause = storage.cause(self._path, exc, "outbox")
                    log.warning("checkpoint of %s failed: %s", self._path, cause or exc)
        finally:
            if conn is not None:
                conn.close()
