"""``segur ins`` commands and the resumable batch qualification."""

from __future__ import annotations

import json
import threading

import pytest
from click.testing import CliRunner
from segur_ins.batch import Progress, RateLimiter, progress_path, qualify_all
from segur_ins.plugin import service
from segur_ins.sandbox.persons import CNDA_PERSONS

from segur_core.cli import cli
from segur_core.model import Identity, IdentityStatus, Patient
from segur_core.runtime import create_runtime


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "segur.toml"
    data_dir = tmp_path / "data"
    path.write_text(
        f'[segur]\nmode = "test"\nplugins = ["ins"]\ndata_dir = "{data_dir}"\n\n'
        '[ins]\nconcurrency = 4\n',
        encoding="utf-8",
    )
    return path


def _seed(config_file, persons) -> list[str]:
    with create_runtime(str(config_file), autoload=True) as runtime:
        return [
            runtime.host.save_patient(Patient(id="", identity=Identity(traits=p.traits()))).id
            for p in persons
        ]


def _invoke(config_file, *args):
    return CliRunner().invoke(cli, ["--config", str(config_file), "ins", *args])


def test_check_valid_number(config_file):
    result = _invoke(config_file, "check", "2 75 12 63 220 749 74", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["valid"] and data["sex"] == "F" and data["birth_place"] == "63220"


def test_check_says_born_abroad_for_a_99_place_code(config_file):
    result = _invoke(config_file, "check", "1 85 05 99 352 123 66")
    assert result.exit_code == 0, result.output
    assert "born abroad (country code 99352)" in result.output
    result = _invoke(config_file, "check", "2 75 12 63 220 749 74")
    assert "born in France (place code 63220)" in result.output
    assert "abroad" not in result.output


def test_check_invalid_number(config_file):
    result = _invoke(config_file, "check", "275126322074975")
    assert result.exit_code == 1 and "invalid" in result.output


def test_qualify_and_verify_one_patient(config_file):
    (patient_id,) = _seed(config_file, [CNDA_PERSONS[4]])
    result = _invoke(config_file, "qualify", patient_id, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "patient": patient_id, "result": "qualified", "code": "00", "status": "RECUP",
    }  # fmt: skip
    result = _invoke(config_file, "verify", patient_id, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["result"] == "confirmed"
    text = _invoke(config_file, "qualify", patient_id).output
    assert CNDA_PERSONS[4].matricule not in text  # masked


def test_qualify_unknown_patient(config_file):
    result = _invoke(config_file, "qualify", "P999999")
    assert result.exit_code != 0 and "no patient" in result.output


# HERMANN's INS key does not check (CNDA "clé erronée"): never adopted
CNDA_COUNTS = {"qualified": len(CNDA_PERSONS) - 1, "ins-key": 1}


def test_qualify_all_through_worker_processes(config_file):
    from segur_ins.workers import supported

    if not supported():
        pytest.skip("worker processes need POSIX")
    _seed(config_file, CNDA_PERSONS)
    result = _invoke(config_file, "qualify", "--all", "--json", "--processes", "2")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["counts"] == CNDA_COUNTS and data["processes"] == 2


def test_qualify_all_with_summary(config_file):
    _seed(config_file, CNDA_PERSONS)
    result = _invoke(config_file, "qualify", "--all", "--json", "--concurrency", "3")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["counts"] == CNDA_COUNTS and data["completed"]
    table = _invoke(config_file, "qualify", "--all").output
    assert "INSi qualification" in table  # nothing left to do: an empty summary


def test_batch_is_resumable(make_segur_runtime):
    from segur_ins.sandbox.persons import generate_persons

    runtime = make_segur_runtime(autoload=True, plugins=["ins"])
    persons = list(generate_persons(40, seed=3))
    runtime.sandbox("insi").add_persons(persons)
    for person in persons:
        runtime.host.save_patient(Patient(id="", identity=Identity(traits=person.traits())))
    stop = threading.Event()
    done = []

    def interrupt_after_15(outcome):
        done.append(outcome)
        if len(done) == 15:
            stop.set()

    first = qualify_all(service(runtime), concurrency=4, on_done=interrupt_after_15, stop=stop)
    assert not first.completed and 15 <= first.total < 40
    assert progress_path(runtime.data_dir).exists()
    second = qualify_all(service(runtime), concurrency=4)
    assert second.completed and second.resumed == first.total
    assert first.total + second.total == 40
    assert not progress_path(runtime.data_dir).exists()
    statuses = {p.identity.status for p in runtime.host.find_patients()}
    assert statuses == {IdentityStatus.RECOVERED}


def test_batch_counts_errors_and_keeps_them_for_the_next_run(make_segur_runtime):
    runtime = make_segur_runtime(autoload=True, plugins=["ins"])
    for person in CNDA_PERSONS[:3]:
        runtime.host.save_patient(Patient(id="", identity=Identity(traits=person.traits())))
    sandbox = runtime.sandbox("insi")
    sandbox.faults.down()
    summary = qualify_all(service(runtime), concurrency=2)
    sandbox.faults.up()
    assert summary.counts == {"error": 3} and summary.errors == {"http_503": 3}
    assert progress_path(runtime.data_dir).exists() or summary.resumed == 0
    again = qualify_all(service(runtime), concurrency=2)
    assert again.counts == {"qualified": 3}


def test_progress_file_ignores_a_torn_line(tmp_path):
    path = tmp_path / "p"
    path.write_text("P1\tqualified\nP2\tnot-found\nP3", encoding="utf-8")
    progress = Progress(path)
    assert progress.done == {"P1": "qualified", "P2": "not-found"}
    progress.close(completed=False)


def test_rate_limiter_spaces_requests():
    import time

    limiter = RateLimiter(50)
    start = time.monotonic()
    for _ in range(6):
        limiter.acquire()
    assert time.monotonic() - start >= 0.09


def test_ctrl_c_keeps_the_progress_and_the_next_run_resumes(make_segur_runtime):
    from segur_ins.sandbox.persons import generate_persons

    runtime = make_segur_runtime(autoload=True, plugins=["ins"])
    persons = list(generate_persons(30, seed=4))
    runtime.sandbox("insi").add_persons(persons)
    for person in persons:
        runtime.host.save_patient(Patient(id="", identity=Identity(traits=person.traits())))
    seen = []

    def interrupt(outcome):
        seen.append(outcome)
        if len(seen) == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        qualify_all(service(runtime), concurrency=2, on_done=interrupt)
    # every INSi call made before the interruption is journaled, answers in flight too
    searches = [r for r in runtime.journal.records() if r.action == "insi.search"]
    journaled = sum(r.details.get("requests", 1) for r in searches)
    assert journaled == runtime.sandbox("insi").service.requests
    done = Progress(progress_path(runtime.data_dir))
    assert len(done.done) >= 5
    done.close(completed=False)
    summary = qualify_all(service(runtime), concurrency=2)
    assert summary.completed
    statuses = {p.identity.status for p in runtime.host.find_patients()}
    assert statuses == {IdentityStatus.RECOVERED}
    interrupted = [r for r in runtime.journal.records() if r.action == "ins.qualify-all"]
    assert [r.outcome for r in interrupted][:2] == ["ok", "interrupted"]
