"""segur_core.plugin.distribution_version: the version a plugin reports in PluginInfo."""

from __future__ import annotations

import uuid

from segur_core.plugin import distribution_version


def test_an_installed_distribution_reports_its_metadata_version(fake_dist):
    fake_dist("versioned", "X = 1\n", version="3.14.1")
    assert distribution_version("fake-versioned") == "3.14.1"


def test_a_source_tree_without_metadata_gets_the_default():
    missing = f"segur-not-installed-{uuid.uuid4().hex}"
    assert distribution_version(missing) == "0.0.0"
    assert distribution_version(missing, default="dev") == "dev"
