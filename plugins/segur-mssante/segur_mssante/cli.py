"""``segur mss``: send and receive by MSSanté, and the MSSanté directory.

Subcommands are added by the modules that implement them (``segur mss directory``...).
"""

from __future__ import annotations

import click

__all__ = ["mss"]


@click.group("mss")
def mss() -> None:
    """MSSanté secure messaging: send, receive, directory."""
