"""Part of a test run as an unprivileged user, for permission faults that are real.

CI runs the suite as root, and root writes read-only files and changes the mode of other
users' files: a test of those faults passes there only if the fault happens to someone
else. :func:`as_unprivileged` runs a function in a forked child that dropped to
``nobody`` before calling it (when the test runs as root; in the test's own process
otherwise) and hands back its result or re-raises its exception; :func:`unprivileged_home`
is a folder that user owns and can reach (``tmp_path`` is inside root's 0700 folder).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import pwd
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

__all__ = ["as_unprivileged", "unprivileged_home"]


def _nobody() -> tuple[int, int]:
    entry = pwd.getpwnam("nobody")
    return entry.pw_uid, entry.pw_gid


@contextlib.contextmanager
def unprivileged_home() -> Iterator[Path]:
    """A fresh folder (removed afterwards) owned by the user :func:`as_unprivileged` runs as."""
    home = Path(tempfile.mkdtemp(prefix="segur-unprivileged-"))
    try:
        if os.geteuid() == 0:
            os.chown(home, *_nobody())
        yield home
    finally:
        shutil.rmtree(home, ignore_errors=True)


def as_unprivileged(function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)`` run as ``nobody`` (as root) or as the current user."""
    if os.geteuid() != 0:
        return function(*args)
    uid, gid = _nobody()
    read, write = os.pipe()
    with warnings.catch_warnings():  # the child only calls ``function`` and exits
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            outcome: tuple[bool, Any] = (True, function(*args))
        except BaseException as exc:
            outcome = (False, exc)
        try:
            data = pickle.dumps(outcome)
        except Exception as exc:
            data = pickle.dumps((False, RuntimeError(f"cannot hand back {outcome!r}: {exc}")))
        with os.fdopen(write, "wb") as pipe:
            pipe.write(data)
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    if not data:
        raise RuntimeError(f"the unprivileged child ended without an answer (status {status})")
    ok, value = pickle.loads(data)
    if not ok:
        raise value
    return value
