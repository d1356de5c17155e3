"""A durability failure reaches the host: events re-raise a ``DurabilityError`` after the
other plugins ran, instead of containing it as a plugin failure."""

from __future__ import annotations

import pytest

from segur_core import hookimpl
from segur_core.errors import DurabilityError
from segur_core.model import BirthDate, HealthDocument, Identity, IdentityTraits, Patient
from segur_core.plugin import PluginInfo


class Named:
    def __init__(self, name: str, error: Exception | None = None) -> None:
        self.name = name
        self.error = error
        self.calls = 0

    @hookimpl
    def segur_plugin_info(self) -> PluginInfo:
        return PluginInfo(name=self.name, version="1.0")

    @hookimpl
    def on_document_validated(self, document, patient, runtime) -> None:
        self.calls += 1
        if self.error is not None:
            raise self.error


def document() -> tuple[HealthDocument, Patient]:
    traits = IdentityTraits(
        birth_name="X", first_names=("Y",), sex="F", birth_date=BirthDate(1975, 1, 1)
    )
    patient = Patient(id="p-1", identity=Identity(traits=traits))
    doc = HealthDocument(
        id="1.2.3.4", patient_id="p-1", type_code="87273-9", title="t", content=b"<x/>"
    )
    return doc, patient


def test_an_event_reraises_a_durability_failure_after_the_other_plugins(
    make_segur_runtime,
) -> None:
    full = DurabilityError("cannot queue: the disk is full", path="/data/outbox.sqlite")
    plugins = [Named("first", full), Named("second", KeyError("bug")), Named("third")]
    runtime = make_segur_runtime(extra_plugins=plugins)
    with pytest.raises(DurabilityError) as caught:
        runtime.document_validated(*document())
    assert caught.value is full
    assert [p.calls for p in plugins] == [1, 1, 1]  # the others still ran
    stats = {r.name: r.stats.failures for r in runtime.loaded_plugins()}
    assert stats["first"] == 0  # not the plugin's failure
    assert stats["second"] == 1  # an ordinary failure is still contained
