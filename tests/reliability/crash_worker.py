"""An outbox worker process for the crash test: delivers an outbox file's items to an
HTTP receiver (one POST per item, the key in ``Idempotency-Key``) until none is left.

Usage: ``python crash_worker.py OUTBOX URL [LEASE_SECONDS [TENANT [TIMEOUT]]]``: OUTBOX a
SQLite file or a ``postgresql://`` URL (then TENANT, the pharmacy); exits 0 when idle, 1
when it timed out.
"""

from __future__ import annotations

import faulthandler
import os
import sys
from pathlib import Path

import httpx

from segur_core.outbox import Outbox

KEY_HEADER = "Idempotency-Key"


def main(argv: list[str]) -> int:
    location = argv[1] if argv[1].startswith("postgresql://") else Path(argv[1])
    url = argv[2]
    lease = float(argv[3]) if len(argv) > 3 else 1.0
    tenant = argv[4] if len(argv) > 4 and isinstance(location, str) else None
    timeout = float(argv[5]) if len(argv) > 5 else 15.0
    faulthandler.dump_traceback_later(timeout + 10, exit=True)  # a stuck worker says where
    with httpx.Client(timeout=30.0) as client:

        def send(item) -> str:
            response = client.post(url, content=item.payload, headers={KEY_HEADER: item.key})
            response.raise_for_status()
            return response.text

        with Outbox(
            location, senders={"http": send}, lease=lease, batch_size=8, tenant=tenant
        ) as outbox:
            return 0 if outbox.run_until_idle(timeout=timeout) else 1


if __name__ == "__main__":
    code = main(sys.argv)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # the outbox is closed: no interpreter shutdown to wait for
