"""``segur mss directory import`` and ``search``: output, JSON, one-line errors, and the
README's Directory section run as written."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from segur_mssante.directory.sample import HEADER, sample_rows, write_extraction

from segur_core.cli import cli

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "segur.toml"
    path.write_text(
        f'[segur]\nmode = "test"\nplugins = ["mss"]\ndata_dir = "{tmp_path / "data"}"\n',
        encoding="utf-8",
    )
    return path


def _invoke(config_file, *args):
    return CliRunner().invoke(cli, ["--config", str(config_file), "mss", "directory", *args])


@pytest.fixture
def imported(tmp_path, config_file):
    rows = list(sample_rows(150))
    path = write_extraction(tmp_path / "extraction.txt", iter(rows))
    with path.open("a", encoding="utf-8") as out:
        out.write("PER|truncated\n")
    result = _invoke(config_file, "import", str(path), "--json")
    assert result.exit_code == 0, result.output
    return rows, json.loads(result.output)


def test_import_then_search(tmp_path, config_file, imported):
    rows, report = imported
    assert report["added"] == report["mailboxes"] == 150
    assert report["bad_rows"] == 1 and report["bad_lines"] == [152]
    assert (tmp_path / "data" / "mss-directory.sqlite").stat().st_mode & 0o777 == 0o600
    first = next(cells for cells in rows if cells[0] == "PER")
    found = _invoke(config_file, "search", first[3], "--json")
    assert found.exit_code == 0
    assert json.loads(found.output)["entries"][0]["mssante_address"] == first[1]
    text = _invoke(config_file, "search", "lyon", "--limit", "3").output
    assert len(text.splitlines()) == 3 and all("LYON" in line for line in text.splitlines())
    again = _invoke(config_file, "import", str(tmp_path / "extraction.txt"))
    assert "unchanged 150" in again.output and "1 bad row(s)" in again.output


def test_errors_are_one_line(tmp_path, config_file):
    empty = _invoke(config_file, "search", "x")
    assert empty.exit_code == 1 and "import the extraction first" in empty.output
    bad = tmp_path / "bad.txt"
    bad.write_text(HEADER.replace("Code Profession", "Profession") + "\n", encoding="utf-8")
    result = _invoke(config_file, "import", str(bad))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.startswith("Error: ") and "column 14" in result.output
    assert len(result.output.strip().splitlines()) == 1


@given(text=st.text(max_size=30))
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_any_search_text_is_safe(config_file, imported, text):
    result = _invoke(config_file, "search", "--json", "--", text)  # "--": text may be "-x"
    assert result.exit_code == 0, result.output
    assert isinstance(json.loads(result.output)["entries"], list)


def test_readme_directory_section_runs(tmp_path, config_file, monkeypatch):
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Directory") :]
    sample = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    exec(compile(sample, str(README), "exec"), {})
