"""What a plugin's export sections hold for a patient, checked the way the portability
export checks them: one ``DATA/<NAME>.JSN`` file per section, following its schema."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from segur_core.exportdata import data_name

__all__ = ["section_records"]


def section_records(
    runtime: Any,
    patient_id: str | None,
    names: Iterable[str],
    since: dt.datetime | None = None,
) -> dict[str, list[Any]]:
    """``{section: records}`` of the sections ``names`` the runtime's plugins export for
    ``patient_id``; fails (``AssertionError``) when one is missing, holds another file
    than its own, or breaks its JSON Schema."""
    from jsonschema import Draft202012Validator

    wanted = set(names)
    out: dict[str, list[Any]] = {}
    for found in runtime.export_sections(patient_id, since):
        if found.name not in wanted:
            continue
        [(name, data)] = list(found.files())
        assert name == data_name(found.name), name
        records = json.loads(data)
        assert found.schema is not None, found.name
        problems = [e.message for e in Draft202012Validator(found.schema).iter_errors(records)]
        assert problems == [], (found.name, problems)
        out[found.name] = records
    assert set(out) == wanted, sorted(wanted - set(out))
    return out
