"""Acknowledgements of sent messages: delivery status notifications (RFC 3464) and
read receipts (RFC 8098), read from received reports; and the per-recipient status of
each message sent, in the plugin's own SQLite file (``mss-status.sqlite``, 0600).
"""

from __future__ import annotations

import datetime as dt
import email
import sqlite3
import threading
from email.message import Message
from email.policy import compat32
from pathlib import Path

import attrs

from segur_core.files import private_file
from segur_core.model import hidden
from segur_mssante.errors import MessageError

__all__ = ["Ack", "RecipientStatus", "StatusStore", "read_acks"]

QUEUED, DELIVERED, FAILED, DELAYED, READ = "queued", "delivered", "failed", "delayed", "read"
_ACTIONS = {"delivered": DELIVERED, "relayed": DELIVERED, "expanded": DELIVERED,
            "failed": FAILED, "delayed": DELAYED}  # fmt: skip


@attrs.frozen
class Ack:
    """One acknowledgement: the sent message it is about, the recipient, the new state
    and its detail (the DSN status code or the MDN disposition)."""

    message_id: str
    recipient: str = attrs.field(repr=hidden)  # a Mon Espace Santé address holds the INS
    state: str
    detail: str = ""


def _address(field: str | None) -> str:
    """``rfc822; a@b`` → ``a@b``."""
    value = (field or "").partition(";")[2] or (field or "")
    return value.strip().strip("<>").lower()


def _bracket(value: str | None) -> str:
    value = (value or "").strip()
    return value if not value or value.startswith("<") else f"<{value}>"


def read_acks(data: bytes) -> list[Ack]:
    """The acknowledgements a ``multipart/report`` message carries (none for any other
    message); ``MessageError`` when it cannot be read."""
    try:
        message = email.message_from_bytes(data, policy=compat32)
        if message.get_content_type() != "multipart/report":
            return []
        original = _bracket(message.get("In-Reply-To"))
        acks: list[Ack] = []
        for part in message.walk():
            kind = part.get_content_type()
            if kind == "message/delivery-status":
                acks += _dsn(part, original)
            elif kind == "message/disposition-notification":
                acks += _mdn(part, original)
        return acks
    except MessageError:
        raise
    except Exception as exc:
        raise MessageError(f"malformed report ({type(exc).__name__})") from None


def _blocks(part: Message) -> list[Message]:
    payload = part.get_payload()
    if isinstance(payload, list):
        return [b for b in payload if isinstance(b, Message)]
    text = payload if isinstance(payload, str) else ""
    return [
        email.message_from_string(b + "\n")
        for b in text.replace("\r\n", "\n").split("\n\n")
        if b.strip()
    ]


def _dsn(part: Message, original: str) -> list[Ack]:
    blocks = _blocks(part)
    if not blocks:
        return []
    envid = _bracket(blocks[0].get("Original-Envelope-Id")) or original
    acks = []
    for block in blocks[1:]:
        action = (block.get("Action") or "").strip().lower()
        if action in _ACTIONS and envid:
            recipient = _address(block.get("Final-Recipient"))
            acks.append(
                Ack(envid, recipient, _ACTIONS[action], (block.get("Status") or "").strip())
            )
    return acks


def _mdn(part: Message, original: str) -> list[Ack]:
    blocks = _blocks(part)
    if not blocks:
        return []
    fields = blocks[0]
    message_id = _bracket(fields.get("Original-Message-ID")) or original
    disposition = " ".join((fields.get("Disposition") or "").split())
    if not message_id or not disposition:
        return []
    state = FAILED if "error" in disposition.lower() else READ
    return [Ack(message_id, _address(fields.get("Final-Recipient")), state, disposition)]


@attrs.frozen
class RecipientStatus:
    """Where a sent message stands for one recipient."""

    message_id: str
    recipient: str = attrs.field(repr=hidden)  # a Mon Espace Santé address holds the INS
    state: str
    detail: str = ""
    updated_at: str = ""


class StatusStore:
    """``mss-status.sqlite``: one row per (message sent, recipient)."""

    def __init__(self, path: Path) -> None:
        private_file(path)  # 0600: recipients include patients' addresses
        self._db = sqlite3.connect(
            str(path), check_same_thread=False, isolation_level=None, timeout=30
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS status (message_id TEXT NOT NULL, recipient TEXT NOT"
            " NULL, state TEXT NOT NULL, detail TEXT NOT NULL, updated_at TEXT NOT NULL,"
            " PRIMARY KEY (message_id, recipient))"
        )
        self._lock = threading.Lock()

    def queued(self, message_id: str, recipients: list[str]) -> None:
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        with self._lock:
            self._db.executemany(
                "INSERT OR IGNORE INTO status VALUES (?, ?, ?, '', ?)",
                [(message_id, r.lower(), QUEUED, now) for r in recipients],
            )

    def apply(self, ack: Ack) -> bool:
        """Record ``ack`` on a message this pharmacy sent; ``False`` for an unknown one.
        A read receipt or failure is never overwritten by a later delivery report."""
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        with self._lock:
            cursor = self._db.execute(
                "UPDATE status SET state = ?, detail = ?, updated_at = ? WHERE message_id = ?"
                " AND recipient = ? AND NOT (state IN ('read', 'failed') AND ? IN"
                " ('delivered', 'delayed'))",
                (ack.state, ack.detail, now, ack.message_id, ack.recipient, ack.state),
            )
            known = self._db.execute(
                "SELECT 1 FROM status WHERE message_id = ? AND recipient = ?",
                (ack.message_id, ack.recipient),
            ).fetchone()
        return cursor.rowcount > 0 or known is not None

    def of(self, message_id: str) -> list[RecipientStatus]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM status WHERE message_id = ? ORDER BY recipient", (message_id,)
            ).fetchall()
        return [RecipientStatus(*row) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
