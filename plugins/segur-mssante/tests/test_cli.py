"""``segur mss ...`` through click's CliRunner: send, fetch, import, status, and no
traceback whatever the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from segur_mssante.sandbox.dovecot import app_credential

from segur_core.model import Identity, IdentityStatus, IdentityTraits, Patient
from segur_core.runtime import create_runtime
from segur_core.xdm import read_xdm

XDM_EXAMPLES = Path(__file__).resolve().parents[3].parent / "shared" / "xdm"
PLUGINS = '["ins", "documents", "mss"]'


def _config(tmp_path: Path, mss: str = "") -> Path:
    config = tmp_path / "segur.toml"
    data = tmp_path / "data"
    config.write_text(
        f'[segur]\ndata_dir = "{data}"\nmode = "test"\nplugins = {PLUGINS}\n'
        f"[documents]\nschematron = false\n{mss}",
        encoding="utf-8",
    )
    return config


def _segur(config: Path, *args: str, code: int = 0) -> str:
    from segur_core.cli import cli

    result = CliRunner().invoke(cli, ["--config", str(config), "mss", *args])
    assert result.exit_code == code, (result.output, result.exception)
    assert "Traceback" not in result.output
    return result.output


def _example() -> Path:
    path = XDM_EXAMPLES / "VAC-NOTE_2023.01.zip"
    if not path.is_file():
        pytest.skip(f"the official XDM examples are not in {XDM_EXAMPLES}")
    return path


def test_import_known_and_unknown_patient(tmp_path):
    config = _config(tmp_path)
    path = _example()
    out = json.loads(_segur(config, "import", str(path), "--json"))
    assert [d["outcome"] for d in out["documents"]] == ["unknown-patient"]
    assert "xsd" in out["documents"][0]["kit"]["checks"]  # checked against the kit all the same
    runtime = create_runtime(
        {"segur": {"mode": "test", "plugins": ["ins", "documents", "mss"]}},
        data_dir=tmp_path / "data",
        autoload=True,
    )
    try:
        traits = IdentityTraits(birth_name="X", first_names="Y", sex="F", birth_date="1979-03-05")
        identity = Identity(
            traits=traits, status=IdentityStatus.QUALIFIED, ins=read_xdm(path.read_bytes()).ins
        )
        runtime.host.save_patient(Patient(id="", identity=identity))
    finally:
        runtime.close()
    assert "(87273-9): imported (CDA test kit: " in _segur(config, "import", str(path))


def test_import_refuses_hostile_or_missing_files(tmp_path):
    config = _config(tmp_path)
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    assert "not a readable ZIP" in _segur(config, "import", str(bad), code=1)
    assert "cannot read" in _segur(config, "import", str(tmp_path / "absent.zip"), code=1)


def test_status_without_messages(tmp_path):
    config = _config(tmp_path)
    assert "no message sent" in _segur(config, "status")
    assert json.loads(_segur(config, "status", "--json")) == {"messages": []}
    assert "no message sent with" in _segur(config, "status", "x@y", code=1)


def test_send_fetch_status_through_the_sandbox(tmp_path, mail_sandbox, vaccination_cda):
    credential = app_credential(mail_sandbox.pki, "cli@pharmacie.mssante.test")
    table = (
        f'[mss]\nserver = "127.0.0.1"\nsmtp_port = {mail_sandbox.submission_port}\n'
        f'imap_port = {mail_sandbox.imap_port}\naddress = "cli@pharmacie.mssante.test"\n'
        f'[mss.tls]\nca_bundle = "{mail_sandbox.pki.ca_bundle}"\n'
        f'client_cert = "{credential.cert_path}"\nclient_key = "{credential.key_path}"\n'
    )
    config = _config(tmp_path, table)
    document = tmp_path / "note.xml"
    document.write_bytes(vaccination_cda)
    out = _segur(config, "send", str(document), "--to", "cli@pharmacie.mssante.test")
    message_id = out.split()[0]
    assert out.rstrip().endswith("delivered")
    assert f"{message_id} delivered" in _segur(config, "status")
    assert "delivered" in _segur(config, "status", message_id)
    (sent,) = json.loads(_segur(config, "status", message_id, "--json"))["messages"]
    again = json.loads(
        _segur(config, "send", str(document), "--to", "cli@pharmacie.mssante.test", "--json")
    )
    assert again["recipients"] == 1 and again["state"] == "delivered"
    assert again["message_id"] != message_id  # a new message, its own Message-ID
    assert sent["message_id"] == message_id and sent["state"] == "delivered"
    fetched = _segur(config, "fetch", "--json")
    rows = json.loads(fetched)["messages"]
    assert message_id in [r["message_id"] for r in rows]
    assert "no new message" in _segur(config, "fetch")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.one_of(
            st.sampled_from(["send", "fetch", "import", "status", "--json", "--to", "--pdf"]),
            st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12),
        ),
        max_size=4,
    )
)
def test_no_command_line_shows_a_traceback(tmp_path_factory, args):
    from segur_core.cli import cli

    config = _config(tmp_path_factory.mktemp("cli"))
    args = [a for a in args if a not in ("fetch", "send")]  # no network here
    result = CliRunner().invoke(cli, ["--config", str(config), "mss", *args])
    assert result.exit_code in (0, 1, 2), (args, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), args
