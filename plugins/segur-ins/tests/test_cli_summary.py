"""``segur ins qualify --all`` as the pharmacist sees it: the summary table's rows, and
the ``--rate`` limit applied to the real INSi calls."""

from __future__ import annotations

import json
import time

from click.testing import CliRunner
from segur_ins.sandbox.persons import CNDA_PERSONS

from segur_core.cli import cli
from segur_core.model import BirthDate, Identity, IdentityTraits, Patient
from segur_core.runtime import create_runtime


def _config(tmp_path):
    path = tmp_path / "segur.toml"
    path.write_text(f'[segur]\nmode = "test"\nplugins = ["ins"]\n'
                    f'data_dir = "{tmp_path / "data"}"\n', encoding="utf-8")
    return path


def _seed(config, traits):
    with create_runtime(str(config), autoload=True) as runtime:
        for t in traits:
            runtime.host.save_patient(Patient(id="", identity=Identity(traits=t)))


def _invoke(config, *args):
    return CliRunner().invoke(cli, ["--config", str(config), "ins", *args])


def test_summary_table_counts_each_result(tmp_path):
    config = _config(tmp_path)
    nobody = IdentityTraits("TCHITCHI", ("OLA",), "F", BirthDate(1936, 6, 21))
    _seed(config, [CNDA_PERSONS[0].traits(), CNDA_PERSONS[3].traits(), nobody])
    result = _invoke(config, "qualify", "--all", "--concurrency", "2")
    assert result.exit_code == 0, result.output
    rows = {line.strip("│┃ ").split("│")[0].strip(): line for line in result.output.splitlines()
            if "│" in line}
    assert "2" in rows["qualified"] and "1" in rows["not-found"]
    assert "3 patients" in result.output
    for person in CNDA_PERSONS[:4]:
        assert person.nir not in result.output and person.birth_name not in result.output


def test_rate_option_spaces_the_insi_calls(tmp_path):
    config = _config(tmp_path)
    persons = CNDA_PERSONS[:6]
    _seed(config, [p.traits() for p in persons])
    started = time.monotonic()
    result = _invoke(config, "qualify", "--all", "--json", "--rate", "10", "--concurrency", "4")
    elapsed = time.monotonic() - started
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    # HERMANN's INS key does not check (CNDA "clé erronée"): never adopted
    assert data["counts"] == {"qualified": len(persons) - 1, "ins-key": 1}
    # 6 calls at 10 per second: at least 5 intervals of 0.1 s, whatever the concurrency
    assert elapsed >= 0.5 and data["seconds"] >= 0.45


def test_concurrency_bounds_the_requests_in_flight(make_segur_runtime):
    """With a sandbox answering after 0.15 s, 12 patients at concurrency 2 cannot take
    less than 6 rounds of 0.15 s (0.9 s); with more requests in flight (the client's 8
    connections) they take about 0.45 s."""
    from segur_ins.batch import qualify_all
    from segur_ins.plugin import service
    from segur_ins.sandbox.persons import generate_persons

    runtime = make_segur_runtime(autoload=True, plugins=["ins"])
    sandbox = runtime.sandbox("insi")
    persons = list(generate_persons(12, seed=7))
    sandbox.add_persons(persons)
    for person in persons:
        runtime.host.save_patient(Patient(id="", identity=Identity(traits=person.traits())))
    qualify_all(service(runtime), patients=[], concurrency=1)  # connect before timing
    before = sandbox.service.requests
    sandbox.faults.set_delay(0.15)
    try:
        summary = qualify_all(service(runtime), concurrency=2)
    finally:
        sandbox.faults.set_delay(0)
    assert summary.counts == {"qualified": 12}
    assert sandbox.service.requests - before == 12  # one traits search each
    assert summary.seconds >= 0.9 - 0.02
