"""A directory import SIGKILLed while it reads the file, or inside the transaction that
switches the directory, leaves the previous directory whole; the next import works."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from segur_mssante.directory import Directory
from segur_mssante.directory.sample import sample_rows, write_extraction

CHILD = """
import sys
from segur_mssante.directory import Directory

def progress(stage, done, total):
    print(stage, flush=True)

with Directory(sys.argv[1]) as store:
    store.import_file(sys.argv[2], on_progress=progress)
print("done", flush=True)
"""


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    base = tmp_path_factory.mktemp("crash")
    old = write_extraction(base / "old.txt", sample_rows(2000, seed=1))
    new = write_extraction(base / "new.txt", sample_rows(60000, seed=2))
    return old, new


@pytest.mark.parametrize(("stage", "delay"), [("read", 0.0), ("apply", 0.3)])
def test_sigkill_leaves_the_previous_directory(tmp_path, files, stage, delay):
    old, new = files
    path = tmp_path / "mss-directory.sqlite"
    with Directory(path) as store:
        store.import_file(old)
        before = [store.get(cells[1]) for cells in sample_rows(2000, seed=1)]
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), str(new)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        for line in child.stdout:
            assert line.strip() != "done", "the import ended before it could be killed"
            if line.strip() == stage:
                time.sleep(delay)
                os.kill(child.pid, signal.SIGKILL)
                break
    finally:
        child.kill()
        child.wait()
    assert child.returncode == -signal.SIGKILL
    with Directory(path) as store:
        store.check()
        assert len(store) == 2000
        assert [store.get(cells[1]) for cells in sample_rows(2000, seed=1)] == before
        assert store.search(before[0].mssante_address)
        report = store.import_file(new)
        assert report.added + report.changed + report.unchanged == len(store) == 60000
        assert report.removed == 2000 - report.changed - report.unchanged
        store.check()
