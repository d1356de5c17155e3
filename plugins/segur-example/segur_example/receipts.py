"""Receipts of validated documents, delivered through the outbox.

The pattern every plugin talking to a national service follows: the event handler only
*queues* the work (``runtime.outbox.enqueue``, idempotent on its key), and a sender
declared with ``segur_outbox_senders`` delivers it later, retried with backoff, never
twice. Here the "service" is a folder, so the example runs anywhere.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from segur_core.errors import PermanentDeliveryError, TransientDeliveryError

__all__ = ["KIND", "ReceiptSender", "receipt_key", "receipt_payload"]

#: The outbox delivery kind of a receipt.
KIND = "example.receipt"


def receipt_key(document: Any) -> str:
    """One receipt per document version: enqueueing it again adds nothing."""
    return f"{KIND}:{document.id}:v{document.version}"


def receipt_payload(document: Any) -> bytes:
    """What the receipt says: which document, which type, which version (no patient
    identifier: the outbox item carries the patient id separately)."""
    return json.dumps(
        {"document": document.id, "type_code": document.type_code, "version": document.version},
        sort_keys=True,
    ).encode()


class ReceiptSender:
    """Writes each receipt to ``directory/<key>.json``; writing the same key again
    leaves the same file, so a repeated delivery is harmless."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def __call__(self, item: Any) -> str:
        try:
            data = json.loads(item.payload)
        except ValueError:
            raise PermanentDeliveryError("not a receipt", service="example") from None
        name = item.key.replace(":", "_").replace("/", "_") + ".json"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp = self.directory / f".{name}.tmp"
            tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
            os.replace(tmp, self.directory / name)
        except OSError as exc:  # a full or unmounted disk may come back: retry later
            raise TransientDeliveryError(
                f"cannot write the receipt ({exc.strerror})", service="example"
            ) from None
        return name
