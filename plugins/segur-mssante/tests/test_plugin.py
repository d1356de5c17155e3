"""The plugin's hook implementations, description, configuration and command group."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from segur_core.testing.plugin import assert_hookimpls_match_specs


def test_hookimpls_match_specs():
    import segur_mssante.plugin

    assert_hookimpls_match_specs(segur_mssante.plugin)


def test_info_and_config(make_segur_runtime):
    from segur_mssante import MSSConfig, plugin

    info = plugin.segur_plugin_info()
    assert info.name == "mss" and info.config_class.__name__ == "MSSConfig"
    runtime = make_segur_runtime(autoload=True, plugins=["mss"])
    config = runtime.plugin_config("mss")
    assert isinstance(config, MSSConfig) and config.server == "sandbox"


@pytest.mark.parametrize(
    "table", [{"mailbox_type": "XYZ"}, {"smtp_port": 0}, {"imap_port": 70000}, {"timeout": 0}]
)
def test_bad_config_is_refused(make_segur_runtime, table):
    from segur_core.errors import ConfigError

    with pytest.raises(ConfigError):
        make_segur_runtime(autoload=True, plugins=["mss"], config={"mss": table}).plugin_config(
            "mss"
        )


def test_command_group_is_registered():
    from segur_mssante.cli import mss

    result = CliRunner().invoke(mss, ["--help"])
    assert result.exit_code == 0 and "MSSanté" in result.output


def test_demo_step_sends_and_acknowledges(
    make_segur_runtime, mail_sandbox, vaccination_cda, monkeypatch, tmp_path
):
    """The demo step on the runtime's own sandbox (Dovecot is there when the session
    sandbox is): sends, applies the acknowledgements, receives the official letter — or
    says clearly that the example archive is absent."""
    from segur_documents.testing import sample_patient
    from segur_mssante.demo import XDM_ENV, official_letter, run_demo_step

    from segur_core.model import HealthDocument
    from segur_core.plugin import DemoContext

    runtime = make_segur_runtime(
        autoload=True,
        plugins=["ins", "documents", "mss"],
        config={"documents": {"schematron": False}},  # XSD only: schematrons are slow to load
    )
    ctx = DemoContext(runtime=runtime, out_dir=runtime.data_dir / "out")
    run_demo_step(ctx)
    assert "no validated document" in ctx.timeline[-1]["message"]
    patient = runtime.host.save_patient(sample_patient(qualified=True))
    document = HealthDocument(
        id="2.25.1", patient_id=patient.id, type_code="87273-9", title="NOTE DE VACCINATION",
        content=vaccination_cda,
    )  # fmt: skip
    ctx = DemoContext(
        runtime=runtime, out_dir=runtime.data_dir / "out",
        data={"documents": [document], "patient": patient},
    )  # fmt: skip
    run_demo_step(ctx)
    messages = [entry["message"] for entry in ctx.timeline]
    assert any("Mon Espace Santé" in m and m.endswith(": delivered") for m in messages), messages
    assert any("2 delivery notification(s) applied" in m for m in messages), messages
    if official_letter().is_file():
        assert any(
            "physician's letter received" in m and "11490-0): imported" in m for m in messages
        ), messages
    monkeypatch.setenv(XDM_ENV, str(tmp_path))  # the official examples absent: said, no failure
    ctx = DemoContext(
        runtime=runtime, out_dir=runtime.data_dir / "out",
        data={"documents": [document], "patient": patient},
    )  # fmt: skip
    run_demo_step(ctx)
    assert "no physician's letter received" in ctx.timeline[-1]["message"]
    assert str(tmp_path) in ctx.timeline[-1]["message"]


def test_doctor_check(make_segur_runtime):
    from segur_mssante import plugin

    from segur_core.plugin import DoctorResult

    (check,) = plugin.segur_doctor_checks(make_segur_runtime(autoload=True, plugins=["mss"]))
    assert check.run()[0] in (DoctorResult.OK, DoctorResult.WARNING)
    real = make_segur_runtime(
        autoload=True, plugins=["mss"], config={"mss": {"server": "mail.example.fr"}}
    )
    result, message = plugin.segur_doctor_checks(real)[0].run()
    assert result is DoctorResult.WARNING and "mss.nil" in message
