"""The default host: a named factory the runtime resolves when it starts, not an import."""

from __future__ import annotations

import logging

import pytest

from segur_core.errors import ConfigError, ConformanceError
from segur_core.host import DEFAULT_HOST_FACTORY, load_host_factory


def test_the_default_factory_is_the_reference_host_in_the_data_directory(tmp_path):
    from hostspecs.reference import ReferenceHost

    factory = load_host_factory(DEFAULT_HOST_FACTORY)
    host = factory(tmp_path)
    try:
        assert isinstance(host, ReferenceHost)
        assert (tmp_path / "host.sqlite").exists()
    finally:
        host.close()


def test_the_conformance_kit_and_the_runtime_share_one_factory():
    from hostspecs.conformance import plugin

    assert load_host_factory(plugin.DEFAULT_FACTORY) is load_host_factory(DEFAULT_HOST_FACTORY)


def test_the_runtime_owns_the_host_its_default_factory_made(make_segur_runtime):
    from hostspecs.reference import ReferenceHost

    runtime = make_segur_runtime()
    assert isinstance(runtime.host_object, ReferenceHost)
    assert (runtime.data_dir / "host.sqlite").exists()
    assert runtime.host.structure().finess


@pytest.mark.parametrize(
    ("reference", "problem"),
    [
        ("hostspecs.reference", "is not 'package.module:callable'"),
        (":reference_host", "is not 'package.module:callable'"),
        ("no_such_package_for_segur.hosts:make", "cannot be loaded: ModuleNotFoundError"),
        ("hostspecs.reference:no_such_factory", "cannot be loaded: AttributeError"),
        ("hostspecs.reference.schema:SCHEMA_VERSION", "is not callable"),
    ],
)
def test_a_wrong_factory_reference_is_a_config_error(reference, problem):
    with pytest.raises(ConfigError, match=problem) as caught:
        load_host_factory(reference)
    assert "package.module:callable" in (caught.value.hint or "")


def test_without_the_default_host_the_runtime_runs_hostless(
    make_segur_runtime, monkeypatch, caplog
):
    monkeypatch.setattr(
        "segur_core.runtime.DEFAULT_HOST_FACTORY", "no_such_package_for_segur.hosts:make"
    )
    with caplog.at_level(logging.WARNING, logger="segur.runtime"):
        runtime = make_segur_runtime()
    assert runtime.host_object is None
    assert "default host unavailable" in caplog.text
    with pytest.raises(ConformanceError, match="no host implements host_structure"):
        runtime.host.structure()


def test_a_factory_taking_config_gets_the_runtimes_and_the_others_do_not(tmp_path):
    from hostspecs.reference import ReferenceHost
    from segur_core.config import Config
    from segur_core.host import call_host_factory

    config = Config.from_dict({"host": {"url": "http://127.0.0.1:1/"}})
    seen = []

    def with_config(directory, config=None):
        seen.append(config)
        return ReferenceHost(directory / "a.sqlite")

    def without(directory):
        return ReferenceHost(directory / "b.sqlite")

    for factory in (with_config, without):
        call_host_factory(factory, tmp_path, config).close()
    call_host_factory(with_config, tmp_path).close()
    assert seen == [config, None]
