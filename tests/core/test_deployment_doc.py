"""docs/deployment.md runs as written: the one-pharmacy configuration loads; on the
session's PostgreSQL server the roles and database are created by its SQL, the tables by
its migration script, a pharmacy's configuration puts its patients, outbox and journal
there, its worker command runs, and its backup is dumped, restored and verified."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import psycopg
import pytest

from hostspecs.conformance import samples
from segur_core.config import Config
from segur_core.testing.postgres import ADMIN_ROLE, PostgresServer

DOC = Path(__file__).resolve().parents[2] / "docs" / "deployment.md"
BIN = Path(sys.executable).parent
TENANT = "999990013"


def blocks() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    return dict(re.findall(r'```\w+ title="([^"]+)"\n(.*?)```', text, flags=re.DOTALL))


def test_the_one_pharmacy_configuration_loads() -> None:
    config = Config.from_dict(tomllib.loads(blocks()["pharmacy/segur.toml"]))
    assert config.settings.store is None and config.mode == "production"


def _sh(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "SEGUR_CONFIG"}
    environment.update(env, PATH=f"{BIN}{os.pathsep}{environment['PATH']}")
    done = subprocess.run(
        ["sh", "-c", script], cwd=cwd, env=environment, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    return done


def test_the_group_deployment_runs(
    postgresql_server: PostgresServer, tmp_path: Path, make_segur_runtime
) -> None:
    doc = blocks()
    server = postgresql_server

    def url(role: str, database: str) -> str:
        return f"postgresql://{role}:change-me@127.0.0.1:{server.port}/{database}"

    with psycopg.connect(server.url(ADMIN_ROLE, "postgres"), autocommit=True) as admin:
        for statement in filter(str.strip, doc["roles.sql"].split(";")):
            try:
                admin.execute(statement.encode())
            except psycopg.errors.DuplicateObject:  # the test server's own group role
                assert "segur_app" in statement
    try:
        script = tmp_path / "migrate.py"
        script.write_text(doc["migrate.py"], encoding="utf-8")
        _sh(
            f"{sys.executable} migrate.py",
            tmp_path,
            {"SEGUR_OWNER_STORE": url("lgo_migrate", "segur")},
        )

        group = tmp_path / "group"
        group.mkdir()
        (group / f"{TENANT}.toml").write_text(doc[f"group/{TENANT}.toml"], encoding="utf-8")
        worker_env = {"SEGUR_STORE": url("lgo_worker", "segur")}
        os.environ.update(worker_env)
        try:
            config = tomllib.loads(doc[f"group/{TENANT}.toml"])
            config["segur"]["data_dir"] = str(group / TENANT)
            runtime = make_segur_runtime(config=config, mode="test")
            saved = runtime.host_object.host_save_patient(samples.patient())
            runtime.journal.record("patient.read", patient_id=saved.id)
            runtime.outbox.enqueue("nobody.sends.this", "doc-1", b"x", patient_id=saved.id)
        finally:
            del os.environ["SEGUR_STORE"]
        _sh(doc["worker.sh"], tmp_path, worker_env)  # nothing it sends is pending: idle

        with psycopg.connect(url("lgo_worker", "segur"), autocommit=True) as conn:
            conn.execute("SELECT set_config('app.tenant', %s, false)", (TENANT,))
            assert conn.execute("SELECT id FROM patient").fetchall() == [(saved.id,)]
            assert conn.execute("SELECT key FROM outbox_deliveries").fetchall() == [("doc-1",)]

        with psycopg.connect(server.url(ADMIN_ROLE, "postgres"), autocommit=True) as admin:
            admin.execute("CREATE DATABASE segur_restored OWNER lgo_migrate")
        _sh(
            doc["backup.sh"],
            tmp_path,
            {
                "SEGUR_BACKUP_STORE": url("lgo_backup", "segur"),
                "SEGUR_RESTORE_STORE": server.url(ADMIN_ROLE, "segur_restored"),
            },
        )
        restored = _sh(
            doc["verify.sh"], tmp_path, {"SEGUR_STORE": url("lgo_worker", "segur_restored")}
        )
        report = json.loads(restored.stdout)
        assert report["ok"] and report["count"] >= 1
        with psycopg.connect(url("lgo_worker", "segur_restored"), autocommit=True) as conn:
            conn.execute("SELECT set_config('app.tenant', %s, false)", ("999990021",))
            assert conn.execute("SELECT count(*) FROM patient").fetchone() == (0,)  # RLS kept
    finally:
        with psycopg.connect(server.url(ADMIN_ROLE, "postgres"), autocommit=True) as admin:
            for name in ("segur", "segur_restored"):
                admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)".encode())
            for role in ("lgo_migrate", "lgo_worker", "lgo_backup"):
                admin.execute(f"DROP ROLE IF EXISTS {role}".encode())


pytestmark = pytest.mark.timeout(300)
