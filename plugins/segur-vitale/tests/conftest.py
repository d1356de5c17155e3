"""Fixtures of the segur-vitale tests: runtimes with the plugin, and the real PC/SC stack.

``pcsc_stack`` (session) makes sure pcscd runs with the vsmartcard vpcd driver: it uses a
running pcscd, or starts ``pcscd --foreground`` itself and stops it at the end. It skips
with the reason when pyscard, pcscd or vpcd are not installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from segur_core.model import Answer, Question

VPCD_READER = "Virtual PCD 00 00"
_VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")


@pytest.fixture
def vitale_runtime(make_segur_runtime, tmp_path):
    """A runtime with segur-vitale registered and a host whose pharmacist picks per
    ``choices`` (a list of option keys, consumed in order; default: the question's default)."""
    from segur_vitale import plugin

    from hostspecs.reference import ReferenceHost

    choices: list[str] = []
    questions: list[Question] = []

    def decide(question: Question) -> Answer:
        questions.append(question)
        return Answer(choices.pop(0) if choices else question.default, decided_by="test")

    host = ReferenceHost(tmp_path / "host.sqlite", decide=decide)
    runtime = make_segur_runtime(extra_plugins=[("vitale", plugin)], host=host)
    runtime.test_choices = choices
    runtime.test_questions = questions
    yield runtime
    host.close()


def _pcscd_binary() -> str | None:
    return shutil.which("pcscd") or next(
        (p for p in ("/usr/sbin/pcscd", "/sbin/pcscd") if os.access(p, os.X_OK)), None)


def _exclusive_vpcd(timeout: float):
    """One test session at a time drives the vpcd reader (it holds one card): a lock
    file serialises concurrent pytest runs on the same machine."""
    import fcntl

    handle = open(Path(tempfile.gettempdir()) / "segur-vitale-vpcd.lock", "w")  # noqa: SIM115
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return handle
        except BlockingIOError:
            if time.monotonic() > deadline:
                handle.close()
                _unavailable("another test run kept the vpcd virtual reader busy")
            time.sleep(0.2)


def _unavailable(reason: str) -> None:
    """Skip a PC/SC test, or fail it where the stack is required (``SEGUR_REQUIRE_PCSC=1``,
    set by ``.ci/run``, which installs the whole stack: there a skip would hide a fault)."""
    if os.environ.get("SEGUR_REQUIRE_PCSC") == "1":
        pytest.fail(f"the PC/SC stack is required here: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pcsc_stack() -> Iterator[None]:
    """pcscd running with the vpcd reader visible (started here when needed)."""
    from segur_vitale import pcsc

    if not pcsc.pyscard_installed():
        _unavailable("pyscard is not installed (install the segur-vitale[pcsc] extra)")
    binary = _pcscd_binary()
    if binary is None:
        _unavailable("pcscd is not installed (Debian package pcscd)")
    if not _VPCD_DRIVER.exists():
        _unavailable("the vsmartcard vpcd driver is not installed (Debian package vsmartcard-vpcd)")
    lock = _exclusive_vpcd(timeout=180)
    process = log = context = None
    try:
        if not pcsc.pcsc_available():
            if os.geteuid() != 0 and not os.access("/run/pcscd", os.W_OK):
                _unavailable("pcscd is not running and this user cannot start it")
            log = tempfile.TemporaryFile()  # noqa: SIM115 - a file, not a pipe: never blocks pcscd
            process = subprocess.Popen([binary, "--foreground"], stdout=log, stderr=log,
                                       start_new_session=True)
        deadline = time.monotonic() + 15
        while True:
            try:
                if context is None:  # held to the end: keeps an --auto-exit pcscd alive
                    context = pcsc.establish_context()
                if VPCD_READER in pcsc.list_readers(context=context):
                    break
            except pcsc.ReaderError:
                pass
            if process is not None and process.poll() is not None:
                log.seek(0)
                err = log.read().decode(errors="replace")[-500:]
                pytest.fail(f"pcscd exited with {process.returncode}: {err}")
            if time.monotonic() > deadline:
                _unavailable(f"pcscd runs but the reader {VPCD_READER!r} did not appear")
            time.sleep(0.2)
        yield
    finally:
        if context is not None:
            pcsc.release_context(context)
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if log is not None:
            log.close()
        lock.close()
