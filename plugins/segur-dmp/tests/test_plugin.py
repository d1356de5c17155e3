"""The plugin's hook implementations, description, recipients and doctor check."""

from __future__ import annotations

from segur_core.plugin import DoctorResult
from segur_core.testing.plugin import assert_hookimpls_match_specs


def test_hookimpls_match_specs():
    import segur_dmp.plugin

    assert_hookimpls_match_specs(segur_dmp.plugin)


def test_info_sandbox_doctor(make_segur_runtime):
    from segur_dmp import plugin

    info = plugin.segur_plugin_info()
    assert info.name == "dmp" and info.config_class.__name__ == "DMPConfig"
    runtime = make_segur_runtime(autoload=True, plugins=["ins", "dmp"])
    assert "dmp" in [s.name for s in runtime.sandboxes()]
    assert "dmp.iti41" in runtime.outbox_senders()
    (check,) = plugin.segur_doctor_checks(runtime)
    assert check.run()[0] is DoctorResult.OK
    bad = make_segur_runtime(
        autoload=True, plugins=["ins", "dmp"], config={"dmp": {"endpoint": "http://plain"}}
    )
    assert plugin.segur_doctor_checks(bad)[0].run()[0] is DoctorResult.ERROR


def test_the_export_section_respects_since(make_segur_runtime):
    import datetime as dt

    from segur_dmp.service import service_for

    from segur_core.testing.export import section_records

    runtime = make_segur_runtime(autoload=True, plugins=["ins", "dmp"])
    status = service_for(runtime).status
    status.set("1.2.3^doc-1", "P1", "in-dmp", delivery_id=7)
    [row] = section_records(runtime, "P1", ["dmp"])["dmp"]
    assert (row["document_id"], row["state"], row["delivery_id"]) == ("1.2.3^doc-1", "in-dmp", 7)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)
    assert section_records(runtime, "P1", ["dmp"], since=later) == {"dmp": []}
    assert section_records(runtime, "P2", ["dmp"]) == {"dmp": []}
