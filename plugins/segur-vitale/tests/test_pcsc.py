"""The whole real PC/SC stack: pcscd + the vsmartcard vpcd driver + pyscard → virtual card.

``pcsc_stack`` (conftest) starts pcscd when it is not running and skips with the reason
when pyscard, pcscd or vsmartcard-vpcd are missing.
"""

from __future__ import annotations

import threading
import time

import pytest
from segur_vitale import pcsc
from segur_vitale.errors import (
    CardAbsentError,
    CardRemovedError,
    ReaderUnavailableError,
    UnsupportedCardError,
)
from segur_vitale.monitor import CardMonitor, EventKind
from segur_vitale.reading import CounterReader
from segur_vitale.sources import VPCD_READER, open_pcsc, open_virtual
from segur_vitale.transport import PcscTransport
from segur_vitale.virtual import DEMO_CARDHOLDER, VpcdCard, cps_card, demo_card, family_card
from segur_vitale.vitale import read_vitale

from segur_core.model import CardKind
from segur_core.testing.recorder import HookRecorder

pytestmark = [pytest.mark.pcsc, pytest.mark.usefixtures("pcsc_stack")]


@pytest.fixture
def vpcd():
    """Insert virtual cards in the vpcd reader; every card is removed at the end."""
    inserted: list[VpcdCard] = []

    def insert(card, *, wait=True):
        vpcd_card = VpcdCard(card).insert(timeout=5)
        inserted.append(vpcd_card)
        if wait:
            assert pcsc.wait_for_card(VPCD_READER, timeout=5), "the card did not show up"
        return vpcd_card

    yield insert
    for vpcd_card in inserted:
        vpcd_card.remove()
    pcsc.wait_for_card(VPCD_READER, timeout=5, present=False)


def test_reader_listing():
    readers = pcsc.list_readers()
    assert VPCD_READER in readers
    assert pcsc.list_readers("virtual pcd 00 00") == [VPCD_READER]
    assert pcsc.list_readers("no such reader") == []


def test_read_through_pcscd(vpcd):
    vpcd_card = vpcd(family_card())
    with PcscTransport(VPCD_READER) as transport:
        assert transport.protocol == "T=0"  # the Vitale ATR offers T=0 only
        card = read_vitale(transport)
    assert card.kind is CardKind.VITALE_2 and card.reader == VPCD_READER
    assert [b.nir for b in card.beneficiaries] == [h.nir for h in vpcd_card.card.holders]
    first = card.reading()
    assert (first.traits.birth_name, first.traits.first_name) == (
        DEMO_CARDHOLDER.birth_name, DEMO_CARDHOLDER.first_name)
    assert vpcd_card.apdus == 8  # 4 commands + their GET RESPONSE / Le re-issue


def test_open_pcsc_finds_the_reader_with_a_card(vpcd):
    with pytest.raises(CardAbsentError), open_pcsc("Virtual PCD"):
        pass
    vpcd(demo_card())
    with open_pcsc("Virtual PCD") as source:
        assert source.via == "pcsc"
        assert read_vitale(source.transport).reading().nir == DEMO_CARDHOLDER.nir


def test_open_virtual_prefers_the_real_stack():
    with open_virtual(demo_card()) as source:
        assert source.via == "pcsc+vpcd"
        assert read_vitale(source.transport).reading().nir == DEMO_CARDHOLDER.nir
    assert pcsc.wait_for_card(VPCD_READER, timeout=5, present=False)


def test_card_pulled_out_mid_read(vpcd):
    vpcd_card = vpcd(family_card())
    vpcd_card.pull_out_after(3)
    with PcscTransport(VPCD_READER) as transport, pytest.raises(CardRemovedError):
        read_vitale(transport)


def test_cps_detected_from_its_atr(vpcd):
    vpcd(cps_card(4))
    with PcscTransport(VPCD_READER) as transport, pytest.raises(UnsupportedCardError) as info:
        read_vitale(transport)
    assert info.value.kind is CardKind.CPS_4


def test_unknown_reader():
    with pytest.raises(ReaderUnavailableError):
        PcscTransport("No Such Reader 00 00")


def test_no_card():
    with pytest.raises(CardAbsentError):
        PcscTransport(VPCD_READER)


def test_monitor_sees_insertion_and_removal(vpcd):
    events = []
    seen = threading.Condition()

    def on_event(event):
        with seen:
            events.append(event)
            seen.notify_all()

    def wait_for(kind):
        with seen:
            return seen.wait_for(lambda: any(e.kind is kind for e in events), timeout=5)

    with CardMonitor(on_event, reader_filter="Virtual PCD 00 00"):
        vpcd_card = vpcd(demo_card(), wait=False)
        assert wait_for(EventKind.INSERTED)
        inserted = next(e for e in events if e.kind is EventKind.INSERTED)
        assert inserted.reader == VPCD_READER and inserted.atr == vpcd_card.card.atr
        vpcd_card.remove()
        assert wait_for(EventKind.REMOVED)


def test_counter_reader_dispatches_inserted_cards(vitale_runtime, vpcd):
    vitale_runtime.test_choices.append("2")
    recorder = HookRecorder.attach(vitale_runtime)
    done = threading.Event()
    cps_seen = []
    with CounterReader(vitale_runtime, reader_filter="Virtual PCD 00 00",
                       on_reading=lambda r: done.set(),
                       on_cps=lambda reader, kind: cps_seen.append(kind)) as counter:
        first = vpcd(family_card())
        assert done.wait(10), f"no reading; errors: {counter.errors}"
        first.remove()
        assert pcsc.wait_for_card(VPCD_READER, timeout=5, present=False)
        vpcd(cps_card(3))
        deadline = time.monotonic() + 5
        while not cps_seen and time.monotonic() < deadline:
            time.sleep(0.05)
    (call,) = recorder.of("on_card_read")
    assert call.kwargs["reading"].beneficiary_rank == 2
    assert call.kwargs["reading"].reader == VPCD_READER
    assert cps_seen == [CardKind.CPS_3]
    recorder.detach()


def test_counter_reader_survives_a_card_pulled_out(vitale_runtime, vpcd):
    recorder = HookRecorder.attach(vitale_runtime)
    failed = threading.Event()
    with CounterReader(vitale_runtime, reader_filter="Virtual PCD 00 00",
                       on_error=lambda reader, error: failed.set()) as counter:
        vpcd_card = VpcdCard(family_card())
        vpcd_card.pull_out_after(2)
        vpcd_card.insert()
        try:
            assert failed.wait(10)
        finally:
            vpcd_card.remove()
        assert isinstance(counter.errors[0], CardRemovedError)
        assert counter.monitor.running
    assert recorder.of("on_card_read") == []
    recorder.detach()


@pytest.fixture
def cli_config(tmp_path, monkeypatch):
    config = tmp_path / "segur.toml"
    config.write_text(f'[segur]\nmode = "test"\nplugins = ["vitale"]\n'
                      f'data_dir = "{tmp_path / "data"}"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return config


def _cli(config, *args):
    from click.testing import CliRunner

    from segur_core.cli import cli

    return CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)


def test_cli_readers_read_and_watch(cli_config, vpcd):
    import json

    vpcd(family_card())
    result = _cli(cli_config, "vitale", "readers", "--json")
    assert result.exit_code == 0, result.output
    rows = {row["reader"]: row for row in json.loads(result.output)["readers"]}
    assert rows[VPCD_READER]["card"] and rows[VPCD_READER]["kind"] == "vitale-2"

    result = _cli(cli_config, "vitale", "read", "--reader", "Virtual PCD", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [b["beneficiary_rank"] for b in data["beneficiaries"]] == [1, 2]
    assert VPCD_READER in data["reader"]

    # the card already in the reader is reported as inserted, read and dispatched
    result = _cli(cli_config, "vitale", "watch", "--reader", "Virtual PCD 00 00",
                  "--count", "1", "--timeout", "10")
    assert result.exit_code == 0, result.output
    assert "read: beneficiary 1" in result.output
    # --json: one JSON object per event (JSON Lines), the note on stderr
    result = _cli(cli_config, "vitale", "watch", "--reader", "Virtual PCD 00 00",
                  "--count", "1", "--timeout", "10", "--json")
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert {"event": "reading", "reader": VPCD_READER}.items() <= events[-1].items()
    assert events[-1]["beneficiary_rank"] == 1 and events[-1]["dispatched"] is True


def test_cli_read_without_card(cli_config):
    result = _cli(cli_config, "vitale", "read", "--reader", "Virtual PCD")
    assert result.exit_code != 0 and "no card" in result.output


def test_demo_step_goes_through_pcscd(vitale_runtime, tmp_path):
    from segur_vitale.demo import run_demo_step

    from segur_core.plugin import DemoContext

    ctx = DemoContext(runtime=vitale_runtime, out_dir=tmp_path)
    run_demo_step(ctx)
    assert ctx.data["card_transport"] == "pcsc+vpcd"
    assert "through pcscd and vpcd" in ctx.timeline[0]["message"]
    assert ctx.data["card_reading"].reader == VPCD_READER
    assert ctx.data["card_reading"].nir == DEMO_CARDHOLDER.nir


def test_doctor_checks_with_pcscd(vitale_runtime):
    from segur_vitale import plugin

    from segur_core.plugin import DoctorResult

    results = {c.name: c.run() for c in plugin.segur_doctor_checks(vitale_runtime)}
    assert results["pcscd"][0] is DoctorResult.OK
    assert results["card readers"][0] is DoctorResult.OK
    assert VPCD_READER in results["card readers"][1]
