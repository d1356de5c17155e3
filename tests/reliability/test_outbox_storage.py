"""Storage faults on the outbox, reproduced for real: a full disk (a small tmpfs filled
up), a read-only disk (the tmpfs remounted read-only), a damaged middle page. Each is an
``OutboxStorageError`` (a ``DurabilityError``) naming the file and the cause; the CLI
prints one line and exits 1; a document validated on a full disk is not claimed queued."""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from segur_core.cli import cli
from segur_core.errors import DurabilityError
from segur_core.model import DeliveryState
from segur_core.outbox import Outbox, OutboxStorageError

from .disks import damage_page, small_disk

PAYLOAD = b"<ClinicalDocument>" + b"x" * 20_000 + b"</ClinicalDocument>"


def cli_run(tmp_path: Path, data_dir: Path, *args: str):
    config = tmp_path / "segur.toml"
    config.write_text(f'[segur]\ndata_dir = "{data_dir}"\nmode = "test"\nplugins = []\n')
    return CliRunner().invoke(cli, ["--config", str(config), *args])


def test_a_full_disk_is_a_typed_error_and_queues_nothing(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk") as disk:
        path = disk.path / "outbox.sqlite"
        with Outbox(path, senders={"dmp": lambda item: "ok"}) as outbox:
            kept = outbox.enqueue("dmp", "before", PAYLOAD)
            assert disk.fill() > 0
            with pytest.raises(OutboxStorageError) as caught:
                outbox.enqueue("dmp", "while-full", PAYLOAD)
            error = caught.value
            assert isinstance(error, DurabilityError) and error.path == path
            assert str(path) in str(error) and "the disk is full" in str(error)
            assert "rollback" not in str(error)
            disk.free()
            assert outbox.find("while-full") is None  # nothing half-queued
            again = outbox.enqueue("dmp", "while-full", PAYLOAD)  # the host retries
            assert outbox.run_until_idle(timeout=10)
            states = {d.key: d.state for d in outbox.list()}
            assert states == {"before": DeliveryState.DELIVERED, "while-full": "delivered"}
            assert again.id != kept.id


def test_a_read_only_disk_is_a_typed_error_and_one_cli_line(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk") as disk:
        with Outbox(disk.path / "outbox.sqlite") as outbox:
            outbox.enqueue("dmp", "before", b"x")
        disk.read_only()
        try:
            with (
                pytest.raises(OutboxStorageError, match="read-only") as caught,
                Outbox(disk.path / "outbox.sqlite") as outbox,
            ):
                outbox.enqueue("dmp", "while-read-only", b"x")
            assert str(disk.path / "outbox.sqlite") in str(caught.value)
            result = cli_run(tmp_path, disk.path, "outbox", "retry", "1")
            assert result.exit_code == 1
            lines = result.output.strip().splitlines()
            assert len(lines) == 1 and "read-only" in lines[0], result.output
            assert "Traceback" not in result.output
        finally:
            disk.read_only(False)


@pytest.mark.parametrize("damaged", ["a payload", "the deliveries"])
def test_a_damaged_page_is_a_typed_error_and_one_cli_line(tmp_path: Path, damaged: str) -> None:
    data_dir = tmp_path / "data"
    path = data_dir / "outbox.sqlite"
    with Outbox(path) as outbox:
        for n in range(200):
            outbox.enqueue("dmp", f"doc-{n}", PAYLOAD[:3000] + str(n).encode())
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'deliveries'")
        deliveries = root.fetchone()[0]
    assert pages > 20
    damage_page(path, pages // 2 if damaged == "a payload" else deliveries)
    with pytest.raises(OutboxStorageError) as caught, Outbox(path) as outbox:
        outbox.list()
        for n in range(200):
            outbox.payload(n + 1)
    assert str(path) in str(caught.value) and "damaged" in str(caught.value)
    if damaged == "a payload":
        return  # the list reads no payload
    for args in (["outbox", "list"], ["outbox", "list", "--json"]):
        result = cli_run(tmp_path, data_dir, *args)
        assert result.exit_code == 1, (args, result.output)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and "damaged" in lines[0] and str(path) in lines[0], args
        assert "Traceback" not in result.output


def test_a_document_validated_on_a_full_disk_is_not_claimed_queued(
    tmp_path: Path, make_segur_runtime
) -> None:
    """The DMP feed of a document validated while the disk is full: the host's call
    raises a DurabilityError, no delivery and no ``dmp.feed-queued`` record exist; once
    space is freed, validating again feeds the DMP once."""
    pytest.importorskip("segur_dmp")
    from segur_dmp.service import service_for
    from segur_dmp.testing import fresh_copy, kit_example, kit_patient, vaccination_note

    with small_disk(tmp_path / "disk", size="16m") as disk:
        runtime = make_segur_runtime(autoload=True, plugins=["ins", "dmp"], data_dir=disk.path)
        patient = runtime.host.save_patient(kit_patient(f"P{uuid.uuid4().hex[:8]}"))
        first, second = (
            runtime.host.store_document(
                vaccination_note(patient.id, *fresh_copy(kit_example("VAC-NOTE_2023.01.xml")))
            )
            for _ in range(2)
        )
        runtime.document_validated(first, patient)  # the pharmacy was running
        assert runtime.outbox.run_until_idle(timeout=30)
        disk.fill()
        with pytest.raises(DurabilityError) as caught:
            runtime.document_validated(second, patient)
        assert "the disk is full" in str(caught.value)
        disk.free()
        assert runtime.outbox.find(second.id) is None
        assert service_for(runtime).status.get(second.id) is None
        queued = [
            r.details.get("document")
            for r in runtime.journal.records()
            if r.action == "dmp.feed-queued"
        ]
        assert queued == [first.id]
        runtime.document_validated(second, patient)  # validated again once space is back
        assert runtime.outbox.run_until_idle(timeout=30)
        assert runtime.outbox.find(second.id).state == "delivered"
        registry = runtime.sandbox("dmp").registry
        assert registry.find_by_unique_id(second.id).content == second.content
        json.dumps([r.details for r in runtime.journal.records()])  # all readable
        runtime.close()
