"""The host is configuration: ``--host``, ``SEGUR_HOST`` and ``[segur] host`` name the
LGO's own host factory for the runtime and every command; the SQLite reference host is
made only where nothing is named."""

from __future__ import annotations

import importlib
import json
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from segur_core.cli import cli
from segur_core.config import Config, load_config
from segur_core.errors import ConfigError
from segur_core.host import HOST_ENV, host_setting, is_host
from segur_core.model import Identity, Patient
from segur_core.runtime import create_runtime

#: An editor's host as small as the contract allows: patients in a JSON file of the
#: directory the factory is given (the editor's database), so that it survives between
#: two commands. ``make`` is the factory; ``not_a_host`` returns an object with no hook.
EDITOR_HOST = """
import json
from pathlib import Path

import attrs

from segur_core import convert
from segur_core.host import hostimpl
from segur_core.model import Answer, Patient, Practitioner, Structure

CLOSED = []


class EditorHost:
    def __init__(self, directory):
        self.file = Path(directory) / "editor-patients.json"
        data = json.loads(self.file.read_text()) if self.file.exists() else {}
        self.patients = {k: convert.structure(v, Patient) for k, v in data.items()}

    def close(self):
        CLOSED.append(self)

    @hostimpl
    def host_structure(self):
        return Structure(finess="999990021", name="PHARMACIE DE L'EDITEUR")

    @hostimpl
    def host_practitioner(self):
        return Practitioner("10999900003", "DURAND", "PAUL", specialty="G15_21/A")

    @hostimpl
    def host_get_patient(self, patient_id):
        return self.patients.get(patient_id)

    @hostimpl
    def host_find_patients(self, birth_name, first_name, birth_date, ins_matricule):
        return [p for _, p in sorted(self.patients.items())
                if birth_name is None
                or p.identity.traits.birth_name.casefold() == birth_name.casefold()]

    @hostimpl
    def host_save_patient(self, patient):
        if not patient.id:
            patient = attrs.evolve(patient, id=f"ED{len(self.patients) + 1:04d}")
        self.patients[patient.id] = patient
        self.file.write_text(json.dumps(
            {k: convert.unstructure(v) for k, v in self.patients.items()}))
        return patient

    @hostimpl
    def host_decide(self, question):
        return Answer(key=question.default or question.options[0].key)


def make(directory):
    return EditorHost(directory)


class NoSection(EditorHost):
    @hostimpl
    def host_practitioner(self):
        return attrs.evolve(super().host_practitioner(), specialty=None)


def no_section(directory):
    return NoSection(directory)


class Closable:
    def close(self):
        CLOSED.append(self)


def not_a_host(directory):
    return Closable()


def broken(directory):
    raise OSError("the LGO database is not reachable")
"""


@pytest.fixture
def editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The editor's host module, importable (as if installed); returns its name."""
    name = f"editor_host_{uuid.uuid4().hex[:8]}"
    site = tmp_path / "site"
    site.mkdir()
    (site / f"{name}.py").write_text(textwrap.dedent(EDITOR_HOST), encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delenv(HOST_ENV, raising=False)
    monkeypatch.delenv("SEGUR_CONFIG", raising=False)
    yield name
    sys.modules.pop(name, None)


def _config(tmp_path: Path, host: str | None = None, *extra: str) -> Path:
    path = tmp_path / "segur.toml"
    lines = ["[segur]", 'mode = "test"', f'data_dir = "{tmp_path / "data"}"', *extra]
    if host is not None:
        lines.append(f'host = "{host}"')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_the_segur_host_setting_makes_the_runtime_s_host(editor, tmp_path):
    config = load_config(_config(tmp_path, f"{editor}:make", 'plugins = ["example"]'))
    assert config.settings.host == f"{editor}:make"
    with create_runtime(config) as runtime:
        host = runtime.host_object
        assert type(host).__name__ == "EditorHost"
        assert runtime.host.structure().name == "PHARMACIE DE L'EDITEUR"
        assert not (runtime.data_dir / "host.sqlite").exists()  # no reference host made
    closed = sys.modules[editor].CLOSED
    assert closed == [host]  # closed with the runtime


def test_the_environment_wins_over_the_file_and_the_argument_over_both(
    editor, tmp_path, monkeypatch
):
    config = load_config(_config(tmp_path, "no_such_host_module_for_segur:make"))
    monkeypatch.setenv(HOST_ENV, f"{editor}:make")
    assert host_setting(config.settings.host) == (f"{editor}:make", HOST_ENV)
    with create_runtime(config, autoload=False) as runtime:
        assert type(runtime.host_object).__name__ == "EditorHost"
    monkeypatch.setenv(HOST_ENV, "no_such_host_module_for_segur:make")
    with create_runtime(config, host=f"{editor}:make", autoload=False) as runtime:
        assert type(runtime.host_object).__name__ == "EditorHost"
    monkeypatch.delenv(HOST_ENV)
    assert host_setting(None) == ("hostspecs.reference:reference_host", None)


@pytest.mark.parametrize(
    ("factory", "problem"),
    [
        ("no_such_host_module_for_segur:make", "cannot be loaded: ModuleNotFoundError"),
        ("{editor}:no_such_factory", "cannot be loaded: AttributeError"),
        ("{editor}:not_a_host", "returned Closable, which implements no hook"),
        ("{editor}:broken", "failed: OSError: the LGO database is not reachable"),
    ],
)
def test_a_named_factory_that_makes_no_host_is_a_config_error_naming_the_key(
    editor, tmp_path, monkeypatch, factory, problem
):
    factory = factory.format(editor=editor)
    config = load_config(_config(tmp_path, factory))
    with pytest.raises(ConfigError, match=problem) as caught:
        create_runtime(config, autoload=False)
    assert caught.value.key == "segur.host"
    monkeypatch.setenv(HOST_ENV, factory)
    with pytest.raises(ConfigError, match=problem) as caught:
        create_runtime(Config.default(), data_dir=tmp_path / "d", autoload=False)
    assert caught.value.key == HOST_ENV
    assert not (tmp_path / "d" / "host.sqlite").exists()
    if factory.endswith(":not_a_host"):
        assert [type(o).__name__ for o in sys.modules[editor].CLOSED] == ["Closable"] * 2


@pytest.mark.parametrize("value", ["42", '"hostspecs.reference"', '":make"', '"a: "'])
def test_a_malformed_host_setting_is_refused_when_read(tmp_path, value):
    path = tmp_path / "segur.toml"
    path.write_text(f"[segur]\nhost = {value}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.key == "segur.host"


def test_is_host_wants_one_hook_of_the_contract():
    from hostspecs.reference import ReferenceHost

    assert is_host(ReferenceHost) and not is_host(object()) and not is_host(None)


def test_the_cli_qualifies_a_patient_of_the_editor_s_host(editor, tmp_path, monkeypatch):
    """Before ``--host``, the CLI made ``data_dir/host.sqlite`` and answered "no patient"."""
    from segur_ins.sandbox.persons import CNDA_PERSONS

    path = _config(tmp_path, None, 'plugins = ["ins"]')
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    module = importlib.import_module(editor)
    host = module.make(data_dir)
    patient = host.host_save_patient(Patient("", Identity(traits=CNDA_PERSONS[4].traits())))
    base = ["--config", str(path)]

    unnamed = CliRunner().invoke(cli, [*base, "ins", "qualify", patient.id, "--json"])
    assert unnamed.exit_code != 0 and "no patient" in unnamed.output

    monkeypatch.setenv(HOST_ENV, f"{editor}:make")
    named = CliRunner().invoke(cli, [*base, "ins", "qualify", patient.id, "--json"])
    assert named.exit_code == 0, named.output
    assert json.loads(named.output)["status"] == "RECUP"
    monkeypatch.delenv(HOST_ENV)
    verified = CliRunner().invoke(
        cli, [*base, "--host", f"{editor}:make", "ins", "verify", patient.id, "--json"]
    )
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.output)["result"] == "confirmed"
    assert module.make(data_dir).host_get_patient(patient.id).identity.status == "RECUP"


def test_the_cli_names_the_bad_host_setting_without_a_traceback(editor, tmp_path):
    path = _config(tmp_path, None, 'plugins = ["ins"]')
    result = CliRunner().invoke(
        cli, ["--config", str(path), "--host", f"{editor}:not_a_host", "ins", "qualify", "P1"]
    )
    assert result.exit_code == 1
    assert "host: host factory" in result.output and "implements no hook" in result.output
    assert "Traceback" not in result.output


def test_config_show_says_which_host(editor, tmp_path, monkeypatch):
    path = _config(tmp_path, f"{editor}:make")
    shown = CliRunner().invoke(cli, ["--config", str(path), "config", "show", "--json"])
    assert json.loads(shown.output)["segur"]["host"] == f"{editor}:make"
    shown = CliRunner().invoke(
        cli, ["--config", str(path), "--host", "pkg.mod:fn", "config", "show", "--json"]
    )
    assert json.loads(shown.output)["segur"]["host"] == "pkg.mod:fn"


def test_the_demo_keeps_its_fictitious_patients_out_of_a_named_host(editor, monkeypatch):
    from segur_core.demo import run_demo

    monkeypatch.setenv(HOST_ENV, f"{editor}:make")
    monkeypatch.setenv("SEGUR_PLUGINS", "example")
    result = run_demo(Config.default())
    assert result.steps[0]["status"] == "ok", result.steps[0]
    assert editor not in sys.modules  # the editor's host was never even imported


def test_doctor_names_the_host_and_what_the_plugins_lack_from_it(editor, tmp_path):
    path = _config(tmp_path, f"{editor}:make", 'plugins = ["dmp"]')
    base = ["--config", str(path), "doctor", "--json"]
    checks = json.loads(CliRunner().invoke(cli, base).output)["checks"]
    (host,) = [c for c in checks if c["check"] == "host"]
    assert (host["result"], host["message"]) == ("ok", f"{editor}:make (segur.host)")
    result = CliRunner().invoke(cli, ["--host", f"{editor}:no_section", *base])
    (host,) = [c for c in json.loads(result.output)["checks"] if c["check"] == "host"]
    assert (host["result"], host["plugin"]) == ("error", "dmp")
    assert host["message"].startswith("host_practitioner: specialty None names no CNOP")
    assert result.exit_code != 0


@given(st.one_of(st.text(max_size=40), st.integers(), st.booleans(), st.lists(st.text())))
def test_any_host_setting_is_kept_as_written_or_refused_naming_the_key(value):
    try:
        config = Config.from_dict({"segur": {"host": value}})
    except ConfigError as exc:
        assert exc.key == "segur.host"
        return
    assert config.settings.host == value and ":" in value
