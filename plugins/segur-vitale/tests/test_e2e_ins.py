"""Card reading → on_card_read → segur-ins → INSi sandbox, end to end.

Runs only when segur-ins's plugin is importable.
"""

from __future__ import annotations

import pytest
from segur_vitale.apcv import ApcvRequest, apcv_adapter, identify_and_dispatch
from segur_vitale.reading import read_and_dispatch
from segur_vitale.transport import DirectTransport
from segur_vitale.virtual import DEMO_CARDHOLDER, demo_card

from segur_core.model import IdentityStatus

pytest.importorskip("segur_ins.plugin", reason="segur-ins is not installed")
pytest.importorskip("starlette", reason="the INSi sandbox needs starlette")


@pytest.fixture
def runtime(make_segur_runtime):
    import segur_ins.plugin
    from segur_vitale import plugin

    return make_segur_runtime(extra_plugins=[("vitale", plugin), ("ins", segur_ins.plugin)])


def _patient(runtime):
    (patient,) = runtime.host.find_patients(birth_name=DEMO_CARDHOLDER.birth_name,
                                            birth_date="1975-12-31")
    return patient


def test_card_read_is_looked_up_in_insi(runtime):
    reading = read_and_dispatch(runtime, DirectTransport(demo_card()))
    assert reading.nir == DEMO_CARDHOLDER.nir
    patient = _patient(runtime)
    assert patient.identity.ins is not None
    assert patient.identity.ins.matricule == DEMO_CARDHOLDER.nir
    assert patient.identity.status is IdentityStatus.RECOVERED
    actions = [r.action for r in runtime.journal.records()]
    # the card read is journaled, then the INSi call it caused
    assert actions.index("vitale.card-read") < next(
        i for i, r in enumerate(runtime.journal.records()) if r.service == "insi")


def test_appli_carte_vitale_qualifies_the_identity(runtime):
    sandbox = runtime.sandbox("apcv")
    with apcv_adapter(runtime) as adapter:
        identify_and_dispatch(runtime, adapter, ApcvRequest.from_qr(sandbox.issue()))
    patient = _patient(runtime)
    assert patient.identity.status is IdentityStatus.QUALIFIED
    assert runtime.shareable_ins(patient).matricule == DEMO_CARDHOLDER.nir


def test_manual_entry_is_searched_by_traits(runtime):
    from segur_vitale.manual import manual_reading

    reading = manual_reading(birth_name="ADRUN", first_names="ZOE", sex="F",
                             birth_date="1975-12-31", birth_place="63220")
    runtime.card_read(reading)
    patient = _patient(runtime)
    assert patient.identity.ins.matricule == DEMO_CARDHOLDER.nir
    assert patient.identity.status is IdentityStatus.RECOVERED


@pytest.mark.pcsc
def test_through_pcscd(runtime, pcsc_stack):
    from segur_vitale.sources import open_virtual

    with open_virtual(demo_card()) as source:
        assert source.via == "pcsc+vpcd"
        read_and_dispatch(runtime, source.transport)
    assert _patient(runtime).identity.ins.matricule == DEMO_CARDHOLDER.nir


def test_manual_entry_from_the_command_line_reaches_an_insi_traits_search(tmp_path):
    """``segur vitale manual``: the fallback when no card reads, end to end: typed traits
    → on_card_read → segur-ins → INSi traits search → the patient saved with the INS."""
    from click.testing import CliRunner

    from segur_core.cli import cli
    from segur_core.runtime import create_runtime

    config = tmp_path / "segur.toml"
    config.write_text(f'[segur]\nmode = "test"\nplugins = ["vitale", "ins"]\n'
                      f'data_dir = "{tmp_path / "data"}"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, [
        "--config", str(config), "vitale", "manual", "--birth-name", "adrun",
        "--first-names", "Zoé", "--sex", "F", "--birth-date", "1975-12-31",
        "--birth-place", "63220", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    with create_runtime(str(config), autoload=True) as runtime:
        records = list(runtime.journal.records())
        actions = [r.action for r in records]
        search = next(r for r in records if r.action == "insi.search")
        assert actions.index("vitale.manual-entry") < records.index(search)
        assert search.details["operation"] == "rechercherInsAvecTraitsIdentite"
        assert search.details["cr"] == "00"
        patient = _patient(runtime)
        assert patient.identity.ins.matricule == DEMO_CARDHOLDER.nir
        assert patient.identity.status is IdentityStatus.RECOVERED


def test_manual_entry_with_bad_traits_is_refused_on_the_command_line(tmp_path):
    from click.testing import CliRunner

    from segur_core.cli import cli

    config = tmp_path / "segur.toml"
    config.write_text(f'[segur]\nmode = "test"\nplugins = ["vitale"]\n'
                      f'data_dir = "{tmp_path / "data"}"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, [
        "--config", str(config), "vitale", "manual", "--birth-name", "ADRUN",
        "--first-names", "ZOE", "--sex", "F", "--birth-date", "31/12/1975"])
    assert result.exit_code != 0 and "birth date" in result.output


def test_no_patient_identifier_in_the_logs(runtime, caplog):
    """Card read, failed read, ApCV and manual entry, through INSi: the ordinary logs
    (every level) never hold a NIR, an INS or a name."""
    import logging

    from segur_vitale.errors import CardRemovedError
    from segur_vitale.manual import dispatch_manual, manual_reading

    caplog.set_level(logging.DEBUG)
    read_and_dispatch(runtime, DirectTransport(demo_card()))
    pulled = DirectTransport(demo_card())
    pulled.pull_out_after(3)
    with pytest.raises(CardRemovedError):
        read_and_dispatch(runtime, pulled)
    sandbox = runtime.sandbox("apcv")
    with apcv_adapter(runtime) as adapter:
        identify_and_dispatch(runtime, adapter, ApcvRequest.from_qr(sandbox.issue()))
    dispatch_manual(runtime, manual_reading(birth_name="ADRUN", first_names="ZOE", sex="F",
                                            birth_date="1975-12-31", birth_place="63220"))
    assert caplog.records, "the scenario logs something, or this test checks nothing"
    text = caplog.text.upper()
    for secret in (DEMO_CARDHOLDER.nir, DEMO_CARDHOLDER.nir[:13], DEMO_CARDHOLDER.birth_name,
                   DEMO_CARDHOLDER.first_name):
        assert secret.upper() not in text
