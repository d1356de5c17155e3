"""The data directory is 0700 and every file segur writes in it 0600 (SQLite's side files
included), whatever the umask; a file from an older version or a key regenerated in
place is brought back to 0600; what the demo writes to its output folder too."""

from __future__ import annotations

import datetime as dt
import logging.handlers
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from segur_core._contributions import DemoContext
from segur_core.files import private_dir, private_file, write_private
from segur_core.journal import Journal
from segur_core.runtime import create_runtime
from segur_core.sandbox.pki import TestPKI
from segur_core.sandbox.transcript import Exchange, Transcript

from ..reliability.users import as_unprivileged, unprivileged_home


@pytest.fixture(autouse=True)
def permissive_umask() -> Iterator[None]:
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _modes(directory: Path) -> dict[str, int]:
    """The mode of ``directory`` and of everything under it, by relative path."""
    modes = {".": _mode(directory)}
    for path in directory.rglob("*"):
        modes[str(path.relative_to(directory))] = _mode(path)
    return modes


def _not_private(directory: Path) -> dict[str, str]:
    return {
        name: oct(mode)
        for name, mode in _modes(directory).items()
        if mode != (0o700 if (directory / name).is_dir() else 0o600)
    }


def _use_runtime(data: Path) -> None:
    runtime = create_runtime({"segur": {"plugins": []}}, data_dir=data, autoload=False)
    try:
        runtime.journal.record("patient.read", patient_id="p-1")
        runtime.outbox.enqueue("test.kind", "key-1", b"<ClinicalDocument/>", patient_id="p-1")
        runtime.host.structure()
    finally:
        runtime.close()


def test_runtime_files_are_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _use_runtime(data)
    names = set(_modes(data))
    for name in ("journal.sqlite", "journal.checkpoints", "outbox.sqlite", "host.sqlite"):
        assert name in names
    assert _not_private(data) == {}


def test_files_of_an_older_version_are_made_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _use_runtime(data)
    data.chmod(0o755)
    for path in data.rglob("*"):
        path.chmod(0o644)
    for name in ("journal.sqlite-wal", "outbox.sqlite-wal"):  # side files left behind
        (data / name).touch(mode=0o644)
    _use_runtime(data)
    assert _not_private(data) == {}


def test_sqlite_side_files_take_the_database_mode(tmp_path: Path) -> None:
    path = tmp_path / "j" / "journal.sqlite"
    with Journal(path, pseudonym_key=b"k" * 32) as journal:
        journal.record("x")
        assert {p.name for p in path.parent.iterdir()} >= {
            "journal.sqlite-wal",
            "journal.sqlite-shm",
        }
        assert _not_private(path.parent) == {}


def test_a_regenerated_key_does_not_keep_an_old_mode(tmp_path: Path) -> None:
    key = tmp_path / "pseudonym.key"
    key.write_bytes(b"k" * 32)
    key.chmod(0o644)
    with Journal(tmp_path / "journal.sqlite"):
        pass
    assert _mode(key) == 0o600
    old = tmp_path / "pki"
    TestPKI.create(old, now=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    for path in old.rglob("*.key.pem"):
        path.chmod(0o644)
    TestPKI.create(old)  # expired: generated again over the old files
    keys = list(old.rglob("*.key.pem"))
    assert keys and {_mode(p) for p in keys} == {0o600}


def test_demo_output_is_private(tmp_path: Path) -> None:
    out = private_dir(tmp_path / "out")
    context = DemoContext(runtime=None, out_dir=out)
    context.artefact("journal.jsonl", '{"patient_id": "p-1"}\n')
    context.artefact("documents/vaccination.xml", b"<ClinicalDocument/>")
    transcript = Transcript()
    transcript._add(Exchange("POST", "/insi", "text/xml", b"<INS/>", 200, "text/xml", b"<ok/>"))
    assert transcript.write(out / "messages" / "insi")
    assert _not_private(out) == {}


def test_helpers(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    file = private_file(shared / "a.sqlite")
    assert _mode(file) == 0o600 and _mode(shared) == 0o777  # a shared folder is left alone
    (shared / "b").write_bytes(b"old")
    (shared / "b").chmod(0o644)
    write_private(shared / "b", b"new")
    assert (shared / "b").read_bytes() == b"new" and _mode(shared / "b") == 0o600
    assert [p.name for p in shared.iterdir() if p.name.startswith(".")] == []
    assert _mode(private_dir(tmp_path / "x" / "y")) == 0o700


def test_plugin_stores_are_private(tmp_path: Path) -> None:
    segur_dmp = pytest.importorskip("segur_dmp.status")
    segur_ins = pytest.importorskip("segur_ins.batch")
    store = segur_dmp.StatusStore(tmp_path / "data" / "dmp-status.sqlite")
    store.close()
    progress = segur_ins.Progress(tmp_path / "data" / "batch.progress")
    progress.mark("p-1", "qualified")
    progress.close(completed=False)
    assert _not_private(tmp_path / "data") == {}


def _private_in_another_users_folder(data: Path) -> tuple[list[str], int]:
    """``private_dir`` then ``private_file`` in ``data``; the warnings logged and the
    new file's mode."""
    handler = logging.handlers.BufferingHandler(capacity=100)
    logger = logging.getLogger("segur.files")
    logger.addHandler(handler)
    try:
        assert private_dir(data) == data
        mode = _mode(private_file(data / "journal.sqlite"))
        return [record.getMessage() for record in handler.buffer], mode
    finally:
        logger.removeHandler(handler)


def test_a_directory_of_another_user_is_warned_about_not_fatal() -> None:
    """Only the owner may chmod: an unprivileged user meets a real EPERM on root's folder."""
    if os.geteuid() != 0:
        pytest.skip("a folder of another user needs root to make (CI runs as root)")
    with unprivileged_home() as home:
        data = home / "data"
        data.mkdir()
        data.chmod(0o777)  # root's, shared
        warned, mode = as_unprivileged(_private_in_another_users_folder, data)
        assert _mode(data) == 0o777 and any("cannot make" in m for m in warned), warned
        assert mode == 0o600  # created 0600 all the same
