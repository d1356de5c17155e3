"""A plugin's part of the portability export (``segur_export_sections``), written once for
every plugin: the JSON Schema of a section with its titles in English and French (the
data dictionary is generated from them), a section's file (a JSON array of records,
``DATA/<NAME>.JSN``) and the journal records a section is derived from when the plugin
keeps nothing per patient.

``null`` is "not filled in" (:func:`prop` with ``nullable``), while ``false`` or an empty
list is a negative answer (checked: no, or none). A section whose data ``segur import``
does not restore into another host (a history kept in the archive only) says so with
``informational`` (:func:`array_of`): the dictionary tells the reader.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from segur_core.plugin import ExportSection

__all__ = [
    "DATETIME",
    "DELIVERY_STATES",
    "INFORMATIONAL",
    "JOURNAL_AT",
    "after",
    "array_of",
    "at",
    "data_name",
    "delivery_outcomes",
    "dumps",
    "integer",
    "journal_records",
    "obj",
    "prop",
    "section",
    "text",
]

_DIALECT = "https://json-schema.org/draft/2020-12/schema"
#: The schema keyword of a section ``segur import`` does not restore (kept in the archive).
INFORMATIONAL = "x-informational"
#: An ISO 8601 instant.
DATETIME: dict[str, Any] = {"type": "string", "format": "date-time"}
_SECTION = re.compile(r"^[a-z][a-z0-9]{0,7}$")


def prop(
    kind: str | dict[str, Any],
    en: str,
    fr: str,
    *,
    nullable: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    """One property: a JSON type (or a sub-schema), its English and French titles
    (``"title: description"`` splits at the first colon) and whether it may be
    ``null`` (not filled in)."""
    schema: dict[str, Any] = dict(kind) if isinstance(kind, dict) else {"type": kind}
    if nullable:
        if "type" in schema:
            schema["type"] = [schema["type"], "null"]
        else:
            schema = {"anyOf": [schema, {"type": "null"}]}
    title_en, _, desc_en = en.partition(": ")
    title_fr, _, desc_fr = fr.partition(": ")
    schema.update({"title": title_en, "x-title-fr": title_fr})
    if desc_en:
        schema["description"] = desc_en
    if desc_fr:
        schema["x-description-fr"] = desc_fr
    schema.update(extra)
    return schema


def obj(properties: dict[str, dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """An object with exactly these properties, all present (``null`` when not filled in)."""
    return {
        "type": "object",
        "properties": properties,
        "required": sorted(properties),
        "additionalProperties": False,
        **extra,
    }


def array_of(
    name: str, en: str, fr: str, item: dict[str, Any], *, informational: bool = False
) -> dict[str, Any]:
    """The schema of a section file: an array of ``item`` records. ``informational``: a
    history kept in the archive only, which ``segur import`` does not restore."""
    title_en, _, desc_en = en.partition(": ")
    title_fr, _, desc_fr = fr.partition(": ")
    schema: dict[str, Any] = {
        "$schema": _DIALECT,
        "$id": f"urn:segur:portability:{name}",
        "title": title_en,
        "x-title-fr": title_fr,
        "description": desc_en,
        "x-description-fr": desc_fr,
        "type": "array",
        "items": item,
    }
    if informational:
        schema[INFORMATIONAL] = True
    return schema


def data_name(section: str) -> str:
    """The 8.3 file of a section: ``DATA/<NAME>.JSN`` (a section name is 1-8 lower-case
    letters or digits, starting with a letter)."""
    if not _SECTION.match(section):
        raise ValueError(f"section name {section!r} is not 1-8 lower-case letters or digits")
    return f"{section.upper()}.JSN"


def dumps(records: Iterable[Any]) -> bytes:
    """A section file: a JSON array, UTF-8, one record per line (readable, diffable).
    ``records`` is read once (a stream: only each record's JSON is kept)."""
    lines = ",\n".join(json.dumps(r, ensure_ascii=False, sort_keys=True) for r in records)
    return f"[\n{lines}\n]\n".encode() if lines else b"[]\n"


def section(
    name: str, schema: dict[str, Any], records: Callable[[], Iterable[Any]]
) -> ExportSection:
    """The section ``name``: one file, ``records()`` (called when the export writes it)
    as a JSON array following ``schema``."""

    def files() -> Iterator[tuple[str, bytes]]:
        yield data_name(name), dumps(records())

    return ExportSection(name=name, description=schema["description"], files=files, schema=schema)


def after(moment: dt.datetime | None, since: dt.datetime | None) -> bool:
    """Whether ``moment`` is at or after ``since`` (always when ``since`` is ``None``;
    an undated value never is otherwise; a naive moment is UTC)."""
    if since is None:
        return True
    if moment is None:
        return False
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment >= since


def journal_records(
    runtime: Any, patient_id: str, since: dt.datetime | None, actions: tuple[str, ...]
) -> Callable[[], list[Any]]:
    """A function giving the patient's journal records (at or after ``since``) whose
    action starts with one of ``actions`` (``("ins.", "insi.")``), in the order they were
    written, read once however many sections ask: what a plugin that keeps nothing per
    patient exports, from the records it journals."""
    read: list[list[Any]] = []

    def records() -> list[Any]:
        if not read:
            found = runtime.journal.records(patient_id=patient_id, since=since)
            read.append([r for r in found if r.action.startswith(actions)])
        return read[0]

    return records


#: What became of an outbox delivery, from its ``outbox.attempt`` records.
DELIVERY_STATES = ("pending", "delivered", "dead")


#: The ``at`` of a record read from the journal (``null`` for a damaged one only).
JOURNAL_AT = prop(
    DATETIME,
    "At: null only for a damaged journal record",
    "Date: null seulement pour un enregistrement du journal endommagé",
    nullable=True,
)


def at(record: Any) -> str | None:
    """A journal record's ``at``, ISO 8601 (``None`` for a damaged record)."""
    return record.at.isoformat() if record.at is not None else None


def text(value: Any) -> str | None:
    """A journal detail that is a non-empty string, else ``None`` (not recorded)."""
    return value if isinstance(value, str) and value else None


def integer(value: Any, minimum: int | None = None) -> int | None:
    """A journal detail that is an integer (not a boolean) of at least ``minimum``, else
    ``None``."""
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    return value if minimum is None or value >= minimum else None


def delivery_outcomes(
    records: Iterable[Any], kind: str, *, by: str = "delivery"
) -> dict[Any, dict[str, Any]]:
    """``{delivery id: {"state", "attempts", "settled_at"}}`` of the outbox deliveries of
    ``kind`` among journal ``records`` (the outbox journals every attempt with the
    delivery's patient): ``pending`` until one settled it ``delivered`` or ``dead``.
    ``by="key"`` keys them by their idempotency key instead."""
    out: dict[Any, dict[str, Any]] = {}
    for record in records:
        if record.action != "outbox.attempt" or record.service != kind:
            continue
        ident = record.details.get(by)
        if not isinstance(ident, int | str) or isinstance(ident, bool):
            continue
        state = record.outcome if record.outcome in DELIVERY_STATES else "pending"
        at = record.at.isoformat() if record.at is not None and state != "pending" else None
        attempts = record.details.get("attempt")
        out[ident] = {
            "state": state,
            "attempts": attempts if isinstance(attempts, int) else None,
            "settled_at": at,
        }
    return out
