"""A received CDA whose volet no schematron covers says so: which volet rules did not run."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from lxml import etree
from segur_documents.checks.schematron import unchecked_volets
from segur_documents.cli import cda

EDISP = "eDISP-MED_2024.01.xml"
# the prescription volet: no schematron of it runs here (eDISP-MED's does)
UNCOVERED = "eP-MED-DM_2024.01_PosoStruct.xml"
UNCOVERED_VOLET = "1.2.250.1.213.1.1.1.39"


@pytest.mark.parametrize(
    ("name", "unchecked"),
    [
        ("VAC-NOTE_2023.01.xml", ()),  # its volet schematron runs
        ("VAC_2023.01.xml", ()),
        ("DOC_NON_STRUCTURE_CDA-R2-N1.xml", ()),  # N1: the transversal profiles only
        ("01_Modèles_contenus_CDA.xml", ()),
        (EDISP, ()),  # the volet eDISP-MED's schematron runs
        (UNCOVERED, None),
    ],
)
def test_unchecked_volets_of_the_kit_examples(kit_path, name, unchecked):
    root = etree.parse(str(kit_path / "ExemplesCDA" / name)).getroot()
    found = unchecked_volets(root)
    if unchecked is None:
        assert UNCOVERED_VOLET in found
    else:
        assert found == unchecked


@pytest.mark.slow
def test_received_cda_of_an_uncovered_volet_reports_the_skipped_volet(official_validator, kit_path):
    example = kit_path / "ExemplesCDA" / UNCOVERED
    report = official_validator.validate(example.read_bytes())
    (volet,) = [s for s in report.skipped if "volet" in s]
    assert UNCOVERED_VOLET in volet and "non vérifiées" in volet
    assert not report.official
    runner = CliRunner()
    result = runner.invoke(cda, ["validate", "--json", "--kit", str(kit_path), str(example)])
    (report,) = json.loads(result.output)["files"]
    assert report["file"] == str(example) and report["skipped"] == [volet]
    result = runner.invoke(cda, ["validate", "--kit", str(kit_path), str(example)])
    assert f"skipped: {volet}" in result.output
