"""The plugin's hook implementations, description, configuration and command group."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from segur_core.testing.plugin import assert_hookimpls_match_specs


def test_hookimpls_match_specs():
    import segur_mssante.plugin

    assert_hookimpls_match_specs(segur_mssante.plugin)


def test_info_and_config(make_segur_runtime):
    from segur_mssante import MSSConfig, plugin

    info = plugin.segur_plugin_info()
    assert info.name == "mss" and info.config_class.__name__ == "MSSConfig"
    runtime = make_segur_runtime(autoload=True, plugins=["mss"])
    config = runtime.plugin_config("mss")
    assert isinstance(config, MSSConfig) and config.server == "sandbox"


@pytest.mark.parametrize(
    "table", [{"mailbox_type": "XYZ"}, {"smtp_port": 0}, {"imap_port": 70000}, {"timeout": 0}]
)
def test_bad_config_is_refused(make_segur_runtime, table):
    from segur_core.errors import ConfigError

    with pytest.raises(ConfigError):
        make_segur_runtime(autoload=True, plugins=["mss"], config={"mss": table}).plugin_config(
            "mss"
        )


def test_command_group_is_registered():
    from segur_mssante.cli import mss

    result = CliRunner().invoke(mss, ["--help"])
    assert result.exit_code == 0 and "MSSanté" in result.output
