"""Rows of the audit journal tampered with beyond reading (``details`` not JSON, ``at``
not a date, text columns given numbers): listed marked as damaged, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segur_core.cli import cli
from segur_core.journal import Journal, ProblemKind

from ..reliability.journal_tamper import tamper


def _tamper(path: Path, sql: str, params: tuple = ()) -> None:
    tamper(path, (sql, params))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    with Journal(data / "journal.sqlite") as journal:
        for n in range(5):
            journal.record("patient.read", patient_id=f"p{n}", actor="rpps:1", details={"n": n})
    return data


def _segur(tmp_path: Path, data_dir: Path, *args: str, code: int = 0) -> str:
    config = tmp_path / "segur.toml"
    config.write_text(f'[segur]\ndata_dir = "{data_dir}"\nmode = "test"\n')
    result = CliRunner(env={"COLUMNS": "240"}).invoke(cli, ["--config", str(config), *args])
    assert result.exit_code == code, (result.output, result.exception)
    return result.output


def test_show_marks_damaged_rows(tmp_path: Path, data_dir: Path) -> None:
    path = data_dir / "journal.sqlite"
    _tamper(path, "UPDATE records SET details = '{not json' WHERE seq = 2")
    _tamper(path, "UPDATE records SET at = 'yesterday' WHERE seq = 3")
    _tamper(path, "UPDATE records SET action = x'ff', details = '[1]' WHERE seq = 4")
    table = _segur(tmp_path, data_dir, "audit", "show")
    assert "DAMAGED: details is not a JSON object" in table
    assert "DAMAGED: at is not a date" in table
    assert "3 damaged records" in table
    rows = json.loads(_segur(tmp_path, data_dir, "audit", "show", "--json"))["records"]
    assert [r.get("damaged") for r in rows] == [
        None,
        ["details is not a JSON object"],
        ["at is not a date"],
        ["details is not a JSON object", "action is not text"],
        None,
    ]
    assert rows[2]["at"] is None and rows[3]["action"] == "b'\\xff'"
    assert rows[0]["details"] == {"n": 0}
    report = json.loads(_segur(tmp_path, data_dir, "audit", "verify", "--json", code=1))
    assert {(p["seq"], p["kind"]) for p in report["problems"]} >= {
        (2, "modified"),
        (3, "modified"),
        (4, "modified"),
    }


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    column=st.sampled_from(["at", "details", "action", "outcome", "actor", "service"]),
    value=st.one_of(
        st.text(max_size=40),
        st.integers(-(2**63), 2**63 - 1),
        st.floats(allow_nan=False),
        st.binary(max_size=20),
    ),
)
def test_any_tampered_value_reads_back(
    tmp_path_factory: pytest.TempPathFactory, column: str, value: object
) -> None:
    path = tmp_path_factory.mktemp("j") / "journal.sqlite"
    with Journal(path, pseudonym_key=b"k" * 32) as journal:
        journal.record("patient.read", patient_id="p", details={"n": 1})
        _tamper(path, f"UPDATE records SET {column} = ? WHERE seq = 1", (value,))
        (record,) = journal.records()
        json.dumps(record.as_dict())  # what --json prints
        report = journal.verify()
        assert ProblemKind.MODIFIED in report.kinds() or not record.damaged
