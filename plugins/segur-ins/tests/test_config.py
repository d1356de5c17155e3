"""The ``[ins]`` table: defaults, validation errors naming the key, production rules."""

from __future__ import annotations

import pytest
from segur_ins.config import SANDBOX, InsConfig
from segur_ins.connection import build_client

from segur_core.errors import ConfigError


def test_defaults_run_against_the_sandbox():
    config = InsConfig()
    assert config.endpoint == SANDBOX and config.auth_mode == "mtls"
    assert config.concurrency > 0 and config.rate_limit == 0


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ({"auth_mode": "password"}, "ins.auth_mode"),
        ({"timeout": 0}, "ins.timeout"),
        ({"concurrency": -1}, "ins.concurrency"),
        ({"retries": "three"}, "ins.retries"),
    ],
)
def test_bad_values_name_the_key(make_segur_runtime, table, key):
    with pytest.raises(ConfigError) as caught:
        make_segur_runtime(autoload=True, plugins=["ins"], config={"ins": table}, strict=True)
    assert key in str(caught.value)


def test_tls_keys_of_the_old_shape_name_their_new_place(make_segur_runtime):
    table = {"client_pkcs12": "/etc/segur/insi-auto.p12"}
    with pytest.raises(ConfigError) as caught:
        make_segur_runtime(autoload=True, plugins=["ins"], config={"ins": table}, strict=True)
    assert caught.value.key == "ins.client_pkcs12"
    assert "[ins.tls]" in str(caught.value) and "client_pkcs12" in caught.value.hint


def test_secret_password_is_never_shown(make_segur_runtime, monkeypatch):
    monkeypatch.setenv("INSI_TEST_PASSWORD", "hunter2")
    table = {"tls": {"client_password": "env:INSI_TEST_PASSWORD"}}
    runtime = make_segur_runtime(autoload=True, plugins=["ins"], config={"ins": table})
    config = runtime.plugin_config("ins")
    assert config.tls.client_password.reveal() == "hunter2"
    assert "hunter2" not in repr(config)


def test_production_refuses_the_sandbox_and_missing_certificates(make_segur_runtime):
    with pytest.raises(ConfigError) as caught:  # at start
        make_segur_runtime(autoload=True, plugins=["ins"], mode="production")
    assert caught.value.key == "ins.endpoint"
    runtime = make_segur_runtime(
        autoload=True, plugins=["ins"], mode="production",
        config={"ins": {"endpoint": "https://insi.example.invalid/lps"}},
    )  # fmt: skip
    with pytest.raises(ConfigError) as caught:  # and when a client is built all the same
        build_client(InsConfig(), runtime)
    assert caught.value.key == "ins.endpoint"
    with pytest.raises(ConfigError) as caught:
        build_client(InsConfig(endpoint="https://insi.example.invalid/lps"), runtime)
    assert caught.value.key == "ins.tls.ca_bundle"


def test_cps_mode_from_the_test_pki(make_segur_runtime):
    runtime = make_segur_runtime(
        autoload=True, plugins=["ins"], config={"ins": {"auth_mode": "cps"}}
    )
    from segur_ins.plugin import service

    from segur_core.model import BirthDate, IdentityTraits

    traits = IdentityTraits("ADRUN", ("ZOE",), "F", BirthDate(1975, 12, 31))
    assert service(runtime).client.lookup_traits(traits).found
    assert service(runtime).client.cps is not None


def test_doctor_checks(make_segur_runtime, tmp_path):
    from segur_ins.doctor import doctor_checks

    from segur_core.plugin import DoctorResult
    from segur_core.testing.pki import TestPKI

    runtime = make_segur_runtime(autoload=True, plugins=["ins"])
    results = {check.name: check.run() for check in doctor_checks(runtime)}
    assert results["ins: INSi configuration"][0] is DoctorResult.OK
    assert results["ins: INSi certificates"][0] is DoctorResult.SKIPPED

    pki = TestPKI.create(tmp_path / "pki")
    expired = pki.client("expired")
    table = {
        "endpoint": "https://insi.example.invalid/lps",
        "tls": {
            "ca_bundle": str(pki.ca_bundle),
            "client_pkcs12": str(expired.p12_path),
            "client_password": expired.p12_password,
        },
    }
    runtime = make_segur_runtime(autoload=True, plugins=["ins"], config={"ins": table})
    results = {check.name: check.run() for check in doctor_checks(runtime)}
    assert results["ins: INSi certificates"][0] is DoctorResult.ERROR
    assert results["ins: INSi configuration"][0] is DoctorResult.ERROR  # expired: refused
