"""schemathesis against the service's own OpenAPI document: every operation, requests
generated from its declared schemas (valid and invalid), sent to the real service
over a real runtime (demo mode, its sandboxes); no answer is a server error, every answer
matches what the document declares (status, media type, schema), and a request that
does not match its schema is refused."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from segur_core.secrets import Secret
from segur_core.serve import ServeSettings, create_app
from segur_core.serve.server import running

from .conftest import TOKEN


def test_every_operation_answers_as_documented(make_segur_runtime):
    runtime = make_segur_runtime(
        config={"documents": {"schematron": False}},
        plugins=["ins", "vitale", "documents", "dmp"], mode="demo", autoload=True,
    )  # fmt: skip
    settings_ = ServeSettings(token=Secret(TOKEN), port=0, warm=False, outbox_worker=False)
    app = create_app(runtime, settings_)
    with running(app, settings_) as served:
        checked = _fuzz(schemathesis.openapi.from_url(served.url + "/v1/openapi.json"))
    document = app.state.service.openapi["paths"]
    operations = {f"{m.upper()} {p}" for p, ops in document.items() for m in ops}
    assert set(checked) == operations - {"GET /v1/openapi.json"}  # schemathesis's own source


def _fuzz(schema) -> list[str]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    checked = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(operation.as_strategy())
        @settings(
            max_examples=2, deadline=None, database=None,
            suppress_health_check=list(HealthCheck),
        )  # fmt: skip
        def answers_as_documented(case):
            # a request may match its schema and still be refused (422) for what only the
            # service knows: a NIR key, the RNIV rules, a date that does not exist
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        answers_as_documented()
        checked.append(operation.label)
    return checked
