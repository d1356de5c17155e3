"""Attacks on the audit journal that its own hash chain cannot see, and the checkpoints
that show them: records cut at the end, a chain rewritten from an edited record (head
and ``sqlite_sequence`` edited too), a journal emptied or replaced by an empty file, the
checkpoint file deleted, cut or forged."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segur_core.cli import cli
from segur_core.journal import GENESIS, Journal, ProblemKind
from segur_core.journal.anchor import parse_expected_head
from segur_core.journal.chain import link_hash

from ..reliability.journal_tamper import tamper

COLUMNS = "seq, at, actor, patient_id, action, service, outcome, details, prev_hash, hash"


def _open(path: Path, **kwargs) -> Journal:
    return Journal(path, pseudonym_key=b"k" * 32, **kwargs)


def _fill(journal: Journal, count: int) -> None:
    for i in range(count):
        journal.record("patient.read", patient_id=f"patient-{i % 3}", details={"n": i})


def _cut_tail(path: Path, keep: int) -> None:
    """Delete the records after ``keep`` and make ``head`` and ``sqlite_sequence`` agree."""
    conn = sqlite3.connect(path)
    head = conn.execute("SELECT hash FROM records WHERE seq = ?", (keep,)).fetchone()
    conn.close()
    tamper(
        path,
        ("DELETE FROM records WHERE seq > ?", (keep,)),
        ("UPDATE head SET seq = ?, hash = ?", (keep, head[0] if head else GENESIS)),
        ("UPDATE sqlite_sequence SET seq = ? WHERE name = 'records'", (keep,)),
    )


def _rewrite_from(path: Path, seq: int, outcome: str) -> None:
    """Edit record ``seq`` and recompute every hash from there on, ``head`` included: a
    chain that is consistent again, only different."""
    conn = sqlite3.connect(path)
    rows = conn.execute(f"SELECT {COLUMNS} FROM records ORDER BY seq").fetchall()
    conn.close()
    prev = GENESIS
    statements = []
    for number, at, actor, patient_id, action, service, old, details, _, digest in rows:
        if number >= seq:
            out = outcome if number == seq else old
            digest = link_hash(
                actor=actor,
                at=at,
                patient_id=patient_id,
                action=action,
                service=service,
                outcome=out,
                details=details,
                prev_hash=prev,
            )
            statements.append(
                (
                    "UPDATE records SET outcome = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                    (out, prev, digest, number),
                )
            )
        prev = digest
    statements.append(("UPDATE head SET hash = ?", (prev,)))
    tamper(path, *statements)


@pytest.fixture
def journal_path(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "journal.sqlite"
    with _open(path) as journal:
        _fill(journal, 10)
        assert journal.verify().ok
    return path


def _verify(path: Path, **kwargs):
    with _open(path) as journal:
        return journal.verify(**kwargs)


def test_checkpoints_are_written_keyed_and_private(journal_path: Path) -> None:
    lines = journal_path.with_suffix(".checkpoints").read_text().splitlines()
    first, last = json.loads(lines[0]), json.loads(lines[-1])
    assert first["started"] == 0 and first["key_existed"] is False
    assert last["count"] == 10 and len(last["mac"]) == 64
    report = _verify(journal_path)
    assert report.ok and report.checkpoint == {
        "count": 10,
        "head": report.head,
        "at": last["at"],
    }
    for name in ("journal.sqlite", "journal.checkpoints", "journal.key"):
        assert stat.S_IMODE(os.stat(journal_path.parent / name).st_mode) == 0o600, name


def test_tail_truncation_is_detected(journal_path: Path) -> None:
    _cut_tail(journal_path, 7)
    report = _verify(journal_path)
    assert not report.ok
    assert [(p.seq, p.kind) for p in report.problems] == [(8, ProblemKind.DELETED)]
    assert "records 8-10 deleted at the end" in report.problems[0].message


def test_chain_rewritten_after_an_edit_is_detected(journal_path: Path) -> None:
    _rewrite_from(journal_path, 4, "error")
    report = _verify(journal_path)
    assert not report.ok
    assert report.kinds() == {ProblemKind.REWRITTEN}
    assert report.first_bad == 4  # the checkpoint written with record 4 no longer matches


def test_rewritten_and_cut_journal_is_detected(journal_path: Path) -> None:
    _rewrite_from(journal_path, 9, "forged")
    _cut_tail(journal_path, 9)
    report = _verify(journal_path)
    assert report.kinds() == {ProblemKind.DELETED, ProblemKind.REWRITTEN}


def test_emptied_journal_is_detected(journal_path: Path) -> None:
    tamper(
        journal_path,
        ("DELETE FROM records", ()),
        ("DELETE FROM head", ()),
        ("DELETE FROM sqlite_sequence", ()),
    )
    report = _verify(journal_path)
    assert not report.ok and report.checked == 0
    assert "records 1-10 deleted at the end" in report.problems[0].message


def test_journal_replaced_by_an_empty_file_is_detected(journal_path: Path) -> None:
    for suffix in ("-wal", "-shm"):
        Path(f"{journal_path}{suffix}").unlink(missing_ok=True)
    journal_path.write_bytes(b"")
    report = _verify(journal_path)
    assert not report.ok
    assert report.kinds() == {ProblemKind.DELETED}


def test_deleted_checkpoint_file_is_detected(journal_path: Path) -> None:
    journal_path.with_suffix(".checkpoints").unlink()
    report = _verify(journal_path)
    assert not report.ok
    assert report.kinds() == {ProblemKind.UNANCHORED}
    assert "missing but its key exists" in report.problems[0].message
    # the next write starts a new file: it says it started over
    with _open(journal_path) as journal:
        journal.record("after")
        report = journal.verify()
    assert report.kinds() == {ProblemKind.UNANCHORED}
    assert "deleted and started over" in report.problems[0].message


def test_deleted_checkpoint_file_and_key_are_detected(journal_path: Path) -> None:
    journal_path.with_suffix(".checkpoints").unlink()
    journal_path.with_suffix(".key").unlink()
    report = _verify(journal_path)
    assert report.kinds() == {ProblemKind.UNANCHORED}
    assert "10 records and no checkpoint" in report.problems[0].message


def test_deleted_key_is_detected(journal_path: Path) -> None:
    journal_path.with_suffix(".key").unlink()
    assert _verify(journal_path).kinds() == {ProblemKind.BAD_CHECKPOINT}


def test_forged_or_edited_checkpoints_are_detected(journal_path: Path) -> None:
    checkpoints = journal_path.with_suffix(".checkpoints")
    lines = checkpoints.read_text().splitlines()
    edited = json.loads(lines[-1])
    edited["count"] = 5  # claims fewer records, to cover a cut tail
    checkpoints.write_text("\n".join([*lines[:-1], json.dumps(edited)]) + "\n")
    report = _verify(journal_path)
    assert report.kinds() == {ProblemKind.BAD_CHECKPOINT}
    assert "line(s) 11" in report.problems[0].message


def test_checkpoint_file_cut_at_its_start_is_detected(journal_path: Path) -> None:
    checkpoints = journal_path.with_suffix(".checkpoints")
    lines = checkpoints.read_text().splitlines()
    checkpoints.write_text("\n".join(lines[3:]) + "\n")
    report = _verify(journal_path)
    assert report.kinds() == {ProblemKind.BAD_CHECKPOINT}
    assert "does not begin with its first checkpoint" in report.problems[0].message


def test_cut_back_to_a_checkpoint_needs_the_head_kept_elsewhere(journal_path: Path) -> None:
    """The limit docs/reliability.md states: records and checkpoint lines both cut back to
    the same point look like a shorter journal; only a head kept elsewhere shows it."""
    kept = parse_expected_head(f"{_verify(journal_path).count}:{_verify(journal_path).head}")
    _cut_tail(journal_path, 6)
    checkpoints = journal_path.with_suffix(".checkpoints")
    lines = checkpoints.read_text().splitlines()
    checkpoints.write_text("\n".join(lines[:7]) + "\n")  # the opening line + records 1-6
    assert _verify(journal_path).ok  # undetectable from the two files alone
    report = _verify(journal_path, expect_head=kept)
    assert [(p.seq, p.kind) for p in report.problems] == [(7, ProblemKind.DELETED)]
    assert "the expected head counted 10" in report.problems[0].message


def test_expected_head_catches_a_rewrite_with_forged_checkpoints(journal_path: Path) -> None:
    kept = (_verify(journal_path).count, _verify(journal_path).head)
    _rewrite_from(journal_path, 2, "error")
    journal_path.with_suffix(".checkpoints").unlink()  # an attacker with the key would
    with _open(journal_path) as journal:  # write checkpoints of the new chain
        journal.checkpoint(adopt=True)
        assert journal.verify().ok
        report = journal.verify(expect_head=kept)
    assert report.kinds() == {ProblemKind.REWRITTEN}


def test_journal_from_before_checkpoints_is_reported_until_adopted(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    with _open(path) as journal:
        _fill(journal, 4)
    path.with_suffix(".checkpoints").unlink()  # as written by a version without them
    path.with_suffix(".key").unlink()
    with _open(path) as journal:
        journal.record("after the upgrade")
        report = journal.verify()
        assert report.kinds() == {ProblemKind.UNANCHORED}
        assert "already held 4 records" in report.problems[0].message
        journal.checkpoint(adopt=True)
        report = journal.verify()
    assert report.ok and report.count == 5
    assert "adopted the journal up to record 5" in report.notes[0]


def test_a_fresh_journal_verifies_and_an_empty_one_is_the_undetectable_case(
    tmp_path: Path,
) -> None:
    with _open(tmp_path / "new.sqlite") as journal:
        report = journal.verify()
    assert report.ok and report.checked == 0 and report.checkpoint is None
    assert not (tmp_path / "new.checkpoints").exists()  # reading writes nothing


def test_interval_checkpoints_fewer_times_and_close_writes_the_last(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    with _open(path, checkpoint_interval=3600) as journal:
        _fill(journal, 20)
        assert len(path.with_suffix(".checkpoints").read_text().splitlines()) == 2
    lines = path.with_suffix(".checkpoints").read_text().splitlines()
    assert len(lines) == 3 and json.loads(lines[-1])["count"] == 20
    assert _verify(path).ok


def test_checkpoint_key_kept_elsewhere(tmp_path: Path) -> None:
    key = tmp_path / "etc" / "journal.key"
    path = tmp_path / "data" / "journal.sqlite"
    with _open(path, checkpoint_key=key) as journal:
        _fill(journal, 3)
    assert key.is_file() and not path.with_suffix(".key").exists()
    assert _verify(path).kinds() == {ProblemKind.BAD_CHECKPOINT}  # the default key is absent
    with _open(path, checkpoint_key=key) as journal:
        assert journal.verify().ok


@pytest.fixture
def segur(tmp_path: Path, journal_path: Path):
    config = tmp_path / "segur.toml"
    config.write_text(f'[segur]\ndata_dir = "{journal_path.parent}"\nmode = "test"\n')

    def run(*args: str, code: int = 0):
        result = CliRunner().invoke(cli, ["--config", str(config), *args])
        assert result.exit_code == code, (result.output, result.exception)
        return result.output

    run.config = config  # type: ignore[attr-defined]
    return run


def test_cli_verify_prints_the_head_and_checks_an_expected_one(segur, journal_path: Path) -> None:
    output = segur("audit", "verify")
    assert "journal intact: 10 records, head 10:" in output
    assert "last checkpoint 10 records" in output
    head = output.split("head ")[1].split(";")[0]
    segur("audit", "verify", "--expect-head", head)
    _cut_tail(journal_path, 9)
    output = segur("audit", "verify", "--expect-head", head, code=1)
    assert "journal TAMPERED" in output
    data = json.loads(segur("audit", "verify", "--json", code=1))
    assert data["problems"][0]["kind"] == "deleted" and data["checkpoint"]["count"] == 10
    assert "COUNT:HASH" in segur("audit", "verify", "--expect-head", "10:abc", code=2)


def test_cli_anchor_adopts_a_journal_without_checkpoints(segur, journal_path: Path) -> None:
    journal_path.with_suffix(".checkpoints").unlink()
    journal_path.with_suffix(".key").unlink()
    assert "no checkpoint" in segur("audit", "verify", code=1)
    assert "checkpoint written: 10:" in segur("audit", "anchor", "--adopt")
    assert "note: " in segur("audit", "verify")


def test_configured_key_is_used_by_the_runtime_and_every_command(tmp_path: Path) -> None:
    data, key = tmp_path / "data", tmp_path / "keys" / "checkpoint.key"
    config = tmp_path / "segur.toml"
    config.write_text(
        f'[segur]\ndata_dir = "{data}"\n[segur.journal]\n'
        'checkpoint_key = "keys/checkpoint.key"\ncheckpoint_interval = 0.5\n'
    )
    from segur_core.config import load_config
    from segur_core.runtime import create_runtime

    runtime = create_runtime(load_config(config), autoload=False)
    runtime.journal.record("patient.read", patient_id="p-1")
    runtime.close()
    runner = CliRunner()
    result = runner.invoke(cli, ["--config", str(config), "outbox", "purge"])
    assert result.exit_code == 0, result.output  # journals "outbox.purge" with the same key
    result = runner.invoke(cli, ["--config", str(config), "audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "journal intact: 2 records" in result.output
    assert key.is_file() and not (data / "journal.key").exists()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("checkpoint_interval = nan", "segur.journal.checkpoint_interval"),
        ("checkpoint_interval = -1", "segur.journal.checkpoint_interval"),
        ("checkpoint_interval = true", "segur.journal.checkpoint_interval"),
        ("checkpoint_key = 3", "segur.journal.checkpoint_key"),
        ("witness = 'x'", "segur.journal.witness"),
    ],
)
def test_journal_settings_errors_name_the_key(tmp_path: Path, table: str, message: str) -> None:
    from segur_core.config import load_config
    from segur_core.errors import ConfigError

    config = tmp_path / "segur.toml"
    config.write_text(f"[segur.journal]\n{table}\n")
    with pytest.raises(ConfigError, match=message):
        load_config(config)


def test_doctor_names_the_first_problem(tmp_path: Path, journal_path: Path) -> None:
    config = tmp_path / "segur.toml"
    config.write_text(f'[segur]\ndata_dir = "{journal_path.parent}"\nplugins = []\n')
    _cut_tail(journal_path, 8)
    result = CliRunner(env={"COLUMNS": "300"}).invoke(cli, ["--config", str(config), "doctor"])
    assert "tampering detected: records 9-10 deleted at the end" in result.output
    assert result.exit_code == 1


def test_the_documented_journal_table_loads(tmp_path: Path) -> None:
    import re

    from segur_core.config import load_config

    doc = Path(__file__).resolve().parents[2] / "docs" / "host-integration.md"
    blocks = re.findall(r'```toml title="segur.toml"\n(.*?)```', doc.read_text(), re.DOTALL)
    (block,) = [b for b in blocks if "[segur.journal]" in b]
    path = tmp_path / "segur.toml"
    path.write_text(block)
    settings = load_config(path).settings.journal
    assert settings.checkpoint_key == Path("/etc/pharmasoft/segur/journal.key")
    assert settings.checkpoint_interval == 0


@given(text=st.text(max_size=120) | st.from_regex(r"\A[0-9]{1,25}:[0-9a-fA-F]{60,68}\Z"))
def test_expected_head_parses_or_is_refused(text: str) -> None:
    try:
        count, digest = parse_expected_head(text)
    except ValueError as exc:
        assert "COUNT:HASH" in str(exc)
    else:
        assert count >= 0 and len(digest) == 64 and digest == digest.lower()


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.text(max_size=80))
def test_cli_expect_head_never_shows_a_traceback(segur, value: str) -> None:
    result = CliRunner().invoke(cli, ["--config", str(segur.config), "audit", "verify",
                                      "--expect-head", value])  # fmt: skip
    assert result.exit_code in (0, 1, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
