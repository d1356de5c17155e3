"""A worker process of the ``--store`` benchmarks: opens its store, says ``ready``,
waits for ``go`` on stdin, does its share, prints what it did and exits.

Usage: ``python store_worker.py outbox LOCATION TENANT URL`` (drain the outbox to the
receiver at URL) or ``python store_worker.py journal LOCATION TENANT COUNT`` (append
COUNT records). LOCATION is a SQLite file or a ``postgresql://`` URL; TENANT is ``-``
for SQLite.
"""

from __future__ import annotations

import sys
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reliability"))

from receiver import KEY_HEADER

from segur_core.outbox import Outbox


def _ready() -> None:
    print("ready", flush=True)
    sys.stdin.readline()


def outbox(location: str | Path, tenant: str | None, url: str) -> int:
    with httpx.Client() as client:

        def send(item) -> str:
            response = client.post(url, content=item.payload, headers={KEY_HEADER: item.key})
            response.raise_for_status()
            return response.text

        with Outbox(location, senders={"http": send}, tenant=tenant, batch_size=16) as box:
            _ready()
            return box.deliver_due()


def journal(location: str | Path, tenant: str | None, count: int) -> int:
    if isinstance(location, str):
        from segur_core.journal.postgres import PostgresJournal

        opened = PostgresJournal(location, tenant=tenant, pseudonym_key=b"k" * 32)
    else:
        from segur_core.journal import Journal

        opened = Journal(location, pseudonym_key=b"k" * 32)
    with opened as log:
        _ready()
        for i in range(count):
            log.record("patient.read", patient_id=f"p{i % 50}", details={"i": i})
    return count


def main(argv: list[str]) -> None:
    mode, where, tenant, arg = argv[1:5]
    location: str | Path = where if where.startswith("postgresql://") else Path(where)
    who = None if tenant == "-" else tenant
    done = outbox(location, who, arg) if mode == "outbox" else journal(location, who, int(arg))
    print(done, flush=True)


if __name__ == "__main__":
    main(sys.argv)
