"""Tables a person reads (``docs/cli.md``): at 80 columns (a pipe, a small terminal)
every line fits and no word is cut; dates are dates, not ISO 8601 or epoch noise."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from segur_core.cli import cli
from segur_core.errors import PermanentDeliveryError
from segur_core.journal import Journal
from segur_core.outbox import Outbox

#: Values seeded below, each one word that must come out whole.
WORDS = [
    "documents.validate-replacement",
    "rpps:10000000001",
    "cli:pharmacist-with-a-long-name",
    "refused-by-the-registry",
    "mssante.smtp",
    "1.2.250.1.999.1.2.3.4567890123^20261202",
    "<20261202.abcdef@pharmacie.mssante.fr>",
    "XDSUnknownPatientId",
]
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d|\+00:00|\d{10}\.\d+")
DATE = re.compile(r"\b20\d\d-\d\d-\d\d \d\d:\d\d\b")


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("tables")
    data = home / "data"
    data.mkdir()
    path = home / "segur.toml"
    path.write_text(f'[segur]\ndata_dir = "{data}"\nmode = "test"\n', encoding="utf-8")
    with Journal(data / "journal.sqlite") as journal:
        journal.record(
            "documents.validate-replacement", service="mssante.smtp", patient_id="P-1",
            actor="rpps:10000000001", outcome="refused-by-the-registry",
        )  # fmt: skip
        journal.record("ins.qualify", service="insi", actor="cli:pharmacist-with-a-long-name")

    def refuse(item: object) -> str:
        raise PermanentDeliveryError(
            "XDSUnknownPatientId the registry refused the submission set",
            service="dmp",
        )

    with Outbox(data / "outbox.sqlite", senders={"dmp.iti41": refuse}) as outbox:
        outbox.enqueue("dmp.iti41", "1.2.250.1.999.1.2.3.4567890123^20261202", b"x")
        assert outbox.run_until_idle(timeout=10)
        outbox.enqueue("mssante.smtp", "<20261202.abcdef@pharmacie.mssante.fr>", b"y")
    return path


def _screen(config: Path, columns: int, *args: str) -> str:
    result = CliRunner(env={"COLUMNS": str(columns)}).invoke(cli, ["--config", str(config), *args])
    assert result.exit_code in (0, 1), (result.output, result.exception)
    return result.stdout


@pytest.mark.parametrize(
    "args", [("audit", "show"), ("outbox", "list"), ("doctor",), ("plugins",)], ids=" ".join
)
def test_tables_fit_80_columns_without_cutting_a_word(config: Path, args: tuple[str, ...]):
    screen = _screen(config, 80, *args)
    assert screen.strip()
    too_wide = [line for line in screen.splitlines() if len(line) > 80]
    assert not too_wide, too_wide
    words = set(screen.split())
    for word in WORDS:
        if any(word in line for line in _screen(config, 400, *args).splitlines()):
            assert word in words, f"{word!r} cut in:\n{screen}"
    assert not ISO.search(screen), screen


def test_the_seeded_words_and_dates_are_shown(config: Path) -> None:
    audit = _screen(config, 80, "audit", "show")
    outbox = _screen(config, 80, "outbox", "list")
    for word in WORDS[:4]:
        assert word in audit.split()
    for word in WORDS[4:]:
        assert word in outbox.split() or word in audit.split()
    assert DATE.search(audit) and DATE.search(outbox)


def test_a_wide_terminal_keeps_the_table_layout(config: Path) -> None:
    screen = _screen(config, 200, "audit", "show")
    assert "┃" in screen and "documents.validate-replacement" in screen
