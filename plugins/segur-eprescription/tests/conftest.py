"""Fixtures of the segur-eprescription tests: the kit's eP-MED-DM examples (skipped with
the reason when ``../shared`` is absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

KIT = Path(__file__).resolve().parents[3].parent / "shared" / "cisis" / "TestContenuCDA-3-0"
EXAMPLES = KIT / "ExemplesCDA"
EP_MED_DM = ("eP-MED-DM_2024.01_PosoNonStruct.xml", "eP-MED-DM_2024.01_PosoStruct.xml")


def kit_example(name: str) -> bytes:
    path = EXAMPLES / name
    if not path.is_file():
        pytest.skip(f"the CI-SIS kit example {name} is not in ../shared")
    return path.read_bytes()


@pytest.fixture(params=EP_MED_DM)
def ep_med_dm(request: pytest.FixtureRequest) -> bytes:
    return kit_example(request.param)


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory):
    from segur_core.testing.pki import TestPKI

    return TestPKI.create(tmp_path_factory.mktemp("erx-pki"))


@pytest.fixture
def sandbox(pki):
    from segur_eprescription.sandbox import EPrescriptionSandbox

    box = EPrescriptionSandbox(pki=pki)
    box.start()
    yield box
    box.stop()


@pytest.fixture
def gateway(sandbox):
    from segur_eprescription.client import HttpsGateway

    made = HttpsGateway(sandbox.url, ssl_context=sandbox.client_context(), timeout=5.0)
    yield made
    made.close()
