"""The ``[example]`` table of segur.toml."""

from __future__ import annotations

from pathlib import Path

import attrs

__all__ = ["EVENTS", "ExampleConfig"]

#: The events the plugin can count (event hooks without their ``on_`` prefix).
EVENTS = (
    "card_read",
    "patient_identified",
    "prescription_scanned",
    "document_validated",
    "document_received",
    "delivery_settled",
)


def _known_events(instance: object, attribute: attrs.Attribute, value: tuple[str, ...]) -> None:
    unknown = sorted(set(value) - set(EVENTS))
    if unknown:
        raise ValueError(f"unknown events {unknown}; known: {', '.join(EVENTS)}")


@attrs.frozen
class ExampleConfig:
    """``events``: which events to count (default all); ``journal``: also write one
    audit record per event seen (default true); ``receipts``: for every validated
    document, deliver a receipt through the outbox into ``receipts_dir`` (relative paths
    are relative to segur.toml; default ``example-receipts`` in the data directory)."""

    events: tuple[str, ...] = attrs.field(default=EVENTS, validator=_known_events)
    journal: bool = True
    receipts: bool = True
    receipts_dir: Path | None = None
