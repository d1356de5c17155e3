"""The request checks of ``segur serve``: every schema the service declares, compiled once;
the fast check (jsonschema-rs) never lets through what jsonschema refuses, and a refusal
is jsonschema's, whichever check saw it first."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segur_core.serve import ApiError, ServeSettings, create_app
from segur_core.serve.checks import Schema

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


def near(schema: Any) -> st.SearchStrategy[Any]:
    """Values shaped like ``schema`` (most of them valid), with some off by one rule."""
    if not isinstance(schema, dict):
        return JSON
    choices: list[st.SearchStrategy[Any]] = []
    if "enum" in schema:
        choices.append(st.sampled_from(schema["enum"]))
    if "const" in schema:
        choices.append(st.just(schema["const"]))
    kinds = schema.get("type", [])
    for kind in [kinds] if isinstance(kinds, str) else kinds:
        if kind == "object":
            properties = schema.get("properties", {})
            required = set(schema.get("required", ()))
            choices.append(
                st.fixed_dictionaries(
                    {k: near(v) for k, v in properties.items() if k in required},
                    optional={
                        **{k: near(v) for k, v in properties.items() if k not in required},
                        "unexpected": JSON,
                    },
                )
            )
        elif kind == "array":
            choices.append(st.lists(near(schema.get("items", {})), max_size=12))
        elif kind == "string":
            pattern = schema.get("pattern")
            text = st.from_regex(pattern) if pattern else st.text(max_size=120)
            choices.append(text | st.text(max_size=12))
        elif kind == "integer":
            choices.append(st.integers(min_value=-(2**70), max_value=2**70))
        elif kind == "boolean":
            choices.append(st.booleans())
        elif kind == "null":
            choices.append(st.none())
        elif kind == "number":
            choices.append(st.floats(allow_nan=False))
    choices.append(JSON)
    return st.one_of(choices)


@pytest.fixture(scope="module")
def declared(tmp_path_factory) -> list[dict[str, Any]]:
    """Every request schema the service declares in demo mode (bodies, query, path)."""
    from segur_core.runtime import create_runtime

    runtime = create_runtime(
        {"segur": {"mode": "demo", "plugins": ["ins", "vitale", "documents", "dmp"]},
         "documents": {"schematron": False}},
        data_dir=tmp_path_factory.mktemp("checks"),
    )  # fmt: skip
    try:
        app = create_app(runtime, ServeSettings(warm=False, outbox_worker=False))
        schemas = []
        for route in app.state.service.routes:
            if route.body is not None and route.body_media_type == "application/json":
                schemas.append(dict(route.body))
            schemas += [dict(s) for s in route.query.values()]
            schemas += [dict(route.param_schema(name)) for name in route.path_params]
        return schemas
    finally:
        runtime.close()


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_the_fast_check_never_accepts_what_jsonschema_refuses(declared, data) -> None:
    from jsonschema import Draft202012Validator

    schema = data.draw(st.sampled_from(declared))
    value = data.draw(near(schema))
    compiled = Schema(schema)
    assert compiled._fast is not None  # the serve extra installs jsonschema-rs
    try:
        fast = compiled._fast.is_valid(value)
    except Exception:
        fast = False  # not taken: the full check decides
    if fast:
        assert Draft202012Validator(schema).is_valid(value)


def test_a_refusal_names_the_rule_and_where_never_the_value() -> None:
    schema = Schema(
        {"type": "object", "properties": {"name": {"type": "string", "maxLength": 3}},
         "required": ["name"], "additionalProperties": False}
    )  # fmt: skip
    schema.check({"name": "abc"}, "body")
    with pytest.raises(ApiError) as caught:
        schema.check({"name": "DUPONT", "other": 1}, "body")
    problems = caught.value.details["problems"]
    assert caught.value.status == 422
    assert {p["at"] for p in problems} == {"body", "body.name"}
    assert "DUPONT" not in str(caught.value) + str(problems)
    with pytest.raises(ApiError):
        schema.check({"name": 2**80}, "body")  # beyond what the fast check takes
