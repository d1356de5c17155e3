"""Storage faults under the audit journal: a full disk, a read-only file system or file,
a damaged page in the middle. Each is a ``JournalStorageError`` naming the file and the
cause; a record that is not stored is never returned as written.

The full disk is a real one where the test can mount a small tmpfs (``disks.py``, as
root, as CI runs); elsewhere SQLite's ``max_page_count`` makes SQLite itself report the
database full (``SQLITE_FULL``, the same code path from the journal's side)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from segur_core.cli import cli
from segur_core.errors import DurabilityError
from segur_core.journal import Journal, JournalStorageError

from .disks import damage_page, small_disk
from .users import as_unprivileged, unprivileged_home


def _open(path: Path) -> Journal:
    return Journal(path, pseudonym_key=b"k" * 32)


def _fill_until_refused(journal: Journal, threads: int = 1) -> tuple[list, list]:
    """Write from ``threads`` threads until every one is refused; return the records
    each call returned and the errors raised."""
    written: list = []
    errors: list = []
    lock = threading.Lock()

    def write(n: int) -> None:
        for i in range(100_000):
            try:
                records = journal.record_many(
                    [{"action": "fill", "details": {"pad": "x" * 400, "t": n, "i": i}}] * 2
                )
            except JournalStorageError as exc:
                with lock:
                    errors.append(exc)
                return
            with lock:
                written.extend(records)

    workers = [threading.Thread(target=write, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return written, errors


def _assert_nothing_claimed(journal: Journal, written: list) -> None:
    stored = {r.seq: r for r in journal.records()}
    assert {r.seq: r for r in written} == stored  # returned <=> stored
    assert journal.verify().ok


def test_full_disk_is_a_typed_error_and_nothing_is_claimed(tmp_path: Path) -> None:
    with (
        small_disk(tmp_path / "mnt", "256k") as disk,
        _open(disk.path / "journal.sqlite") as journal,
    ):
        mount = disk.path
        written, errors = _fill_until_refused(journal, threads=4)
        assert written and len(errors) == 4
        for error in errors:
            assert isinstance(error, DurabilityError)
            assert str(mount / "journal.sqlite") in str(error)
            assert "the disk is full" in str(error)
            assert "no transaction is active" not in str(error)
        _assert_nothing_claimed(journal, written)


def test_full_database_is_a_typed_error_and_nothing_is_claimed(tmp_path: Path) -> None:
    with _open(tmp_path / "journal.sqlite") as journal:
        journal.record("start")
        journal._connection().execute("PRAGMA max_page_count = 12")
        written, errors = _fill_until_refused(journal, threads=3)
        assert written and len(errors) == 3
        assert all("the disk is full" in str(e) for e in errors)
        _assert_nothing_claimed(journal, [journal.records()[0], *written])


def test_read_only_file_system_is_a_typed_error(tmp_path: Path) -> None:
    with small_disk(tmp_path / "mnt", "2m") as disk:
        path = disk.path / "journal.sqlite"
        with _open(path) as journal:
            journal.record("before")
        disk.read_only()
        with pytest.raises(JournalStorageError) as caught:
            _open(path)
        assert str(path) in str(caught.value)
        assert "the file system is read-only" in str(caught.value)


def _write_to_read_only(path: Path) -> None:
    """Journal a record, make the journal's files and folder read-only, journal another."""
    with _open(path) as journal:
        journal.record("before")
    for file in path.parent.iterdir():
        file.chmod(0o400)
    path.parent.chmod(0o500)
    try:
        with _open(path) as journal:
            journal.record("after")
    finally:
        path.parent.chmod(0o700)


def test_read_only_file_is_a_typed_error() -> None:
    """As a user who owns the files without write permission (root would write them)."""
    with unprivileged_home() as home:
        path = home / "data" / "journal.sqlite"
        with pytest.raises(JournalStorageError, match="read-only") as caught:
            as_unprivileged(_write_to_read_only, path)
        assert str(path) in str(caught.value)


@pytest.fixture
def damaged(tmp_path: Path) -> Path:
    """A journal whose middle page is overwritten with noise."""
    path = tmp_path / "data" / "journal.sqlite"
    with _open(path) as journal:
        for i in range(200):
            journal.record("patient.read", details={"pad": "y" * 300, "i": i})
    damage_page(path, path.stat().st_size // 4096 // 2)
    return path


def test_damaged_middle_page_is_a_typed_error(damaged: Path) -> None:
    with _open(damaged) as journal:
        for read in (journal.records, journal.verify):
            with pytest.raises(JournalStorageError) as caught:
                read()
            assert str(damaged) in str(caught.value)
            assert "the file is damaged" in str(caught.value)


def test_cli_prints_one_line_and_exits_1(tmp_path: Path, damaged: Path) -> None:
    config = tmp_path / "segur.toml"
    config.write_text(f'[segur]\ndata_dir = "{damaged.parent}"\n')
    for command in (["audit", "show"], ["audit", "verify"]):
        result = CliRunner().invoke(cli, ["--config", str(config), *command])
        assert result.exit_code == 1, result.output
        assert not isinstance(result.exception, JournalStorageError | AssertionError)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in result.output
        assert lines[0].startswith("Error: cannot read the audit journal")
        assert "the file is damaged" in lines[0]


def test_a_missing_key_on_a_read_only_file_system_is_a_typed_error(tmp_path: Path) -> None:
    with small_disk(tmp_path / "mnt", "1m") as disk:
        disk.read_only()
        with pytest.raises(JournalStorageError, match="read-only"):
            Journal(disk.path / "journal.sqlite")
