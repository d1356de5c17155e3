"""What the clients of this package ask of a kept-alive socket before reusing it."""

from __future__ import annotations

import select

__all__ = ["readable_now"]


def readable_now(fd: int) -> bool:
    """Whether ``fd`` has something to read right now (data or its end): on a kept
    connection before a request is sent, the peer closed it or it is out of step, so it
    is not reused. ``poll`` where there is one (``select`` refuses descriptors over
    ``FD_SETSIZE``); a descriptor that cannot be polled counts as readable."""
    try:
        if not hasattr(select, "poll"):  # Windows
            return bool(select.select([fd], [], [], 0)[0])
        poll = select.poll()
        poll.register(fd, select.POLLIN)
        return bool(poll.poll(0))
    except (OSError, ValueError):
        return True
