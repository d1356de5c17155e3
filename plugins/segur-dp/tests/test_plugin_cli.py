"""The plugin's hooks, doctor check, ``segur dp history|create|alerts`` through click's
CliRunner (one-line typed errors, --json, --months; hypothesis on the arguments) and the
demo step."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from segur_dp.testing import line_aged, make_patient

from segur_core.model import Consent
from segur_core.plugin import DemoContext, DoctorResult
from segur_core.runtime import create_runtime
from segur_core.testing.plugin import assert_hookimpls_match_specs

NIR = "1690275123045"


def test_hookimpls_match_specs():
    import segur_dp.plugin

    assert_hookimpls_match_specs(segur_dp.plugin)


def test_info_sandbox_sender_doctor(make_segur_runtime):
    from segur_dp import plugin

    info = plugin.segur_plugin_info()
    assert info.name == "dp" and info.config_class.__name__ == "DPConfig"
    runtime = make_segur_runtime(autoload=True, plugins=["dp"])
    assert "dp" in [s.name for s in runtime.sandboxes()]
    assert "dp.dispensation" in runtime.outbox_senders()
    assert plugin.segur_doctor_checks(runtime)[0].run()[0] is DoctorResult.OK
    bad = make_segur_runtime(
        autoload=True, plugins=["dp"], config={"dp": {"endpoint": "http://plain"}}
    )
    assert plugin.segur_doctor_checks(bad)[0].run()[0] is DoctorResult.ERROR


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A data dir whose sandbox DP holds the patient's DP with three lines, and its config."""
    root = tmp_path_factory.mktemp("dp-cli")
    data = root / "data"
    runtime = create_runtime(
        {"segur": {"mode": "test", "plugins": ["dp"]}}, data_dir=data, autoload=True
    )
    try:
        patient = runtime.host.save_patient(make_patient(NIR))
        runtime.host.record_consent(Consent(patient.id, "dp", True))
        store = runtime.sandbox("dp").store
        store.set_consent(NIR, 1, True, "750000001")
        for n, days in enumerate((3, 60, 200)):
            store.add_line(f"cli-{n}", NIR, 1, line_aged(days, product_code=f"340093000000{n}"))
        patient_id = patient.id
    finally:
        runtime.close()
    config = root / "segur.toml"
    config.write_text(f'[segur]\ndata_dir = "{data}"\nmode = "test"\nplugins = ["dp"]\n')
    return config, patient_id


def _segur(config: Path, *args: str) -> tuple[int, str]:
    from segur_core.cli import cli

    result = CliRunner().invoke(cli, ["--config", str(config), "dp", *args])
    return result.exit_code, result.output


def test_cli_alerts_history_json_months(setup):
    config, patient_id = setup
    code, out = _segur(config, "alerts", "--json")
    assert code == 0, out
    alerts = json.loads(out)["alerts"]
    assert {a["kind"] for a in alerts} == {"alert", "recall"}
    assert all(a["acknowledged"] for a in alerts)
    assert _segur(config, "alerts") == (0, "no alert or recall to acknowledge\n")
    code, out = _segur(config, "history", patient_id, "--json")
    assert code == 0, out
    lines = json.loads(out)["lines"]
    assert [line["product_code"] for line in lines] == [f"340093000000{n}" for n in range(3)]
    code, out = _segur(config, "history", patient_id, "--months", "3")
    assert code == 0 and out.count("\n") == 2 and "3400930000000" in out
    assert NIR not in out


def test_cli_history_by_ndp_for_a_patient_with_no_ins(setup):
    from segur_core.model import Identity, Patient

    config, patient_id = setup
    code, out = _segur(config, "create", patient_id)
    assert code == 0 and out.startswith("the patient already has a DP\nNDP: "), out
    ndp = out.split("NDP: ")[1].strip()
    code, out = _segur(config, "create", patient_id, "--json")
    assert code == 0 and json.loads(out) == {"status": "exists", "ndp": ndp}, out
    runtime = create_runtime(
        {"segur": {"mode": "test", "plugins": ["dp"]}}, data_dir=config.parent / "data",
        autoload=True,
    )  # fmt: skip
    with runtime:
        traits = make_patient(NIR).identity.traits
        bare = runtime.host.save_patient(Patient("", Identity(traits)))  # no INS
        runtime.host.record_consent(Consent(bare.id, "dp", True))
    code, out = _segur(config, "history", bare.id)
    assert code == 1 and out.startswith("Error: no NIR known") and out.count("\n") == 1
    code, out = _segur(config, "history", bare.id, "--ndp", ndp, "--json")
    assert code == 0, out
    assert len(json.loads(out)["lines"]) == 3 and NIR not in out and ndp not in out
    code, out = _segur(config, "history", bare.id, "--ndp", "not an ndp")
    assert code == 1 and out.startswith("Error: not an NDP") and out.count("\n") == 1


def test_cli_errors_are_one_line(setup):
    config, _ = setup
    code, out = _segur(config, "history", "no-such-patient")
    assert code == 1 and out.startswith("Error: unknown patient") and out.count("\n") == 1
    code, out = _segur(config, "history", "x", "--months", "300")
    assert code == 2 and "Traceback" not in out


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.text(
            st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=8
        )
        | st.sampled_from(["--json", "--months", "0", "13", "-1", "history", "alerts", "create"]),
        max_size=4,
    )
)
def test_cli_never_shows_a_traceback(setup, args):
    config, _ = setup
    from segur_core.cli import cli

    result = CliRunner().invoke(cli, ["--config", str(config), "dp", *args])
    assert result.exit_code in (0, 1, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output


def test_demo_step_dispenses_reads_history_acknowledges(make_segur_runtime, tmp_path):
    from segur_dp.demo import run_demo_step

    runtime = make_segur_runtime(autoload=True, plugins=["dp"])
    patient = runtime.host.save_patient(make_patient(NIR))
    ctx = DemoContext(runtime=runtime, out_dir=tmp_path)
    ctx.data["patient"] = patient
    run_demo_step(ctx)
    messages = [entry["message"] for entry in ctx.timeline]
    assert any("acknowledged" in m and "recall" in m for m in messages), messages
    read = "DP history after the dispensation, read by NDP: 1 line,"
    assert any(m.startswith(read) for m in messages), messages
    (line,) = ctx.data["dp_history"]
    assert line.dispensed_at <= dt.datetime.now(dt.UTC)
    assert NIR not in json.dumps(ctx.timeline, default=str)


def test_the_readme_sample_runs():
    readme = Path(__file__).resolve().parents[1] / "README.md"
    sample = readme.read_text(encoding="utf-8").split("```python\n")[1].split("```")[0]
    exec(compile(sample, str(readme), "exec"), {})


def test_the_runtime_reports_what_the_host_lacks(tmp_path):
    import attrs

    from hostspecs.reference import ReferenceHost
    from segur_core.host import hostimpl

    class Bare(ReferenceHost):
        @hostimpl
        def host_structure(self):
            return attrs.evolve(super().host_structure(), finess="")

        @hostimpl
        def host_practitioner(self):
            return attrs.evolve(super().host_practitioner(), rpps="123")

    config = {"segur": {"plugins": ["dp"]}}
    with create_runtime(config, host=Bare(tmp_path / "h.sqlite"), data_dir=tmp_path) as runtime:
        problems = runtime.host_problems()
    assert [p.split(":")[0] for _, p in problems] == ["host_structure", "host_practitioner"]
    good = tmp_path / "good"
    with create_runtime(config, host=ReferenceHost(tmp_path / "g.sqlite"), data_dir=good) as rt:
        assert rt.host_problems() == []


def test_cli_alerts_when_the_dp_is_unreachable_is_one_line(tmp_path):
    config = tmp_path / "segur.toml"
    config.write_text(
        f'[segur]\ndata_dir = "{tmp_path / "data"}"\nmode = "test"\nplugins = ["dp"]\n'
        '[dp]\nendpoint = "https://127.0.0.1:9"\ntimeout = 2.0\n'
    )
    for args in (["alerts"], ["alerts", "--json"]):
        code, out = _segur(config, *args)
        assert code == 1 and out.startswith("Error: dp: cannot reach the service"), out
        assert out.count("\n") == 1 and "Traceback" not in out
