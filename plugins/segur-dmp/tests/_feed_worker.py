"""A DMP feed worker in its own process (killed with SIGKILL by test_reliability)."""

import sys
import time

from segur_core.outbox import Outbox
from segur_core.runtime import create_runtime


def main() -> None:
    data_dir, url = sys.argv[1], sys.argv[2]
    runtime = create_runtime(
        {"segur": {"mode": "test", "plugins": ["ins", "dmp"]}, "dmp": {"endpoint": url}},
        data_dir=data_dir,
        autoload=True,
    )
    outbox = Outbox(
        runtime.data_dir / "outbox.sqlite",
        runtime=runtime,
        base_delay=0.05,
        max_delay=0.3,
        max_attempts=100,
        lease=1.0,
        poll_interval=0.05,
    )
    outbox.start_worker(threads=2)
    print("ready", flush=True)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
