"""Reference data (the CI-SIS kit) is found through configuration, an environment
variable or an installed data package, never relative to the current directory; and
``segur doctor`` creates no files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from segur_core import reference
from segur_core.errors import ConfigError
from segur_core.reference import CISIS_KIT, find_reference

BIN = Path(sys.executable).parent


def _fake_kit(folder: Path) -> Path:
    """A folder that looks like the kit to the finder (its marker file only)."""
    marker = folder / CISIS_KIT.marker
    marker.parent.mkdir(parents=True)
    marker.write_text("<xs:schema/>")
    return folder


def _environ(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEGUR_")}
    env.update(
        HOME=str(tmp_path / "home"), XDG_CACHE_HOME=str(tmp_path / "home" / "cache"), **extra
    )
    env["SEGUR_LANG"] = "en"
    (tmp_path / "home").mkdir(exist_ok=True)
    return env


def _doctor(cwd: Path, env: dict[str, str], *args: str) -> dict:
    done = subprocess.run(
        [str(BIN / "segur"), *args, "doctor", "--json"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stdout, done.stderr
    return json.loads(done.stdout)


def _check(report: dict, name: str) -> dict:
    return next(c for c in report["checks"] if c["check"] == name)


def test_doctor_in_an_empty_directory_leaves_it_empty(tmp_path):
    """Before, doctor created ./.segur (the journal, the host and health databases)."""
    cwd = tmp_path / "pharmacy"
    cwd.mkdir()
    env = _environ(tmp_path)
    report = _doctor(cwd, env)
    assert list(cwd.iterdir()) == []
    assert list((tmp_path / "home").iterdir()) == []
    data_dir = _check(report, "data directory")
    assert data_dir["result"] == "ok" and "does not exist yet" in data_dir["message"]
    assert _check(report, "journal")["result"] == "skipped"
    assert {c["plugin"] for c in report["checks"] if c["check"] == "plugin"} >= {"ins", "dmp"}


def test_doctor_from_another_directory_finds_the_kit_by_environment_and_configuration(
    tmp_path,
):
    elsewhere = tmp_path / "somewhere" / "else"
    elsewhere.mkdir(parents=True)
    by_env = _fake_kit(tmp_path / "kit-by-env")
    narrowed = {"SEGUR_PLUGINS": "documents"}  # the plugin that reads the kit
    report = _doctor(elsewhere, _environ(tmp_path, SEGUR_CISIS_KIT=str(by_env), **narrowed))
    kit = _check(report, "documents: CI-SIS kit")
    assert kit["result"] == "ok" and str(by_env) in kit["message"]

    by_config = _fake_kit(tmp_path / "kit-by-config")
    config = tmp_path / "conf" / "segur.toml"
    config.parent.mkdir()
    config.write_text(f'[documents]\nkit_path = "{by_config}"\n')
    env = _environ(tmp_path, SEGUR_CISIS_KIT=str(by_env), **narrowed)  # the setting wins
    report = _doctor(elsewhere, env, "--config", str(config))
    kit = _check(report, "documents: CI-SIS kit")
    assert kit["result"] == "ok" and str(by_config) in kit["message"]
    assert list(elsewhere.iterdir()) == []


def test_a_configured_path_without_the_kit_is_an_error_naming_the_setting(tmp_path):
    with pytest.raises(ConfigError) as caught:
        find_reference(CISIS_KIT, tmp_path, key="documents.kit_path")
    assert caught.value.key == "documents.kit_path"
    assert find_reference(CISIS_KIT, _fake_kit(tmp_path / "kit")) == (tmp_path / "kit").resolve()


def test_an_environment_variable_without_the_kit_finds_none(tmp_path):
    assert find_reference(CISIS_KIT, environ={CISIS_KIT.env: str(tmp_path)}) is None
    kit = _fake_kit(tmp_path / "kit")
    assert find_reference(CISIS_KIT, environ={CISIS_KIT.env: str(kit)}) == kit.resolve()


def _data_package(site: Path, name: str, value: str) -> None:
    dist = site / f"{name}-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[segur.reference]\ncisis-kit = {value}\n")


def test_an_installed_data_package_provides_the_kit(tmp_path, monkeypatch):
    site = tmp_path / "site"
    package = _fake_kit(site / "segur_cisis_fixture")
    (package / "__init__.py").write_text("")
    _data_package(site, "segur_cisis_fixture", "segur_cisis_fixture")
    monkeypatch.syspath_prepend(str(site))
    assert find_reference(CISIS_KIT, environ={}) == package.resolve()


def test_a_data_package_may_name_a_folder_elsewhere_and_must_hold_the_kit(tmp_path, monkeypatch):
    site = tmp_path / "site"
    (site / "kit_path_fixture").mkdir(parents=True)
    kit = _fake_kit(tmp_path / "kit")
    (site / "kit_path_fixture" / "__init__.py").write_text(f"KIT = {str(kit)!r}\n")
    _data_package(site, "kit_path_fixture", "kit_path_fixture:KIT")
    monkeypatch.syspath_prepend(str(site))
    assert find_reference(CISIS_KIT, environ={}) == kit.resolve()
    (kit / CISIS_KIT.marker).unlink()
    with pytest.raises(ConfigError, match="kit_path_fixture"):
        find_reference(CISIS_KIT, environ={})


def test_the_current_directory_is_never_searched(tmp_path, monkeypatch):
    """A kit at ./../shared/cisis (where the old finder also looked) is not used."""
    monkeypatch.setattr(reference, "_checkout", lambda _ref: None)  # an installed segur
    _fake_kit(tmp_path / "shared" / "cisis" / "TestContenuCDA-3-0")
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    assert find_reference(CISIS_KIT, environ={}) is None
