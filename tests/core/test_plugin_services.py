"""The workspace's plugins keep their services with the runtime (``Runtime.service``):
closing a runtime closes every one of them (INSi client, DMP HTTP client and status
database), before the sandboxes stop, and leaves no connection open."""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from segur_core.errors import RuntimeClosedError
from segur_core.model import BirthDate, IdentityTraits
from segur_core.wire.http import HttpCaller

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="counts sockets through /proc"
)


def connections_to(port: int) -> int:
    """Sockets of this process connected to ``port`` on this machine."""
    mine = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            mine.add(target[8:-1])
    count = 0
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        try:
            lines = Path(table).read_text(encoding="ascii").splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[2].rsplit(":", 1)[1], 16) == port and fields[9] in mine:
                count += 1
    return count


def found(obj: object, kind: type, depth: int = 2) -> list:
    """Objects of type ``kind`` held by ``obj`` (its attributes, theirs...)."""
    if isinstance(obj, kind):
        return [obj]
    if depth == 0 or not hasattr(obj, "__dict__"):
        return []
    return [hit for value in vars(obj).values() for hit in found(value, kind, depth - 1)]


def test_closing_a_runtime_closes_every_plugin_service(make_segur_runtime):
    from segur_dmp.service import service_for
    from segur_dmp.testing import KIT_INS
    from segur_example.plugin import counter
    from segur_ins.plugin import service

    runtime = make_segur_runtime(autoload=True, plugins=["ins", "dmp", "example"])
    ins, dmp, events = service(runtime), service_for(runtime), counter(runtime)
    traits = IdentityTraits("ADRUN", ("ZOE",), "F", BirthDate(1975, 12, 31))
    assert ins.client.lookup_traits(traits).found  # a real INSi call, connection kept alive
    assert dmp.client.test_access(KIT_INS).exists  # a real TD0.2 over mutual TLS
    assert dmp.status.get("no-such-document") is None
    (http,) = found(dmp.client, HttpCaller)
    (database,) = found(dmp.status, sqlite3.Connection)
    ports = {name: urlsplit(runtime.sandbox(name).url).port for name in ("insi", "dmp")}
    assert all(connections_to(port) >= 1 for port in ports.values()), ports

    runtime.close()

    assert http.is_closed
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        database.execute("select 1")
    assert {name: connections_to(port) for name, port in ports.items()} == {"insi": 0, "dmp": 0}
    assert events.total == 0
    for get in (service, service_for, counter):
        with pytest.raises(RuntimeClosedError):
            get(runtime)
