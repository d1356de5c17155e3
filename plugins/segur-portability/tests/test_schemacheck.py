"""The sections' schema check gives jsonschema's verdict and messages.

:class:`SchemaCheck` asks jsonschema-rs first and jsonschema only for a file the former
refuses: on every section's real data and on that data altered every which way (values
replaced by any JSON, Unicode digits and trailing line feeds where patterns look, keys
dropped and added), its answer must be exactly jsonschema's alone.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from segur_portability.patient import SchemaCheck

_JSON = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False),
        st.text(max_size=12),
        st.sampled_from(
            ["2024-01-02", "2024-01-02\n", "٢٠٢٤-01-02", "2024-1-2", "12", "1٢", "", "x" * 300]
        ),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def _jsonschema_alone(schema: dict[str, Any], data: bytes) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:200]}"
        for e in Draft202012Validator(schema).iter_errors(json.loads(data))
    ]


def _sections(runtime: Any, ids: list[str]) -> list[tuple[dict[str, Any], list[Any]]]:
    """Each section's schema with its records (real data from the test host)."""
    found = []
    for patient_id in [*ids, None]:
        for section in runtime.export_sections(patient_id, None):
            if section.schema is None:
                continue
            for name, data in section.files():
                if name.upper().endswith((".JSN", ".JSON")):
                    found.append((section.schema, json.loads(data)))
    return found


def _altered(draw: st.DrawFn, value: Any) -> Any:
    """``value`` with one place in it replaced, dropped or added to."""
    if isinstance(value, dict) and value and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(value)))
        action = draw(st.sampled_from(["into", "drop", "add"]))
        if action == "into":
            return {**value, key: _altered(draw, value[key])}
        if action == "drop":
            return {k: v for k, v in value.items() if k != key}
        return {**value, draw(st.text(max_size=6)): draw(_JSON)}
    if isinstance(value, list) and value and draw(st.booleans()):
        at = draw(st.integers(0, len(value) - 1))
        return [*value[:at], _altered(draw, value[at]), *value[at + 1 :]]
    return draw(_JSON)


def test_real_sections_and_altered_ones_get_the_verdict_of_jsonschema(source):
    runtime, ids = source
    cases = _sections(runtime, ids)
    assert len({id(schema) for schema, _ in cases}) >= 4  # several plugins' sections
    check = SchemaCheck()
    for schema, records in cases:
        assert check.errors(schema, json.dumps(records).encode()) == []

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def altered(data: st.DataObject) -> None:
        schema, records = data.draw(st.sampled_from(cases))
        changed = json.dumps(_altered(data.draw, records), ensure_ascii=False).encode()
        assert check.errors(schema, changed) == _jsonschema_alone(schema, changed)

    altered()


def test_a_file_that_is_not_json_is_said_so():
    assert SchemaCheck().errors({"type": "array"}, b"[1,")[0].startswith("not JSON:")
