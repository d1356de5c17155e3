"""Fixtures of the segur-documents tests.

The official schematrons take ~20 s to compile: one :class:`Validator` is shared by the
whole session, with its generated XSLTs cached in a folder that survives between runs
(``/tmp/pytest-of-<user>/segur-cisis-cache``), and compiled executables kept in memory.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from segur_documents.models import DocumentContext
from segur_documents.testing import sample_patient, sample_pharmacist, sample_structure

from segur_core.model import Patient, Practitioner, Structure

REPO = Path(__file__).resolve().parents[3]
KIT = REPO.parent / "shared" / "cisis" / "TestContenuCDA-3-0"


@pytest.fixture(scope="session")
def kit_path() -> Path:
    if not (KIT / "infrastructure" / "cda" / "CDA_extended.xsd").is_file():
        pytest.skip(f"the ANS CDA test kit is not at {KIT}")
    return KIT


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.getbasetemp().parent / "segur-cisis-cache"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def xsd_validator(kit_path: Path, cache_dir: Path):
    from segur_documents.checks import Validator

    return Validator(kit_path, cache_dir=cache_dir, schematron=False)


@pytest.fixture(scope="session")
def official_validator(kit_path: Path, cache_dir: Path):
    """Structure + XSD + official schematrons, compiled once for the session."""
    from segur_documents.checks import Validator, saxon_available

    if not saxon_available():
        pytest.skip("saxonche is not installed")
    validator = Validator(kit_path, cache_dir=cache_dir)
    validator.schematrons.warm_up()
    return validator


@pytest.fixture
def structure() -> Structure:
    return sample_structure()


@pytest.fixture
def pharmacist() -> Practitioner:
    return sample_pharmacist()


@pytest.fixture
def patient() -> Patient:
    return sample_patient(True)


@pytest.fixture
def unqualified_patient() -> Patient:
    return sample_patient(False)


@pytest.fixture
def context(structure, pharmacist, patient) -> DocumentContext:
    return DocumentContext(
        structure,
        pharmacist,
        patient,
        patient.identity.ins,
        effective_time=dt.datetime(2024, 10, 2, 9, 30, tzinfo=dt.UTC),
    )
