"""Generated schematron XSLTs: written once in the working copy, atomically, and reused."""

from __future__ import annotations

import pytest
from segur_documents.checks import Kit
from segur_documents.checks.schematron import PROFILE_SCHEMATRONS, SchematronRunner

pytestmark = pytest.mark.slow

MINI = b"""<schema xmlns="http://purl.oclc.org/dsdl/schematron" queryBinding="xslt2">
  <ns prefix="cda" uri="urn:hl7-org:v3"/>
  <pattern><rule context="cda:ClinicalDocument">
    <assert test="cda:title">le titre est obligatoire</assert>
  </rule></pattern>
</schema>"""


def test_generated_xslts_are_reused(official_validator):
    kit: Kit = official_validator.kit
    runner = SchematronRunner(kit)
    for sch in PROFILE_SCHEMATRONS:
        path = runner._generated_xslt(sch)
        assert path.is_file() and path.is_relative_to(kit.work)
        before = path.stat().st_mtime_ns
        assert runner._generated_xslt(sch) == path  # not generated again
        assert path.stat().st_mtime_ns == before
    assert not list(kit.root.rglob("*.svrl.xsl"))  # nothing written in the reference kit


def test_a_leftover_temporary_file_does_not_block_generation(official_validator, saxon_lock):
    kit: Kit = official_validator.kit
    sch = kit.work / "schematrons" / "segur-test-mini.sch"
    sch.write_bytes(MINI)
    target = sch.with_name(sch.name + ".svrl.xsl")
    target.unlink(missing_ok=True)
    # what another process generating the same schematron leaves under a shared name
    blocker = sch.with_name(target.name + ".tmp")
    blocker.mkdir(exist_ok=True)
    try:
        runner = SchematronRunner(kit)
        with saxon_lock:
            path = runner._generated_xslt(sch.name)
        assert path == target and b"le titre est obligatoire" in path.read_bytes()
        issues = runner.run(b'<ClinicalDocument xmlns="urn:hl7-org:v3"/>', (sch.name,))
        assert [i.message for i in issues] == ["le titre est obligatoire"]
        assert not list(sch.parent.glob(target.name + ".*.tmp"))
    finally:
        blocker.rmdir()
        for path in (sch, target):
            path.unlink(missing_ok=True)


@pytest.fixture
def saxon_lock():
    from segur_documents.checks import schematron

    return schematron._saxon_lock
