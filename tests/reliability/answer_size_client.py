"""Child process of ``test_answer_size``: one call to a flooding server, then how much
the process's peak memory grew during the call.

Usage: ``python answer_size_client.py SERVICE URL PKI_DIR``; prints one JSON object
(``growth_mb``, ``error``, ``code``). A separate process, so that the peak (``ru_maxrss``)
is this call's alone.
"""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path


def main() -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from national_clients import CLIENTS

    from segur_core.sandbox.pki import TestPKI

    service, url, pki_dir = sys.argv[1:4]
    make, call = CLIENTS[service]
    client = make(TestPKI.load(pki_dir), url, timeout=120.0)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    error = code = None
    try:
        call(client)
    except Exception as exc:  # the outcome is reported, not raised
        error, code = type(exc).__name__, getattr(exc, "code", None)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"growth_mb": (after - before) / 1024, "error": error, "code": code}))


if __name__ == "__main__":
    main()
