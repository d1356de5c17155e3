"""A real PostgreSQL server for tests, from the Debian packages, in a temporary directory.

PostgreSQL refuses to run as root, and the CI runs the tests as root: there the server
runs as the unprivileged ``postgres`` user the Debian package creates (``runuser``), its
data directory in a temporary directory that user owns. It listens on a Unix socket in
that directory and on a loopback port. One server per test session; each test gets its
own database, owned by a non-superuser role, with a second, non-owner role for the
application (row-level security applies to it, see docs/deployment.md).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

import attrs

__all__ = ["PostgresDatabase", "PostgresServer", "postgres_missing"]

#: The database roles every test database has.
OWNER_ROLE = "segur_owner"
APP_ROLE = "segur_app"
ADMIN_ROLE = "segur_admin"


def _bindir() -> Path | None:
    """The folder of ``initdb`` and ``pg_ctl``: on PATH, else Debian's newest version."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return versions[-1].parent if versions else None


def postgres_missing() -> str | None:
    """Why a PostgreSQL server cannot be started here, or ``None`` when it can."""
    try:
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError:
        return "psycopg and psycopg_pool are not installed (segur-core[postgresql])"
    if _bindir() is None:
        return "PostgreSQL is not installed (initdb, pg_ctl: apt-get install postgresql)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root without a 'postgres' user to run the server as"
        if shutil.which("runuser") is None:
            return "running as root without runuser to start the server as 'postgres'"
    return None


@attrs.frozen
class PostgresDatabase:
    """One database of the test server: URLs for its owner (who migrates), for the
    application's non-owner role, and for the server's superuser."""

    name: str
    owner_url: str = attrs.field(repr=False)
    app_url: str = attrs.field(repr=False)
    admin_url: str = attrs.field(repr=False)


class PostgresServer:
    """A PostgreSQL server in a temporary directory, started by :meth:`start`."""

    def __init__(self, *, settings: Sequence[str] = ("fsync=off",)) -> None:
        self._settings = tuple(settings)
        self._password = secrets.token_hex(16)
        self._names = itertools.count(1)
        self.root: Path | None = None
        self.port = 0
        self._options = ""

    # -- lifetime --------------------------------------------------------------------------

    def start(self) -> PostgresServer:
        missing = postgres_missing()
        if missing:
            raise RuntimeError(missing)
        bindir = _bindir()
        assert bindir is not None
        self.root = Path(tempfile.mkdtemp(prefix="segur-pg-"))
        data = self.root / "data"
        pwfile = self.root / "pwfile"
        pwfile.write_text(self._password + "\n", encoding="utf-8")
        if os.geteuid() == 0:  # the server's own user owns its directory
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
            os.chown(pwfile, user.pw_uid, user.pw_gid)
        self.port = _free_port()
        self._run(
            str(bindir / "initdb"), "-D", str(data), "-U", ADMIN_ROLE, "--pwfile", str(pwfile),
            "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
            "--locale=C", "--no-sync",
        )  # fmt: skip
        options = self._options = " ".join(
            [f"-p {self.port}", "-c listen_addresses=127.0.0.1",
             f"-c unix_socket_directories={self.root}", "-c max_connections=200",
             *(f"-c {setting}" for setting in self._settings)]
        )  # fmt: skip
        self._run(
            str(bindir / "pg_ctl"), "-D", str(data), "-l", str(self.root / "server.log"),
            "-o", options, "-w", "-t", "30", "start",
        )  # fmt: skip
        pwfile.unlink()
        self._admin(
            f"CREATE ROLE {OWNER_ROLE} LOGIN PASSWORD '{self._password}'",
            f"CREATE ROLE {APP_ROLE} LOGIN PASSWORD '{self._password}'",
        )
        return self

    def restart(self) -> None:
        """Stop the server at once (``immediate``: as a crash, or a failover, does) and
        start it again on the same port: every open connection breaks."""
        assert self.root is not None, "the server is not started"
        bindir = _bindir()
        assert bindir is not None
        data = str(self.root / "data")
        self._run(str(bindir / "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop")
        self._run(str(bindir / "pg_ctl"), "-D", data, "-l", str(self.root / "server.log"),
                  "-o", self._options, "-w", "-t", "30", "start")  # fmt: skip

    def stop(self) -> None:
        root, self.root = self.root, None
        if root is None:
            return
        bindir = _bindir()
        with contextlib.suppress(subprocess.CalledProcessError):
            assert bindir is not None
            self._run(str(bindir / "pg_ctl"), "-D", str(root / "data"), "-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- databases -------------------------------------------------------------------------

    def url(self, user: str, database: str) -> str:
        """A loopback URL for ``user`` on ``database``."""
        return f"postgresql://{user}:{quote(self._password)}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> PostgresDatabase:
        """A new, empty database owned by the owner role."""
        name = f"segur_{os.getpid()}_{next(self._names)}"
        self._admin(f"CREATE DATABASE {name} OWNER {OWNER_ROLE}")
        return PostgresDatabase(
            name=name,
            owner_url=self.url(OWNER_ROLE, name),
            app_url=self.url(APP_ROLE, name),
            admin_url=self.url(ADMIN_ROLE, name),
        )

    def drop_database(self, database: PostgresDatabase) -> None:
        self._admin(f"DROP DATABASE IF EXISTS {database.name} WITH (FORCE)")

    # -- internals -------------------------------------------------------------------------

    def _admin(self, *statements: str) -> None:
        import psycopg

        with psycopg.connect(self.url(ADMIN_ROLE, "postgres"), autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement.encode())

    def _run(self, *argv: str) -> None:
        command = list(argv)
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, cwd="/", check=False)
        if done.returncode != 0:
            log = ""
            if self.root is not None and (self.root / "server.log").exists():
                log = (self.root / "server.log").read_text(errors="replace")[-2000:]
            raise subprocess.CalledProcessError(
                done.returncode, command, done.stdout, f"{done.stderr}\n{log}"
            )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
