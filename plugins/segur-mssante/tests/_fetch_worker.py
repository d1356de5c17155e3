"""A fetch in its own process, killed with SIGKILL by test_crash right after it stored
a document and before it flagged the message (the worst moment)."""

import json
import os
import signal
import sys

from segur_mssante.service import service_for
from segur_mssante.transport import imaplib

from segur_core.runtime import create_runtime


def main() -> None:
    data_dir, config = sys.argv[1], json.loads(sys.argv[2])
    runtime = create_runtime(config, data_dir=data_dir, autoload=True)
    original = imaplib.IMAP4.uid

    def uid(self, command, *args):
        if command.upper() == "STORE":  # the document is stored; the flag is not set yet
            os.kill(os.getpid(), signal.SIGKILL)
        return original(self, command, *args)

    imaplib.IMAP4.uid = uid
    service_for(runtime).fetch()
    print("not killed", flush=True)


if __name__ == "__main__":
    main()
