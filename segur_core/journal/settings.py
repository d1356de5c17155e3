"""The ``[segur.journal]`` table: where the checkpoint key lives, how often to checkpoint."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from segur_core.errors import ConfigError

if TYPE_CHECKING:
    from segur_core.journal.backend import JournalBackend

__all__ = ["JOURNAL_FILE", "JournalSettings", "open_journal"]

_KEYS = ("checkpoint_key", "checkpoint_interval")


@attrs.frozen
class JournalSettings:
    """``checkpoint_key``: the file of the key that signs checkpoints (default
    ``journal.key`` beside the journal; put it where the journal's editors cannot read
    it, see docs/reliability.md). ``checkpoint_interval``: at most one checkpoint every
    so many seconds (0, the default: after every commit group)."""

    checkpoint_key: Path | None = None
    checkpoint_interval: float = 0.0

    @classmethod
    def from_table(cls, table: Any, base: Path, key: str = "segur.journal") -> JournalSettings:
        """Read a ``[segur.journal]`` table (relative paths against ``base``);
        :class:`ConfigError` names the wrong key."""
        if not isinstance(table, Mapping):
            raise ConfigError(f"expected a table, got {type(table).__name__}", key=key)
        unknown = sorted(set(table) - set(_KEYS))
        if unknown:
            raise ConfigError("unknown key", key=f"{key}.{unknown[0]}", hint=f"known keys: {_KEYS}")
        path = table.get("checkpoint_key")
        if path is not None:
            if not isinstance(path, str) or not path or "\0" in path:
                raise ConfigError("expected a path (str)", key=f"{key}.checkpoint_key")
            path = Path(path).expanduser()
            path = path if path.is_absolute() else base / path
        interval = table.get("checkpoint_interval", 0.0)
        if isinstance(interval, bool) or not isinstance(interval, int | float):
            raise ConfigError(
                f"expected a number of seconds, got {type(interval).__name__}",
                key=f"{key}.checkpoint_interval",
            )
        if not math.isfinite(interval) or not 0 <= interval <= 86400:
            raise ConfigError(
                f"expected seconds between 0 and 86400, got {interval!r}",
                key=f"{key}.checkpoint_interval",
            )
        return cls(checkpoint_key=path, checkpoint_interval=float(interval))


#: The journal's file in the data directory.
JOURNAL_FILE = "journal.sqlite"


def open_journal(
    data_dir: Path,
    settings: JournalSettings | None = None,
    *,
    store: str | None = None,
    tenant: str | None = None,
) -> JournalBackend:
    """The installation's journal (``data_dir/journal.sqlite``) with its checkpoints as
    ``[segur.journal]`` configures them: what the runtime and ``segur audit`` open. With
    ``store``, a ``postgresql://`` URL, the pharmacy ``tenant``'s chain in that database
    (its pseudonym key still ``data_dir/pseudonym.key``)."""
    if store is not None:
        from segur_core.journal.postgres import PostgresJournal

        return PostgresJournal(store, tenant=tenant, key_dir=data_dir)
    from segur_core.journal.store import Journal

    settings = settings if settings is not None else JournalSettings()
    return Journal(
        data_dir / JOURNAL_FILE,
        checkpoint_key=settings.checkpoint_key,
        checkpoint_interval=settings.checkpoint_interval,
    )
